from wtforms import BooleanField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from app.inputs import TrackerForm
from app.submissions.models import DECISIONS

NARRATIVE_MAX = 20_000


class SubmissionForm(TrackerForm):
    narrative = TextAreaField("Cover narrative for OIG", validators=[
        DataRequired("Write a cover narrative: what this submission shows and what OIG should look at."),
        Length(max=NARRATIVE_MAX)])


class DecisionForm(TrackerForm):
    decision = RadioField("Decision", choices=[SelectChoice(d, {"accepted": "Accept", "rejected": "Reject"}[d])
                                               for d in DECISIONS],
                          validators=[InputRequired("Choose accept or reject.")])
    analysis = TextAreaField("OIG analysis", validators=[
        DataRequired("Write the analysis behind the decision; it is sent to the office and kept on record."),
        Length(max=NARRATIVE_MAX)])
    close_anyway = BooleanField("I have read what is not done (listed above) and accept closure anyway")

    #: The readiness list of the recommendation: accepting a closure request over open items
    #: needs ``close_anyway`` ticked.
    open_items: list = []

    def validate_close_anyway(self, field):
        if self.decision.data == "accepted" and self.open_items and not field.data:
            raise ValidationError(f"{len(self.open_items)} items are not done: tick this box to close "
                                  f"anyway, or reject the request.")
