"""WTForms' select fields with a faster option writer; every form imports its selects from here.

WTForms writes each <option> through ``html_params()`` (sorting, escaping and formatting every
attribute), which made a long select (My work's filter of lines of effort) a visible share of its
page (bench/README.md, "Figures behind the code"). An option with no extra attributes is written
here directly, with the same escaping; options with ``render_kw`` or keyword arguments still go
through WTForms.
"""

from markupsafe import Markup, escape
from wtforms import fields, widgets


class Select(widgets.Select):
    @classmethod
    def _dispatch_render_option(cls):
        # WTForms inspects render_option's signature on every render to support the old one.
        return cls.render_option

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = " selected" if choice.selected else ""
        # Both values are escaped here (tests/unit/test_fields.py); Markup's own % formatting does
        # the same at two and a half times the cost.
        return Markup(f'<option value="{escape(value)}"{selected}>{escape(choice.label or choice.value)}</option>')  # nosec B704


class SelectField(fields.SelectField):
    widget = Select()


class SelectMultipleField(fields.SelectMultipleField):
    widget = Select(multiple=True)
