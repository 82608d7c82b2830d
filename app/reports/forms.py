from decimal import Decimal

import sqlalchemy as sa
from wtforms import BooleanField, DateField, DecimalField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.extensions import db
from app.fields import SelectField
from app.inputs import TrackerForm
from app.offices.models import Office
from app.recommendations.models import Recommendation
from app.reports.models import Report
from app.versioning import VersionedForm

MONEY_MAX = 10**14 - 1
#: Said by the form's check, and by the save when another request took the number in between.
NUMBER_TAKEN = "A report with this number already exists."


def recommendation_number_taken(report: Report, number: str) -> str:
    return f"Report {report.number} already has a recommendation {number}."


def _whole_cents(form, field):
    # Only an amount already in range: quantizing 1e309 to cents overflows the decimal context.
    if field.errors or field.data is None or not field.data.is_finite():
        return
    if field.data != field.data.quantize(Decimal("0.01")):
        raise ValidationError("Enter the amount in dollars and cents: at most two decimal places.")


def _money(label: str) -> DecimalField:
    """An optional dollar amount: 0 to MONEY_MAX, in whole cents (the column keeps two places;
    a third would be rounded away silently)."""
    return DecimalField(
        label,
        places=2,
        validators=[
            Optional(),
            NumberRange(min=0, max=MONEY_MAX, message="Enter an amount from 0 to 99,999,999,999,999."),
            _whole_cents,
        ],
    )


class ReportForm(TrackerForm):
    number = StringField("Report number", validators=[DataRequired(), Length(max=60)])
    title = StringField("Title", validators=[DataRequired(), Length(max=500)])
    issued_on = DateField("Issue date", validators=[DataRequired("Enter the issue date as YYYY-MM-DD.")])
    oig_office = StringField(
        "Issuing OIG office", default="DHS Office of Inspector General", validators=[DataRequired(), Length(max=200)]
    )
    agency = StringField("Audited agency or component", validators=[Optional(), Length(max=200)])
    summary = TextAreaField("Summary", validators=[Optional(), Length(max=20_000)])

    #: On edit, the report itself: its own number is not a duplicate.
    report_id: int | None = None

    def validate_number(self, field):
        field.data = field.data.strip()
        if db.session.scalar(
            sa.select(Report.id).where(
                sa.func.lower(Report.number) == field.data.lower(), Report.id != (self.report_id or 0)
            )
        ):
            raise ValidationError(NUMBER_TAKEN)

    def values(self) -> dict:
        """What ``create_report`` and ``correct_report`` take from the form."""
        return {
            "number": self.number.data,
            "title": self.title.data.strip(),
            "issued_on": self.issued_on.data,
            "oig_office": self.oig_office.data.strip(),
            "agency": (self.agency.data or "").strip(),
            "summary": (self.summary.data or "").strip(),
        }


class RecommendationForm(TrackerForm):
    number = StringField("Recommendation number", validators=[DataRequired(), Length(max=20)])
    text = TextAreaField("Recommendation text", validators=[DataRequired(), Length(max=20_000)])
    action_office_id = SelectField("Action office", coerce=int)
    priority = BooleanField("Priority recommendation")
    questioned_costs = _money("Questioned costs (USD)")
    unsupported_costs = _money("Of which unsupported costs (USD)")
    funds_put_to_better_use = _money("Funds put to better use (USD)")

    def __init__(self, report: Report, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.report = report
        offices = db.session.scalars(
            sa.select(Office).where(Office.kind == "agency").order_by(Office.name, Office.code)
        )
        self.action_office_id.choices = [SelectChoice(o.id, o.name) for o in offices]

    #: On edit, the recommendation itself: its own number is not a duplicate.
    recommendation_id: int | None = None

    def validate_number(self, field):
        field.data = field.data.strip()
        if db.session.scalar(
            sa.select(Recommendation.id).where(
                Recommendation.report_id == self.report.id,
                Recommendation.number == field.data,
                Recommendation.id != (self.recommendation_id or 0),
            )
        ):
            raise ValidationError(recommendation_number_taken(self.report, field.data))

    def validate_unsupported_costs(self, field):
        if field.data is None or field.errors or self.questioned_costs.errors:
            return  # refused already: "NaN" or "Infinity" cannot be compared
        if self.questioned_costs.data is None:
            raise ValidationError("Unsupported costs are part of the questioned costs: enter those too.")
        if field.data > self.questioned_costs.data:
            raise ValidationError("Unsupported costs cannot exceed the questioned costs.")

    def values(self) -> dict:
        """What ``add_recommendation`` and ``correct_recommendation`` take from the form: the
        new and edit views read the same fields here, so neither can leave one out."""
        return {
            "number": self.number.data,
            "text": self.text.data.strip(),
            "action_office_id": self.action_office_id.data,
            "priority": self.priority.data,
            "questioned_costs": self.questioned_costs.data,
            "unsupported_costs": self.unsupported_costs.data,
            "funds_put_to_better_use": self.funds_put_to_better_use.data,
        }


REASON_MESSAGE = "Say why this is corrected; the reason is kept in the history."


class ReportEditForm(VersionedForm, ReportForm):
    reason = TextAreaField("Reason for the correction", validators=[DataRequired(REASON_MESSAGE), Length(max=5000)])

    def __init__(self, report: Report, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.report_id = report.id


class RecommendationEditForm(VersionedForm, RecommendationForm):
    issued_on = DateField("Issue date", validators=[DataRequired("Enter the issue date as YYYY-MM-DD.")])
    reason = TextAreaField("Reason for the correction", validators=[DataRequired(REASON_MESSAGE), Length(max=5000)])

    def __init__(self, report: Report, recommendation: Recommendation, *args, **kwargs):
        super().__init__(report, *args, **kwargs)
        self.recommendation_id = recommendation.id

    def values(self) -> dict:
        return {**super().values(), "issued_on": self.issued_on.data}
