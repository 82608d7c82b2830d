from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from app.inputs import TrackerForm


class CommentForm(TrackerForm):
    body = TextAreaField(
        "Your message", validators=[DataRequired("Write a message before sending."), Length(max=10_000)]
    )
