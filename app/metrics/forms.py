from datetime import date
from decimal import Decimal

from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.fields import SelectField
from app.inputs import TrackerForm
from app.metrics.models import (
    DATA_QUALITY_INPUTS,
    DATA_QUALITY_KINDS,
    DECISION_LABELS,
    DECISIONS,
    DIRECTION_LABELS,
    DIRECTIONS,
    FREQUENCIES,
    FREQUENCY_LABELS,
    METRIC_KIND_LABELS,
    METRIC_KINDS,
)
from app.metrics.periods import PERIOD_HINTS, parse_period, period_choices
from app.metrics.reading_rules import reading_period_problem
from app.metrics.values import data_quality_value, parse_components, parse_number
from app.timeutil import today
from app.versioning import VersionedForm


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _number(field, required: bool):
    text = (field.data or "").strip()
    if not text:
        if required:
            raise ValidationError("Enter a number.")
        return None
    try:
        return parse_number(text)
    except ValueError as error:
        raise ValidationError(str(error).capitalize() + ".") from None


class MetricForm(VersionedForm):
    line_of_effort_id = SelectField("Line of effort", coerce=int, validators=[DataRequired()])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    kind = SelectField("Kind", choices=_choices((k, METRIC_KIND_LABELS[k]) for k in METRIC_KINDS), default="outcome")
    unit = StringField("Unit", validators=[Length(max=60)])
    direction = SelectField(
        "Direction", choices=_choices((d, DIRECTION_LABELS[d]) for d in DIRECTIONS), default="higher"
    )
    baseline_value = StringField("Baseline value", validators=[Optional(), Length(max=40)])
    baseline_period = StringField("Baseline period", validators=[Optional(), Length(max=200)])
    target_value = StringField("Target value", validators=[Length(max=40)])
    target_on = DateField("Target date", validators=[Optional()])
    frequency = SelectField(
        "Collection frequency", choices=_choices((f, FREQUENCY_LABELS[f]) for f in FREQUENCIES), default="quarterly"
    )
    components = StringField("Components", default="ICE, CBP, USCIS", validators=[Length(max=400)])
    data_source = StringField("Data source", validators=[Optional(), Length(max=300)])
    collect_from = DateField("Collect readings from", default=today, validators=[DataRequired()])
    #: On edit: why the target changes (kept with the change; a manager reads it when approving).
    justification = TextAreaField("Why the target changes", validators=[Length(max=5000)])

    #: On edit, the stored target: a new one needs a justification.
    stored_target: tuple[Decimal, date | None] | None = None

    def validate_justification(self, field):
        if self.stored_target is None:
            return
        try:
            new = (_number(self.target_value, required=True), self.target_on.data)
        except ValidationError:
            return  # reported next to the target
        if new != self.stored_target and not (field.data or "").strip():
            raise ValidationError(
                "Explain why the target changes; after the plan is accepted a manager approves the change."
            )

    def validate_unit(self, field):
        if self.kind.data == "outcome" and not (field.data or "").strip():
            raise ValidationError("Name the unit, e.g. releases or % of referrals.")

    def validate_baseline_value(self, field):
        _number(field, required=False)

    def validate_target_value(self, field):
        _number(field, required=True)

    def validate_components(self, field):
        try:
            parse_components(field.data)
        except ValueError as error:
            raise ValidationError(str(error).capitalize() + ".") from None

    def definition(self) -> dict:
        """The validated fields, as the model stores them."""
        return {
            "line_of_effort_id": self.line_of_effort_id.data,
            "name": self.name.data.strip(),
            "description": (self.description.data or "").strip(),
            "kind": self.kind.data,
            "unit": (self.unit.data or "").strip(),
            "direction": self.direction.data,
            "baseline_value": _number(self.baseline_value, required=False),
            "baseline_period": (self.baseline_period.data or "").strip(),
            "target_value": _number(self.target_value, required=True),
            "target_on": self.target_on.data,
            "frequency": self.frequency.data,
            "components": ",".join(parse_components(self.components.data)),
            "data_source": (self.data_source.data or "").strip(),
            "collect_from": self.collect_from.data,
        }


