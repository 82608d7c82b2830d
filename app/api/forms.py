from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length

from app.api.models import TOKEN_SCOPES


class TokenForm(FlaskForm):
    name = StringField("Token name (what it is for)", validators=[DataRequired("Name the token."), Length(max=100)])
    scope = SelectField("Scope", choices=[SelectChoice("read", "Read only"), SelectChoice("write", "Read and write")],
                        validators=[DataRequired()])

    def validate_scope(self, field):
        if field.data not in TOKEN_SCOPES:
            raise ValueError("Choose read or write.")
