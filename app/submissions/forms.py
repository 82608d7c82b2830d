from decimal import Decimal

from wtforms import BooleanField, DecimalField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.inputs import TrackerForm
from app.submissions.models import DECISIONS

NARRATIVE_MAX = 20_000


class SubmissionForm(TrackerForm):
    narrative = TextAreaField(
        "Cover narrative for OIG",
        validators=[
            DataRequired("Write a cover narrative: what this submission shows and what OIG should look at."),
            Length(max=NARRATIVE_MAX),
        ],
    )


class DecisionForm(TrackerForm):
    decision = RadioField(
        "Decision",
        choices=[SelectChoice(d, {"accepted": "Accept", "rejected": "Reject"}[d]) for d in DECISIONS],
        validators=[InputRequired("Choose accept or reject.")],
    )
    analysis = TextAreaField(
        "OIG analysis",
        validators=[
            DataRequired("Write the analysis behind the decision; it is sent to the office and kept on record."),
            Length(max=NARRATIVE_MAX),
        ],
    )
    close_anyway = BooleanField("I have read what is not done (listed above) and accept closure anyway")

    #: The readiness list of the recommendation: accepting a closure request over open items
    #: needs ``close_anyway`` ticked.
    open_items: list = []

    def validate_close_anyway(self, field):
        if self.decision.data == "accepted" and self.open_items and not field.data:
            raise ValidationError(
                f"{len(self.open_items)} items are not done: tick this box to close anyway, or reject the request."
            )

    # The management decision's answer on the money (IG Act section 5): asked only when a plan that
    # would resolve a recommendation with questioned costs or funds to be put to better use is
    # accepted (``money_asked``), and then required.
    disallowed_costs = DecimalField("Questioned costs disallowed (USD)", places=2, validators=[Optional()])
    agreed_funds = DecimalField("Funds agreed to be put to better use (USD)", places=2, validators=[Optional()])

    def __init__(self, *args, submission=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.submission = submission

    def _recommendation(self):
        if self.submission is None or self.submission.kind != "plan":
            return None
        recommendation = self.submission.recommendation
        return recommendation if recommendation.status == "unresolved_open" else None

    @property
    def asks_disallowed(self) -> bool:
        rec = self._recommendation()
        return rec is not None and bool(rec.questioned_costs)

    @property
    def asks_agreed(self) -> bool:
        rec = self._recommendation()
        return rec is not None and bool(rec.funds_put_to_better_use)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        rec = self._recommendation()
        accepting = self.decision.data == "accepted"
        for field, asked, limit, name in (
            (self.disallowed_costs, self.asks_disallowed, rec and rec.questioned_costs, "the questioned costs"),
            (self.agreed_funds, self.asks_agreed, rec and rec.funds_put_to_better_use, "the funds put to better use"),
        ):
            if not (asked and accepting):
                field.data = None  # nothing to record: a rejection, or no money in the recommendation
                continue
            if field.errors:
                continue
            if field.data is None or field.data < Decimal(0) or field.data > limit:
                field.errors = [
                    *field.errors,
                    f"Enter the amount the management decision sustains, from $0.00 to ${limit:,.2f} ({name}).",
                ]
                valid = False
        return valid
