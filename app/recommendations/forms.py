from wtforms import BooleanField, DateField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.fields import SelectField
from app.inputs import TrackerForm
from app.versioning import VersionedForm
from app.recommendations.models import CONCURRENCE_LABELS, STATUS_LABELS, STATUSES


class StatusChangeForm(TrackerForm):
    #: The choices shown are the legal moves; any known status is accepted here, because
    #: whether a move is legal is the status machine's answer (409), not the form's.
    to_status = SelectField("New status", validate_choice=False)
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired("Write the reason for this change; it is kept in the history."), Length(max=20_000)],
    )

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.to_status.choices = [SelectChoice(s, STATUS_LABELS[s]) for s in targets]

    close_anyway = BooleanField("I have read what is not done (listed above) and close anyway")

    #: The readiness list: closing (“Resolved, closed”) over open items needs ``close_anyway``.
    open_items: list = []

    def validate_to_status(self, field):
        if field.data not in STATUSES:
            raise ValidationError("Choose one of the statuses listed.")

    def validate_close_anyway(self, field):
        if self.to_status.data == "resolved_closed" and self.open_items and not field.data:
            raise ValidationError(f"{len(self.open_items)} items are not done: tick this box to close anyway.")


class ConcurrenceForm(VersionedForm):
    concurrence = SelectField(
        "Concurrence",
        choices=[SelectChoice("", "Not recorded")]
        + [SelectChoice(value, label) for value, label in CONCURRENCE_LABELS.items()],
    )
    concurrence_response = TextAreaField("Management response", validators=[Length(max=50_000)])
    responsible_official = StringField("Responsible official", validators=[Optional(), Length(max=200)])
    target_completion_on = DateField("Target completion date", validators=[Optional()])

    def __init__(self, *args, issued_on=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.issued_on = issued_on

    def validate_target_completion_on(self, field):
        if field.data and self.issued_on and field.data < self.issued_on:
            raise ValidationError("The target completion date cannot be before the report was issued.")
