"""What an uploaded file is, decided by its content; whether its name is safe; the virus scan.

The allow-list is checked against the bytes, never the extension or the browser's
claim: an executable renamed ``.pdf`` is refused. The extension must then agree with
the content, so that a download is never a PDF dressed as a picture.
"""

import codecs
import re
import shlex
import subprocess
import unicodedata
import zipfile
from dataclasses import dataclass

from app.evidence.storage import IncomingFile

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
CSV = "text/csv"
TXT = "text/plain"
PNG = "image/png"
JPEG = "image/jpeg"

#: Content type -> (label, extensions a file of that type may carry).
ALLOWED = {
    PDF: ("PDF", (".pdf",)),
    DOCX: ("Word document", (".docx",)),
    XLSX: ("Excel workbook", (".xlsx",)),
    PPTX: ("PowerPoint presentation", (".pptx",)),
    CSV: ("CSV", (".csv",)),
    TXT: ("Text", (".txt",)),
    PNG: ("PNG image", (".png",)),
    JPEG: ("JPEG image", (".jpg", ".jpeg")),
}
ALLOWED_SUMMARY = "PDF, Word (.docx), Excel (.xlsx), PowerPoint (.pptx), CSV, text, PNG or JPEG"

#: The main part each Office Open XML package declares in [Content_Types].xml.
#: Macro-enabled and template variants declare other parts and are refused.
_OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
_CONTENT_TYPE_ATTR = re.compile(rb'ContentType="([^"]+)"')
#: [Content_Types].xml is a few kilobytes; anything larger is not a document we accept.
_MAX_CONTENT_TYPES_XML = 1024 * 1024
MAX_NAME = 255


class Refused(ValueError):
    """The file is not accepted; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class Detected:
    content_type: str
    label: str


def clean_filename(raw: str | None) -> str:
    """The name as sent, if it is a plain file name; otherwise ``Refused``.

    Unicode names are kept (normalised to NFC); path separators, ``..``, NUL and other
    control characters are refused rather than silently rewritten.
    """
    name = unicodedata.normalize("NFC", raw or "").strip()
    if not name:
        raise Refused("The file has no name.")
    if "/" in name or "\\" in name or name in (".", ".."):
        raise Refused("The file name may not contain a folder path (/ or \\). Rename the file and try again.")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise Refused("The file name contains control characters. Rename the file and try again.")
    if name.startswith("."):
        raise Refused("The file name may not start with a dot. Rename the file and try again.")
    if len(name) > MAX_NAME:
        raise Refused(f"The file name is longer than {MAX_NAME} characters. Rename the file and try again.")
    return name


def _is_utf8_text(incoming: IncomingFile) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in incoming.chunks():
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _ooxml_type(incoming: IncomingFile) -> str | None:
    incoming.flush()
    try:
        with zipfile.ZipFile(incoming.path) as archive:
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > _MAX_CONTENT_TYPES_XML:
                return None
            xml = archive.read(info)
    # Not a readable OOXML package (NotImplementedError: a compression zipfile cannot read): not Office.
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError, EOFError):
        return None
    found = {_OOXML_MAIN_PARTS.get(m.decode("ascii", "replace")) for m in _CONTENT_TYPE_ATTR.findall(xml)}
    found.discard(None)
    return found.pop() if len(found) == 1 else None


def detect(incoming: IncomingFile, filename: str) -> Detected:
    """The file's type from its content, checked against its extension; else ``Refused``."""
    if incoming.size == 0:
        raise Refused("The file is empty.")
    head = incoming.head()
    extension = "." + filename.rsplit(".", 1)[1].lower() if "." in filename else ""
    content_type: str | None
    if head.startswith(b"%PDF-"):
        content_type = PDF
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        content_type = PNG
    elif head.startswith(b"\xff\xd8\xff"):
        content_type = JPEG
    elif head.startswith(b"PK\x03\x04"):
        content_type = _ooxml_type(incoming)
    elif _is_utf8_text(incoming):
        content_type = CSV if extension == ".csv" else TXT
    else:
        content_type = None
    if content_type is None:
        raise Refused(f"This type of file is not accepted. Upload a {ALLOWED_SUMMARY} file.")
    label, extensions = ALLOWED[content_type]
    if extension not in extensions:
        raise Refused(
            f"The file's content is a {label}, but its name ends in "
            f"“{extension or 'no extension'}”. Name it with {' or '.join(extensions)}."
        )
    return Detected(content_type, label)


def scan(command: str | None, incoming: IncomingFile, timeout: float) -> None:
    """Run the configured virus scanner on the file; a non-zero exit refuses it.

    ``command`` is split like a shell would, and ``{path}`` is replaced by the file's path
    (appended when the command does not name it). No shell runs the command.
    """
    if not command:
        return
    incoming.flush()
    parts = shlex.split(command)
    if not any("{path}" in part for part in parts):
        parts.append("{path}")
    # The path is generated by us (hex name under EVIDENCE_DIR), never the user's file name.
    args = [part.replace("{path}", str(incoming.path)) for part in parts]
    try:
        result = subprocess.run(args, capture_output=True, timeout=timeout, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired):
        raise Refused(
            "The file could not be checked for viruses, so it was not accepted. Please try again later."
        ) from None
    if result.returncode != 0:
        raise Refused("The virus scan did not pass this file, so it was not accepted.")