class ReadingForm(VersionedForm):
    #: Chosen from the metric's due periods (``period_choices``); any text posted is still parsed
    #: and checked (``reading_rules.reading_period_problem``), the rule the CSV import and the API apply too.
    period = SelectField(
        "Period", validators=[DataRequired("Choose the period of the reading.")], validate_choice=False
    )
    component = SelectField("Component", validators=[DataRequired()])
    value = StringField("Value", validators=[Length(max=40)])
    numerator = StringField("Count", validators=[Length(max=40)])
    denominator = StringField("Out of", validators=[Length(max=40)])
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])

    def __init__(self, metric, *args, today=None, have=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.metric = metric
        self.today = today
        self.period.choices = (
            [SelectChoice("", "Choose a period")]
            + [
                SelectChoice(value, label)
                for value, label in period_choices(metric.frequency, metric.collect_from, today, set(have))
            ]
            if today
            else []
        )
        self.component.choices = _choices((c, c) for c in metric.component_list)
        self.period_hint = PERIOD_HINTS[metric.frequency]
        if metric.kind in DATA_QUALITY_KINDS:
            self.numerator.label.text, self.denominator.label.text = DATA_QUALITY_INPUTS[metric.kind]
        else:
            self.value.label.text = f"Value ({metric.unit})" if metric.unit else "Value"

    @property
    def is_data_quality(self) -> bool:
        return self.metric.kind in DATA_QUALITY_KINDS

    def validate_period(self, field):
        try:
            field.data = parse_period(self.metric.frequency, field.data)
        except ValueError as error:
            raise ValidationError(str(error).capitalize() + ".") from None
        if self.today is not None:
            problem = reading_period_problem(self.metric, field.data, self.today)
            if problem:
                raise ValidationError(problem)

    def validate_value(self, field):
        if not self.is_data_quality:
            _number(field, required=True)

    def validate_numerator(self, field):
        if self.is_data_quality:
            number = _number(field, required=True)
            if number < 0:
                raise ValidationError("A count cannot be negative.")

    def validate_denominator(self, field):
        if not self.is_data_quality:
            return
        denominator = _number(field, required=True)
        try:
            numerator = parse_number(self.numerator.data or "")
        except ValueError:
            return  # reported next to the first count
        try:
            data_quality_value(self.metric.kind, numerator, denominator)
        except ValueError as error:
            raise ValidationError(str(error).capitalize() + ".") from None


class ImportForm(TrackerForm):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file.")])

    def validate_file(self, field):
        name = (getattr(field.data, "filename", "") or "").lower()
        if not name.endswith((".csv", ".txt")):
            raise ValidationError("Choose a .csv file.")


class ActionForm(TrackerForm):
    decision = SelectField(
        "Decision",
        choices=_choices([("", "Choose a decision")] + [(d, DECISION_LABELS[d]) for d in DECISIONS]),
        validators=[DataRequired("Choose a decision.")],
    )
    owner_id = SelectField("Owner", coerce=int, validators=[DataRequired("Choose an owner.")])
    reason = TextAreaField("Reason", validators=[DataRequired("Give the reason for this decision."), Length(max=5000)])
    new_target = StringField("New target value", validators=[Length(max=40)])
    milestone_title = StringField("New milestone title", validators=[Length(max=300)])
    milestone_due = DateField("New milestone due date", validators=[Optional()])
    milestone_id = SelectField("Milestone to change", coerce=int, default=0)

    def __init__(self, owners, milestones, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id.choices = _choices([(0, "Choose an owner")] + [(u.id, u.name) for u in owners])
        self.milestone_id.choices = _choices([(0, "None")] + [(m.id, m.title) for m in milestones])

    def validate_new_target(self, field):
        if self.decision.data == "adjust_target":
            _number(field, required=True)

    def validate_milestone_title(self, field):
        if self.decision.data == "add_milestone" and not (field.data or "").strip():
            raise ValidationError("Give the new milestone a title.")

    def validate_milestone_due(self, field):
        if self.decision.data == "add_milestone":
            if field.data is None:
                raise ValidationError("Give the new milestone a due date.")
            if field.data < today():
                raise ValidationError("The due date cannot be in the past.")

    def validate_milestone_id(self, field):
        if self.decision.data == "change_milestone" and not field.data:
            raise ValidationError("Choose the milestone to change.")

    def new_target_value(self):
        return _number(self.new_target, required=True) if self.decision.data == "adjust_target" else None
