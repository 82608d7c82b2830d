from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

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
