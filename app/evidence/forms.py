from flask import current_app
from flask_wtf.file import FileField, FileRequired
from wtforms import FieldList, Form, FormField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.evidence.filetypes import ALLOWED, Refused, clean_filename, detect, scan
from app.evidence.models import DECISIONS, REVIEW_STATUS_LABELS
from app.evidence.storage import IncomingFile
from app.inputs import TrackerForm

MAX_FILES = 10
#: A hint for the browser's file picker only; the server decides by content.
ACCEPT = ",".join(ext for _label, extensions in ALLOWED.values() for ext in extensions)


def inspect_upload(field) -> None:
    """Check an uploaded file (name, type by content, virus scan) and keep what was learned on the field."""
    upload = field.data
    incoming = upload.stream
    if not isinstance(incoming, IncomingFile):
        raise RuntimeError("evidence uploads must be streamed by EvidenceRequest")
    try:
        name = clean_filename(upload.filename)
        detected = detect(incoming, name)
        scan(
            current_app.config.get("EVIDENCE_SCAN_COMMAND"),
            incoming,
            current_app.config.get("EVIDENCE_SCAN_TIMEOUT", 120),
        )
    except Refused as refused:
        raise ValidationError(str(refused)) from None
    field.inspected = (incoming, name, detected)


class EvidenceFileForm(Form):
    """One file of an upload, with its own title and description (no CSRF: part of UploadForm)."""

    file = FileField("File", validators=[FileRequired("Choose a file to upload.")], render_kw={"accept": ACCEPT})
    title = StringField("Title", validators=[DataRequired("Give the document a title."), Length(max=300)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])

    def validate_file(self, field):
        inspect_upload(field)


class UploadForm(TrackerForm):
    files = FieldList(FormField(EvidenceFileForm), min_entries=1, max_entries=MAX_FILES)


class NewVersionForm(TrackerForm):
    file = FileField(
        "File for the new version", validators=[FileRequired("Choose a file to upload.")], render_kw={"accept": ACCEPT}
    )
    note = TextAreaField("What changed", validators=[Optional(), Length(max=5000)])

    def validate_file(self, field):
        inspect_upload(field)


class ReviewForm(TrackerForm):
    decision = RadioField(
        "Decision",
        choices=[SelectChoice(d, REVIEW_STATUS_LABELS[d]) for d in DECISIONS],
        validators=[DataRequired("Choose accepted or insufficient.")],
    )
    comment = TextAreaField("Comment", validators=[DataRequired("Explain the decision."), Length(max=5000)])


class WithdrawForm(TrackerForm):
    reason = TextAreaField(
        "Reason for withdrawing", validators=[DataRequired("Say why the item is withdrawn."), Length(max=5000)]
    )


class RunCheckForm(TrackerForm):
    """Only the CSRF token: starts an integrity check."""
