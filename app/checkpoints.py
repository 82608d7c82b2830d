"""Checkpoints of the audit chain, kept outside the database.

The chain proves that no row was altered or removed from its middle, but nothing inside the
database can tell that its newest rows were cut off, or that the whole chain was rebuilt from
some row on. The scheduler therefore writes the chain's head (id, hash, time) every
``AUDIT_CHECKPOINT_MINUTES``, signed with HMAC-SHA256 under ``AUDIT_CHECKPOINT_KEY`` (a key the
database does not hold), as one line appended to ``AUDIT_CHECKPOINT_FILE`` and to the log (which
usually leaves the machine). ``flask audit verify`` checks the chain against every checkpoint.
"""

import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from app.audit import GENESIS_HASH, AuditEvent
from app.extensions import db
from app.timeutil import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkpoint:
    event_id: int
    hash: str
    at: str
    signature: str

    def line(self) -> str:
        return json.dumps({"id": self.event_id, "hash": self.hash, "at": self.at, "sig": self.signature})


def checkpoint_path() -> Path:
    configured = current_app.config.get("AUDIT_CHECKPOINT_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / "audit-checkpoints.jsonl"


def checkpoint_key() -> bytes:
    """``AUDIT_CHECKPOINT_KEY``, or a key generated once into instance/audit_checkpoint_key."""
    configured = current_app.config.get("AUDIT_CHECKPOINT_KEY")
    if configured:
        return configured.encode()
    key_file = Path(current_app.instance_path) / "audit_checkpoint_key"
    if not key_file.exists():
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    return key_file.read_text().strip().encode()


def _signature(key: bytes, event_id: int, head: str, at: str) -> str:
    return hmac.new(key, f"{event_id}|{head}|{at}".encode(), hashlib.sha256).hexdigest()


def write_checkpoint() -> Checkpoint:
    """Append the chain's committed head to the checkpoint file and to the log."""
    head = db.session.execute(sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    event_id, head_hash = (head.id, head.hash) if head else (0, GENESIS_HASH)
    at = utcnow().isoformat(timespec="seconds")
    checkpoint = Checkpoint(event_id, head_hash, at, _signature(checkpoint_key(), event_id, head_hash, at))
    path = checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: every write lands at the end, whoever else has the file open; nothing is rewritten.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (checkpoint.line() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    log.info("audit checkpoint %s", checkpoint.line())
    return checkpoint


def read_checkpoints() -> tuple[list[Checkpoint], list[str]]:
    """The checkpoints whose signature holds, and a sentence for every line that does not."""
    path = checkpoint_path()
    if not path.exists():
        return [], []
    key = checkpoint_key()
    good, problems = [], []
    for number, text in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            data = json.loads(text)
            checkpoint = Checkpoint(int(data["id"]), str(data["hash"]), str(data["at"]), str(data["sig"]))
        except (ValueError, KeyError, TypeError):
            problems.append(f"{path} line {number} cannot be read (the file was altered)")
            continue
        expected = _signature(key, checkpoint.event_id, checkpoint.hash, checkpoint.at)
        if not hmac.compare_digest(expected, checkpoint.signature):
            problems.append(
                f"{path} line {number} (checkpoint of {checkpoint.at}, event {checkpoint.event_id}) "
                "has a bad signature (the file was altered, or AUDIT_CHECKPOINT_KEY is not the key "
                "that signed it)"
            )
            continue
        good.append(checkpoint)
    return good, problems
