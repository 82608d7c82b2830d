import sqlalchemy as sa
from wtforms import EmailField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, ValidationError

from app.auth.models import ROLE_LABELS, ROLES, User
from app.extensions import db
from app.fields import SelectField
from app.inputs import TrackerForm
from app.offices.models import Office

#: Said by the form's check, and by the save when another request took the address in between.
EMAIL_TAKEN = "An account with this email address already exists."


def _office_choices():
    offices = db.session.execute(
        sa.select(Office.id, Office.name, Office.code).order_by(Office.name, Office.code)
    ).all()
    return [SelectChoice("", "No office (administrators only)")] + [
        SelectChoice(str(o.id), f"{o.name} ({o.code})") for o in offices
    ]


class AccountForm(TrackerForm):
    name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Role", choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ROLES], validators=[DataRequired()])
    office_id = SelectField("Office", choices=[], validate_choice=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.office_id.choices = _office_choices()

    def validate_name(self, field):
        field.data = (field.data or "").strip()
        if not field.data:
            raise ValidationError("Enter the person's name.")

    def validate_office_id(self, field):
        if self.role.data != "admin" and not field.data:
            raise ValidationError("Choose the office this person works for.")

    @property
    def office_value(self) -> int | None:
        return int(self.office_id.data) if self.office_id.data else None


class NewAccountForm(AccountForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)])

    def validate_email(self, field):
        field.data = field.data.strip().lower()
        taken = db.session.scalar(sa.select(User.id).where(sa.func.lower(User.email) == field.data))
        if taken:
            raise ValidationError(EMAIL_TAKEN)


class ConfirmForm(TrackerForm):
    """A button that changes state: only the CSRF token."""
