from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.auth.passwords import MAX_LENGTH, password_problem

PASSWORD_HINT = ("At least 15 characters; spaces and any characters are allowed. "
                 "A few unrelated words make a strong passphrase.")


class SignInForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "spellcheck": "false"})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})


class NewPasswordForm(FlaskForm):
    """A new password, typed twice; ``user`` gives the context words it must not equal."""
    password = PasswordField("New password", validators=[DataRequired(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Type the new password again", validators=[
        DataRequired(), EqualTo("password", message="The two passwords are not the same.")],
        render_kw={"autocomplete": "new-password"})

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_password(self, field):
        problem = password_problem(field.data or "", email=getattr(self.user, "email", ""),
                                   name=getattr(self.user, "name", ""))
        if problem:
            raise ValidationError(problem)


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_LENGTH)],
                            render_kw={"autocomplete": "current-password"})

    def validate_current(self, field):
        if self.user is None or not self.user.check_password(field.data or ""):
            raise ValidationError("The current password is not correct.")
