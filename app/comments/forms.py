from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length


class CommentForm(FlaskForm):
    body = TextAreaField("Your message", validators=[
        DataRequired("Write a message before sending."), Length(max=10_000)])
