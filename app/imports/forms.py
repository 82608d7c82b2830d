from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SubmitField

from app.inputs import TrackerForm


class ImportForm(TrackerForm):
    file = FileField(
        "CSV file of recommendations",
        validators=[FileRequired("Choose a CSV file."), FileAllowed(["csv"], "Only .csv files.")],
    )
    check = SubmitField("Check the file")
    submit = SubmitField("Import")
