from wtforms import DateField, IntegerField, StringField, SubmitField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app import versioning
from app.fields import SelectField, SelectMultipleField
from app.inputs import TrackerForm
from app.milestones.dependencies import find_cycle
from app.milestones.models import MILESTONE_STATUSES, MILESTONE_STATUS_LABELS, OPEN_MILESTONE_STATUSES
from app.recommendations.models import LINE_OF_EFFORT_KIND_LABELS, LINE_OF_EFFORT_KINDS
from app.timeutil import today

LONG_TEXT = 20_000


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def not_after_today(message: str):
    """A validator: the date is today or earlier (what was done cannot be dated in the future)."""

    def check(form, field):
        if field.data and field.data > today():
            raise ValidationError(message)

    return check


def done_on_field(label: str, *, missing: str, future: str) -> DateField:
    """The day something was done: required, today at the latest, today by default."""
    return DateField(label, validators=[InputRequired(message=missing), not_after_today(future)], default=today)


class PageForm(TrackerForm):
    """A form sharing its page with others: element ids get ``id_prefix`` so none repeats.

    Field names stay plain, so what is posted does not depend on the page it came from.
    """

    id_prefix = ""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        if self.id_prefix:
            for f in self:
                f.id = f"{self.id_prefix}-{f.name}"
                f.label.field_id = f.id


class VersionedForm(PageForm, versioning.VersionedForm):
    """A form of the milestone page that carries the milestone's version (app/versioning.py)."""


class LineOfEffortForm(versioning.VersionedForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    kind = SelectField(
        "Kind",
        choices=[SelectChoice(k, LINE_OF_EFFORT_KIND_LABELS[k]) for k in LINE_OF_EFFORT_KINDS],
        default="other",
        validators=[InputRequired("Choose the kind of line of effort.")],
    )
    description = TextAreaField("Description", validators=[Optional(), Length(max=LONG_TEXT)])
    objective = TextAreaField("Objective", validators=[Optional(), Length(max=LONG_TEXT)])
    lead_owner_id = SelectField("Lead owner", coerce=int)
    submit = SubmitField("Save line of effort")

    def values(self) -> dict:
        """What ``create_line`` and ``update_line`` take from the form."""
        return {
            "title": self.title.data,
            "kind": self.kind.data,
            "description": self.description.data or "",
            "objective": self.objective.data or "",
            "lead_owner_id": self.lead_owner_id.data or None,
        }


class MoveForm(TrackerForm):
    pass


class MilestoneForm(VersionedForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=LONG_TEXT)])
    owner_id = SelectField("Owner", coerce=int)
    office_id = SelectField("Responsible office", coerce=int)
    start_on = DateField("Start date", validators=[Optional()])
    due_on = DateField("Due date", validators=[InputRequired(message="Enter the due date.")])
    expected_evidence = TextAreaField("Evidence it expects", validators=[Optional(), Length(max=LONG_TEXT)])
    depends_on = SelectMultipleField("Depends on", coerce=int, validators=[Optional()])
    submit = SubmitField("Save milestone")

    def __init__(self, *args, milestone_id=None, current_due_on=None, edges=None, titles=None, **kw):
        super().__init__(*args, **kw)
        self.milestone_id = milestone_id
        #: On edit, the due date is changed through a due-date change, so it is not a field.
        self.current_due_on = current_due_on
        self.edges = edges or {}
        self.titles = titles or {}
        if current_due_on is not None:
            del self.due_on

    def validate_start_on(self, field):
        due = self.current_due_on
        if field.data and due and field.data > due:
            raise ValidationError(f"The start date must be on or before the due date ({due:%b %-d, %Y}).")

    def validate_due_on(self, field):
        if field.data and self.start_on.data and field.data < self.start_on.data:
            raise ValidationError("The due date cannot be before the start date.")

    def values(self) -> dict:
        """What ``create_milestone`` and ``update_milestone`` take from the form (a new milestone's
        due date apart: on edit, it moves through a due-date change)."""
        return {
            "title": self.title.data,
            "description": self.description.data or "",
            "owner_id": self.owner_id.data or None,
            "office_id": self.office_id.data,
            "start_on": self.start_on.data,
            "expected_evidence": self.expected_evidence.data or "",
            "depends_on_ids": self.depends_on.data,
        }

    def validate_depends_on(self, field):
        cycle = find_cycle(self.milestone_id, set(field.data or ()), self.edges)
        if cycle:
            names = " → ".join(self.titles.get(i, f"#{i}") for i in cycle)
            raise ValidationError(f"These dependencies would make a cycle: {names}.")


class UpdateForm(VersionedForm):
    id_prefix = "update"
    noted_on = done_on_field(
        "Date of the update", missing="Enter the date.", future="An update cannot be dated in the future."
    )
    status = SelectField("Status", choices=choices((s, MILESTONE_STATUS_LABELS[s]) for s in OPEN_MILESTONE_STATUSES))
    percent_complete = IntegerField(
        "Percent complete",
        validators=[
            InputRequired(message="Enter a percentage from 0 to 100."),
            NumberRange(min=0, max=100, message="Enter a percentage from 0 to 100."),
        ],
    )
    note = TextAreaField("Note", validators=[DataRequired(message="Write what happened."), Length(max=LONG_TEXT)])
    submit = SubmitField("Post update")


class CompleteForm(VersionedForm):
    id_prefix = "complete"
    completed_on = done_on_field(
        "Completion date", missing="Enter the completion date.", future="The completion date cannot be in the future."
    )
    note = TextAreaField(
        "Completion note", validators=[DataRequired(message="Say what was delivered."), Length(max=LONG_TEXT)]
    )
    submit = SubmitField("Mark completed")


class CancelForm(VersionedForm):
    id_prefix = "cancel"
    note = TextAreaField(
        "Reason for cancelling",
        validators=[DataRequired(message="Give the reason for cancelling."), Length(max=LONG_TEXT)],
    )
    submit = SubmitField("Cancel milestone")


class DueDateForm(VersionedForm):
    id_prefix = "due"
    new_due_on = DateField("New due date", validators=[InputRequired(message="Enter the new due date.")])
    justification = TextAreaField(
        "Justification", validators=[DataRequired(message="Explain why the due date changes."), Length(max=LONG_TEXT)]
    )
    submit = SubmitField("Change due date")

    def __init__(self, *args, start_on=None, current_due_on=None, **kw):
        super().__init__(*args, **kw)
        self.start_on = start_on
        self.current_due_on = current_due_on

    def validate_new_due_on(self, field):
        if field.data is None:
            return
        if self.start_on and field.data < self.start_on:
            raise ValidationError(f"The due date cannot be before the start date ({self.start_on:%b %-d, %Y}).")
        if field.data == self.current_due_on:
            raise ValidationError("This is already the due date.")


class DecisionForm(PageForm):
    id_prefix = "decision"
    reason = TextAreaField(
        "Reason for the decision",
        validators=[DataRequired(message="Give the reason for your decision."), Length(max=LONG_TEXT)],
    )
    approve = SubmitField("Approve")
    decline = SubmitField("Decline")


class MyWorkFilterForm(TrackerForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    line = SelectField("Line of effort", coerce=versioning.int_or_none, validate_choice=False)
    status = SelectField(
        "Status",
        choices=choices(
            [("", "Any status"), ("open", "Open (not started or in progress)")]
            + [(s, MILESTONE_STATUS_LABELS[s]) for s in MILESTONE_STATUSES]
        ),
        validate_choice=False,
    )
    office = SelectField("Office", coerce=versioning.int_or_none, validate_choice=False)
    submit = SubmitField("Filter")
