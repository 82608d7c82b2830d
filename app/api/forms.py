from wtforms import StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length

from app.fields import SelectField
from app.inputs import TrackerForm


class TokenForm(TrackerForm):
    name = StringField("Token name (what it is for)", validators=[DataRequired("Name the token."), Length(max=100)])
    # A SelectField refuses any value outside its choices ("Not a valid choice").
    scope = SelectField(
        "Scope",
        choices=[SelectChoice("read", "Read only"), SelectChoice("write", "Read and write")],
        validators=[DataRequired()],
    )
