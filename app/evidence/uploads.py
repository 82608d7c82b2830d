"""Streams evidence uploads to disk as the request body arrives.

Werkzeug asks the request for a stream for each uploaded file part; for evidence
views that stream is an ``IncomingFile`` under ``EVIDENCE_DIR`` that hashes as it is
written, so neither the body nor a file is ever held in memory. Every temporary file
is removed when the request ends unless it was saved.
"""

from pathlib import Path

from flask import Flask, Request, g
from flask_login import current_user

from app.evidence.storage import get_storage


class EvidenceRequest(Request):
    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        # Anonymous requests are refused after parsing (CSRF and sign-in checks need the form);
        # until then their bytes go to the system's temporary files, never into EVIDENCE_DIR.
        if self.blueprint != "evidence" or not current_user.is_authenticated:
            return super()._get_file_stream(total_content_length, content_type, filename, content_length)
        incoming = get_storage().incoming()
        g.setdefault("evidence_incoming", []).append(incoming)
        return incoming


def discard_incoming(_exc=None) -> None:
    for incoming in g.pop("evidence_incoming", []):
        incoming.discard()


def install(app: Flask) -> None:
    evidence_dir = Path(app.config["EVIDENCE_DIR"]).resolve()
    if evidence_dir.is_relative_to(Path(app.static_folder or "static").resolve()):
        raise RuntimeError("EVIDENCE_DIR must not be under static/: evidence is served only through access checks")
    if not issubclass(EvidenceRequest, app.request_class):
        raise RuntimeError(f"{app.request_class} is already customised; merge it with EvidenceRequest")
    app.request_class = EvidenceRequest
