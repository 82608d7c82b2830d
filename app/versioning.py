"""No lost updates: one version check for every record people edit.

Each editable model carries a ``version`` column that SQLAlchemy increments on every UPDATE
(``version_id_col``), and every audit event about it stores the version the change produced
(``audit.record`` adds it). A form carries the version it was built from (``VersionedForm``);
the view saves inside ``guard(record, form, labels)``:

    with guard(line, form, LINE_LABELS) as edit:
        services.update_line(line, ...)
        db.session.commit()
    if edit.conflict: ... render the form again with status 409

A save made from another version, or racing another save, is refused by the database: the
UPDATE is made ``WHERE version = <the form's version>`` and matches no row
(``StaleDataError``). The transaction is rolled back, the
user's entries stay in the form, and ``edit.conflict`` lists what others changed since the
form was opened (read from the audit trail): field, what the user entered, what is stored now,
who changed it and when. The form then carries the current version, so a second, informed
save goes through.
"""

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from app.inputs import TrackerForm
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField

from app import audit
from app.extensions import db

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Shown for a field the form in hand does not carry.
NOT_ON_FORM = object()


def int_or_none(value):
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class VersionField(HiddenField):
    """Posted or nothing: a save that does not say which version it was made from is refused
    (a form built with ``obj=`` would otherwise take the stored version for it)."""

    def process_formdata(self, valuelist):
        self.data = valuelist[0] if valuelist else None


class VersionedForm(TrackerForm):
    #: The record's version the form was built from; a save from another version is refused.
    version = VersionField(filters=[int_or_none])

    def set_version(self, version: int) -> None:
        self.version.data = version
        self.version.raw_data = [str(version)]


class EditConflict(Exception):
    """The record changed since the form was built."""


@dataclass
class FieldChange:
    """One field someone else changed after the form was opened."""

    field: str
    label: str
    #: The value when the user opened the form, and the value stored now.
    before: object
    after: object
    by: str
    at: datetime
    #: What the user entered (``NOT_ON_FORM`` for a field of another form).
    yours: object = NOT_ON_FORM


@dataclass
class Edit:
    """What ``guard`` found: ``conflict`` is None when the save went through."""

    record: object
    form: VersionedForm
    labels: dict
    conflict: list[FieldChange] | None = field(default=None)


def changes_since(record, version: int, labels: dict, form=None, values=None, display=None) -> list[FieldChange]:
    """Each labelled field the audit trail shows changed on ``record`` after ``version``, oldest
    first; ``yours`` from ``values`` (field -> the user's entry, as shown) or the form's field of
    the same name. ``display`` (field -> function) turns a stored value into words (an office's
    id into its name)."""
    display = display or {}
    events = db.session.scalars(
        sa.select(audit.AuditEvent)
        .where(audit.AuditEvent.object_type == audit.object_type(record), audit.AuditEvent.object_id == record.id)
        .options(joinedload(audit.AuditEvent.actor))
        .order_by(audit.AuditEvent.id)
    ).all()
    changes: dict[str, FieldChange] = {}
    for event in events:
        if (event.after_data.get("version") or 0) <= (version or 0):
            continue
        by = event.actor.name if event.actor else "the system"
        for name, before, after in event.changes():
            if name not in labels:
                continue
            words = display.get(name, lambda value: value)
            if name in changes:  # changed twice: what it was when opened, what it is now
                changes[name].after, changes[name].by, changes[name].at = words(after), by, event.occurred_at
                continue
            yours = _yours(name, form, values)
            changes[name] = FieldChange(
                name,
                labels[name],
                words(before),
                words(after),
                by,
                event.occurred_at,
                yours if yours is NOT_ON_FORM else words(yours),
            )
    return list(changes.values())


def _yours(name: str, form, values) -> object:
    if values is not None and name in values:
        return values[name]
    if form is not None and name in form._fields:
        return form._fields[name].data
    return NOT_ON_FORM


def touch(record) -> None:
    """Write ``record``'s row (its version moves on) for a change kept elsewhere (a request
    awaiting approval): a save from a stale form is then refused like any other."""
    record.version = record.version + 1  # the UPDATE sets this, WHERE the version read


@contextmanager
def guard(record, form: VersionedForm, labels: dict, values=None, display=None):
    """Run the body (which changes ``record`` and commits) as of the version the form was built
    from, and turn a stale save into ``Edit.conflict`` instead of an error.

    The check is the database's: when the form's version is not the one loaded, the record is
    told it was loaded at the form's version, so the body's UPDATE (``... WHERE version = <the
    form's>``) matches no row and raises ``StaleDataError``, before anything is committed; a
    save racing another one past this point fails the same way. ``values``: the user's entries
    by audited field name, where the form's names differ; ``display``: see ``changes_since``.
    """
    edit = Edit(record, form, labels)
    opened = form.version.data
    if opened != record.version:
        set_committed_value(record, "version", opened if opened is not None else 0)
    try:
        yield edit
    except (EditConflict, StaleDataError):
        db.session.rollback()
        db.session.refresh(record)
        edit.conflict = changes_since(record, opened or 0, labels, form, values, display)
        # The user's entries stay in the form; the version moves on, so a second, informed
        # save may go through.
        form.set_version(record.version)


def shown(value) -> str:
    """A stored or entered value in words, for the conflict table."""
    if value is NOT_ON_FORM:
        return "(not on this form)"
    if value in (None, "", []):
        return "—"
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if isinstance(value, (date, datetime)):
        return f"{value:%b %-d, %Y}"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        return f"{date.fromisoformat(value):%b %-d, %Y}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
