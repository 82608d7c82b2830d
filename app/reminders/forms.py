from wtforms import BooleanField, IntegerField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, ValidationError

from app.fields import SelectField
from app.inputs import TrackerForm
from app.notifications.decide import KIND_LABELS, NOT_OFF
from app.notifications.models import EVENT_KINDS
from app.reminders.models import MAX_OFFSETS, WEEKDAYS, parse_offsets

MODE_CHOICES = [
    SelectChoice("immediate", "Email me immediately"),
    SelectChoice("daily", "In my daily summary"),
    SelectChoice("off", "Not by email (in the app only)"),
]


def _mode_field(kind: str) -> SelectField:
    choices = [c for c in MODE_CHOICES if not (kind in NOT_OFF and c.value == "off")]
    return SelectField(KIND_LABELS[kind], choices=choices, validate_choice=False, validators=[_valid_mode])


def _valid_mode(form, field):
    # Absent for the kinds the user's role never receives: those are left as they are.
    kind = field.name.removeprefix("notify_")
    allowed = {c.value for c in MODE_CHOICES if not (kind in NOT_OFF and c.value == "off")}
    if field.data not in (None, "", *allowed):
        raise ValidationError(
            "OIG decisions on your office's plan are always sent: choose immediately or daily."
            if kind in NOT_OFF and field.data == "off"
            else "Choose one of the options."
        )


WEEKDAY_CHOICES = [SelectChoice(str(i), day) for i, day in enumerate(WEEKDAYS)]


class PreferencesForm(TrackerForm):
    due_soon = BooleanField("Milestones I own are due soon (on each reminder day before the due date)")
    due_today = BooleanField("A milestone I own is due today")
    overdue_weekly = BooleanField("A milestone I own is overdue (weekly until it is done)")
    weekly_digest = BooleanField("Send me the weekly digest of my office")
    # Not validated as a choice: the field is shown to managers only, and absent from other users' posts.
    digest_weekday = SelectField(
        "Digest day", choices=[SelectChoice("", "The office default")] + WEEKDAY_CHOICES, validate_choice=False
    )
    digest_when_empty = BooleanField("Send the digest even when there is nothing to report")

    def mode_fields(self, kinds):
        return [getattr(self, f"notify_{kind}") for kind in kinds]

    def validate_digest_weekday(self, field):
        if field.data not in (None, "", *(choice.value for choice in WEEKDAY_CHOICES)):
            raise ValidationError("Choose a day of the week.")


# One choice per kind of event (notifications/decide.py), named notify_<kind>.
for _kind in EVENT_KINDS:
    setattr(PreferencesForm, f"notify_{_kind}", _mode_field(_kind))


class SettingsForm(TrackerForm):
    offsets = StringField("Reminder days before a due date", validators=[InputRequired()])
    escalate_manager_after_days = IntegerField(
        "Escalate to the office's manager after this many days overdue",
        validators=[InputRequired(), NumberRange(min=1, max=365)],
    )
    escalate_official_after_days = IntegerField(
        "Escalate to the audit follow-up official after this many days overdue",
        validators=[InputRequired(), NumberRange(min=1, max=365)],
    )
    follow_up_official_id = SelectField("Audit follow-up official", choices=[], validate_choice=True)
    digest_weekday = SelectField("Default digest day", choices=WEEKDAY_CHOICES)

    def validate_offsets(self, field):
        try:
            days = parse_offsets(field.data or "")
        except ValueError:
            raise ValidationError(
                "Enter whole days between 1 and 365, separated by commas, e.g. 30, 14, 7, 1."
            ) from None
        if len(days) > MAX_OFFSETS:
            raise ValidationError(f"Enter at most {MAX_OFFSETS} reminder days.")

    def validate_escalate_official_after_days(self, field):
        manager_days = self.escalate_manager_after_days.data
        if field.data is not None and manager_days is not None and field.data < manager_days:
            raise ValidationError("The official is reached after the manager, not before.")
