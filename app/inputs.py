"""What the app accepts as text, wherever text comes in: forms, query strings, API bodies, CSV files.

C0 control characters (U+0000 to U+001F) other than tab and line breaks are refused, and line
breaks only in multi-line fields. They have no business in a record: NUL is refused by
PostgreSQL outright, the others are illegal in XML (so in every XLSX and DOCX export) and
invisible on the page. The refusal names the field; nothing is stored.
"""

import json
import re
from datetime import date

from flask import abort, request
from flask_wtf import FlaskForm
from wtforms import widgets

from app.dbtypes import MAX_ID

#: Any C0 control character except tab, line feed and carriage return (browsers send a
#: textarea's line breaks as CR LF).
_ALWAYS_REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SINGLE_LINE_REFUSED = re.compile(r"[\x00-\x08\x0a-\x1f]")


#: Every date the app takes in lies within these years: a typo such as 9999 would otherwise be kept
#: and break what counts days from it (the calendar feed, the clocks).
EARLIEST_YEAR, LATEST_YEAR = 1990, 2100
DATE_RANGE_MESSAGE = f"Enter a date between {EARLIEST_YEAR} and {LATEST_YEAR}."


def date_in_range(value: date) -> bool:
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR


def control_character(value: str, *, multiline: bool = False) -> str | None:
    """The first refused control character in ``value`` as "U+0001", or None."""
    match = (_ALWAYS_REFUSED if multiline else _SINGLE_LINE_REFUSED).search(value)
    return f"U+{ord(match.group()):04X}" if match else None


def control_character_message(name: str, value: str, *, multiline: bool = False) -> str | None:
    """The sentence refusing ``value`` for the field ``name``, or None when it is acceptable."""
    found = control_character(value, multiline=multiline)
    if found is None:
        return None
    if found in ("U+000A", "U+000D"):
        return f"{name} must be on one line: remove the line break."
    return (
        f"{name} contains a control character ({found}), which is not allowed. "
        "Remove it (it is often pasted in invisibly) and try again."
    )


def form_id(name: str) -> int:
    """The record id a form posts in the field ``name``; 0 (found nowhere) for anything that is not
    one: missing, not a whole number, or outside 1 to MAX_ID (SQLite takes no integer past 64 bits)."""
    value = request.form.get(name, "")
    if not value.isascii() or not value.isdigit():
        return 0
    number = int(value)
    return number if number <= MAX_ID else 0


def page_status(form, conflict=None) -> int:
    """The status of a page that shows ``form`` again: 409 when its save met a newer version of the
    record (``conflict``, from ``versioning.guard``), 400 when its entries were refused, else 200."""
    if conflict is not None:
        return 409
    return 400 if form.errors else 200


class TrackerForm(FlaskForm):
    """Every form of the site: WTForms' validation, then no control characters in any text field
    and no date outside 1990-2100."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in _text_fields(self):
            if isinstance(field.data, date) and not date_in_range(field.data):
                field.errors = [*field.errors, DATE_RANGE_MESSAGE]
                valid = False
                continue
            values = field.data if isinstance(field.data, (list, tuple)) else [field.data]
            multiline = isinstance(field.widget, widgets.TextArea)
            for value in values:
                message = isinstance(value, str) and control_character_message("This field", value, multiline=multiline)
                if message:
                    field.errors = [*field.errors, message]
                    valid = False
                    break
        return valid


def _text_fields(form):
    for field in form:
        if hasattr(field, "entries"):  # FieldList
            for entry in field.entries:
                yield from (_text_fields(entry.form) if hasattr(entry, "form") else [entry])
        elif hasattr(field, "form") and field.type == "FormField":
            yield from _text_fields(field.form)
        else:
            yield field


def refuse_control_characters_in_request() -> None:
    """Query strings (every key and value) and form keys; the forms check their own values."""
    for key, value in request.args.items(multi=True):
        message = control_character_message(f"The query parameter “{key[:40]}”", key + value)
        if message:
            abort(400, message)
    for key, value in request.form.items(multi=True):
        message = control_character_message("A form field's name", key)
        if message:
            abort(400, message)
        if "\x00" in value:  # PostgreSQL refuses NUL outright, whichever form reads the field
            abort(400, control_character_message(f"The field “{key[:40]}”", value))


def json_body(multiline: frozenset[str] = frozenset()):
    """The request's JSON body (None when it is not JSON); 400 naming the place of any refused
    control character (in a key too). ``multiline`` names the keys whose strings may hold line
    breaks. Malformed or absurdly nested JSON is a 400, not a RecursionError."""
    if not request.is_json:
        return None
    try:
        data = json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, RecursionError):
        abort(400, "The body is not valid JSON.")
    stack = [("the body", None, data)]
    while stack:  # iterative: a deeply nested body must not exhaust the stack here either
        place, key, value = stack.pop()
        if isinstance(value, dict):
            for k, v in value.items():
                message = control_character_message(f"A key in {place}", k)
                if message:
                    abort(400, message)
                stack.append((f"`{k[:40]}`", k, v))
        elif isinstance(value, list):
            stack.extend((place, key, v) for v in value)
        elif isinstance(value, str):
            message = control_character_message(place[:1].upper() + place[1:], value, multiline=key in multiline)
            if message:
                abort(400, message)
    return data
