"""The select fields' own option writer (app/fields.py) writes what WTForms writes."""

import re

import wtforms
from wtforms import Form
from wtforms.fields.choices import SelectChoice

from app.fields import SelectField, SelectMultipleField

CHOICES = [
    SelectChoice(value, label)
    for value, label in (
        ("", "Any line"),
        ("1", 'OIG-15-85 Rec. 1: Governance & "data" <standards>'),
        ("2", ""),
        ("3", "Données"),
        (True, "yes"),
    )
]
MANY = [SelectChoice(1, "a"), SelectChoice(2, "b & c")]


class Pair(Form):
    ours = SelectField(choices=CHOICES, default="1")
    theirs = wtforms.SelectField(choices=CHOICES, default="1")
    many = SelectMultipleField(choices=MANY, coerce=int, default=[2])
    many_theirs = wtforms.SelectMultipleField(choices=MANY, coerce=int, default=[2])
    extra = SelectField(choices=[SelectChoice("x", "X", render_kw={"disabled": True})])


def _same_order(html: str, name: str) -> str:
    """WTForms sorts attributes (``selected`` before ``value``); ours writes value first."""
    html = str(html).replace(f'id="{name}" ', 'id="F" ').replace(f'name="{name}"', 'name="F"')
    return re.sub(r'<option selected value="([^"]*)">', r'<option value="\1" selected>', html)


def test_options_are_written_as_wtforms_writes_them():
    form = Pair()
    assert _same_order(form.ours(class_="usa-select"), "ours") == _same_order(
        form.theirs(class_="usa-select"), "theirs"
    )
    assert _same_order(form.many(), "many") == _same_order(form.many_theirs(), "many_theirs")
    html = str(form.ours())
    assert "&amp; &#34;data&#34; &lt;standards&gt;" in html and '<option value="1" selected>' in html
    assert '<option value="2">2</option>' in html  # an empty label shows the value, as in WTForms
    assert '<option disabled value="x">X</option>' in form.extra()  # render_kw: WTForms writes it


def test_a_bad_value_is_still_refused():
    form = Pair(data={"ours": "9"})
    form.ours.process_formdata(["9"])
    assert not form.ours.validate(form)
