from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.auth.passwords import MAX_LENGTH, password_problem
from app.inputs import TrackerForm

PASSWORD_HINT = (
    "At least 15 characters; spaces and any characters are allowed. A few unrelated words make a strong passphrase."
)


class SignInForm(TrackerForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=MAX_LENGTH)], render_kw={"autocomplete": "current-password"}
    )


class NewPasswordForm(TrackerForm):
    """A new password, typed twice; ``user`` gives the context words it must not equal."""

    password = PasswordField(
        "New password", validators=[DataRequired(), Length(max=MAX_LENGTH)], render_kw={"autocomplete": "new-password"}
    )
    confirm = PasswordField(
        "Type the new password again",
        validators=[DataRequired(), EqualTo("password", message="The two passwords are not the same.")],
        render_kw={"autocomplete": "new-password"},
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_password(self, field):
        problem = password_problem(
            field.data or "", email=getattr(self.user, "email", ""), name=getattr(self.user, "name", "")
        )
        if problem:
            raise ValidationError(problem)


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        "Current password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )

    def validate_password(self, field):
        super().validate_password(field)
        if self.user is not None and self.user.check_password(field.data or ""):
            raise ValidationError("The new password must differ from your current one.")

    def validate_current(self, field):
        if self.user is None or not self.user.check_password(field.data or ""):
            raise ValidationError("The current password is not correct.")


class ConfirmForm(TrackerForm):
    """A button that changes something: the CSRF token is its only field."""


class KeyNameForm(TrackerForm):
    name = StringField(
        "Name of the key",
        validators=[DataRequired(message="Give the key a name."), Length(max=80)],
        description="For example “Blue YubiKey” or “Laptop passkey”, to tell your keys apart.",
    )

    def validate_name(self, field):
        field.data = " ".join((field.data or "").split())
        if not field.data:
            raise ValidationError("Give the key a name.")


class RecoveryCodeForm(TrackerForm):
    code = StringField(
        "Recovery code",
        validators=[DataRequired(message="Type one of your recovery codes."), Length(max=64)],
        description="One of the codes you saved when you added your first key, e.g. ABCD-EFGH-JKLM-NPQR.",
    )
