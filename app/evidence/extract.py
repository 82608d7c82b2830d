"""The words inside evidence files, for search: PDF (pypdf), DOCX (python-docx), plain text and CSV.

``text_of(stream, content_type)`` decides (pure: bytes in, text out, or ``Unreadable``);
``index_versions(ids)`` reads the stored files and records their text, each in its own
transaction, *after* the upload's commit: a file whose text cannot be read is still a
recorded upload, and its ``EvidenceText.problem`` says why.
"""

import io
import logging

import sqlalchemy as sa

from app.evidence.filetypes import CSV, DOCX, PDF, TXT
from app.evidence.models import EvidenceText, EvidenceVersion
from app.evidence.storage import get_storage
from app.extensions import db

log = logging.getLogger(__name__)

#: Enough for search, bounded so that one large file cannot fill the index (about 200 pages).
MAX_CHARS = 1_000_000
#: A PDF's pages read at most: text beyond is not indexed.
MAX_PDF_PAGES = 500
READABLE = (PDF, DOCX, TXT, CSV)


class Unreadable(Exception):
    """The file's text could not be read; the message says why."""


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        raise Unreadable("The PDF is encrypted.")
    parts, size = [], 0
    for page in reader.pages[:MAX_PDF_PAGES]:
        text = page.extract_text() or ""
        parts.append(text)
        size += len(text)
        if size >= MAX_CHARS:
            break
    return "\n".join(parts)


def _docx(data: bytes) -> str:
    from docx import Document

    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def _plain(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def text_of(data: bytes, content_type: str) -> str:
    """The text of a file of ``content_type`` ("" for kinds without words: images, workbooks)."""
    if content_type not in READABLE:
        return ""
    try:
        if content_type == PDF:
            text = _pdf(data)
        elif content_type == DOCX:
            text = _docx(data)
        else:
            text = _plain(data)
    except Unreadable:
        raise
    except Exception as error:  # a damaged file: the parsers raise many kinds of error
        raise Unreadable(f"The text could not be read ({type(error).__name__}).") from error
    return " ".join(text.replace("\x00", " ").split())[:MAX_CHARS]


def index_versions(version_ids) -> int:
    """Record the text of each version not yet read; each in its own transaction. Returns how
    many were recorded. Never raises for one file: its problem is recorded instead."""
    done = 0
    for version_id in version_ids:
        try:
            if db.session.scalar(sa.select(EvidenceText.id).where(EvidenceText.version_id == version_id)):
                continue
            version = db.session.get(EvidenceVersion, version_id)
            if version is None:
                continue
            text, problem = "", ""
            try:
                with get_storage().open(version.storage_key) as stream:
                    text = text_of(stream.read(), version.content_type)
            except Unreadable as error:
                problem = str(error)
            except OSError as error:
                problem = f"The stored file could not be opened ({type(error).__name__})."
            db.session.add(
                EvidenceText(version_id=version.id, item_id=version.item_id, text=text, problem=problem[:300])
            )
            db.session.commit()
            done += 1
        except Exception:  # the upload is recorded already; search simply misses this file
            db.session.rollback()
            log.exception("could not record the text of evidence version %s", version_id)
    return done


def unindexed_version_ids() -> list[int]:
    """Versions uploaded before their text was read (or while reading failed outright)."""
    return list(
        db.session.scalars(
            sa.select(EvidenceVersion.id)
            .where(~sa.exists().where(EvidenceText.version_id == EvidenceVersion.id))
            .order_by(EvidenceVersion.id)
        )
    )
