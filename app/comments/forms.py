from app.inputs import TrackerForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class CommentForm(TrackerForm):
    body = TextAreaField("Your message", validators=[
        DataRequired("Write a message before sending."), Length(max=10_000)])
