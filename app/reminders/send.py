"""Sending the outbox: after the commit, each message claimed by one process, retried with backoff.

A message is written (and committed) before it is sent, so a crash loses nothing: the next run
finds it still ``pending``. Claiming is one conditional UPDATE (``state = 'pending'``), so two
processes never send the same row. The only window for a duplicate is a crash after the SMTP
server accepted a message and before its ``sent`` mark was committed: the claim then goes stale
and the message is sent again after ``REMINDERS_CLAIM_LEASE_SECONDS``.
"""

import smtplib
import time
import uuid
from collections.abc import Sequence
from typing import cast
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from flask_mail import Message

from app.extensions import db, mail
from app.reminders.models import OutboxMessage
from app.timeutil import utcnow

DEFAULTS = {
    "REMINDERS_MAX_ATTEMPTS": 5,
    #: Backoff: base * 2^(attempt - 1) seconds: 30 s, 1 min, 2 min, 4 min.
    "REMINDERS_RETRY_BASE_SECONDS": 30.0,
    #: A run waits in-process for retries due within this many seconds; later ones are the scheduler's.
    "REMINDERS_MAX_WAIT_SECONDS": 60.0,
    "REMINDERS_CLAIM_LEASE_SECONDS": 600,
    "REMINDERS_BATCH_SIZE": 100,
}


def _cfg(name):
    return current_app.config.get(name, DEFAULTS[name])


def is_permanent(exc: Exception) -> bool:
    """A 5xx answer will not change on retry; a 4xx or a broken connection may."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


def release_stale_claims() -> None:
    """Claims older than the lease belong to a process that died: the rows are pending again."""
    cutoff = utcnow() - timedelta(seconds=_cfg("REMINDERS_CLAIM_LEASE_SECONDS"))
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.state == "sending", OutboxMessage.claimed_at < cutoff)
        .values(state="pending", claimed_by="")
    )
    db.session.commit()


#: What sending reads of a claimed row: plain rows, so that a commit per message reloads nothing.
_SEND_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.kind,
    OutboxMessage.item_type,
    OutboxMessage.item_id,
    OutboxMessage.period,
    OutboxMessage.to_address,
    OutboxMessage.subject,
    OutboxMessage.body_text,
    OutboxMessage.body_html,
    OutboxMessage.attempts,
)


def claim(limit: int) -> Sequence:
    token = uuid.uuid4().hex
    now = utcnow()
    ids = db.session.scalars(
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.state == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    if not ids:
        return []
    # The state test is repeated in the UPDATE: a row another process claimed meanwhile is skipped.
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.state == "pending")
        .values(state="sending", claimed_by=token, claimed_at=now)
    )
    db.session.commit()
    return db.session.execute(
        sa.select(*_SEND_COLUMNS)
        .where(OutboxMessage.claimed_by == token, OutboxMessage.state == "sending")
        .order_by(OutboxMessage.id)
    ).all()


def _next_retry_in() -> float | None:
    when = db.session.scalar(
        sa.select(OutboxMessage.next_attempt_at)
        .where(OutboxMessage.state == "pending")
        .order_by(OutboxMessage.next_attempt_at)
        .limit(1)
    )
    if when is None:
        return None
    return max(0.0, (when - utcnow()).total_seconds())


def _message(row) -> Message:
    return Message(
        subject=row.subject,
        recipients=[row.to_address],
        body=row.body_text,
        html=row.body_html,
        extra_headers={"X-Tracker-Key": f"{row.kind}/{row.item_type}/{row.item_id}/{row.period}"},
    )


def _mark(row_id: int, **values) -> None:
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))
    # One commit per message: a crash after this line never sends it again.
    db.session.commit()


def _close(conn) -> None:
    if conn is not None and conn.host is not None:
        try:
            conn.host.quit()
        except (smtplib.SMTPException, OSError):
            conn.host.close()


def _send_batch(batch: Sequence, results: list) -> None:
    conn = None
    try:
        for row in batch:
            attempts = row.attempts + 1
            try:
                if conn is None:
                    conn = mail.connect()
                    conn.__enter__()
                conn.send(_message(row))
            except (smtplib.SMTPException, OSError) as exc:
                _close(conn)
                conn = None
                error = f"attempt {attempts}: {type(exc).__name__}: {exc}"[:2000]
                if is_permanent(exc) or attempts >= _cfg("REMINDERS_MAX_ATTEMPTS"):
                    _mark(row.id, state="failed", attempts=attempts, last_error=error, claimed_by="")
                    results.append(("failed", row.to_address, row.subject))
                else:
                    delay = _cfg("REMINDERS_RETRY_BASE_SECONDS") * 2 ** (attempts - 1)
                    _mark(
                        row.id,
                        state="pending",
                        attempts=attempts,
                        last_error=error,
                        claimed_by="",
                        next_attempt_at=utcnow() + timedelta(seconds=delay),
                    )
            else:
                _mark(row.id, state="sent", attempts=attempts, sent_at=utcnow(), claimed_by="")
                results.append(("sent", row.to_address, row.subject))
    finally:
        _close(conn)


def requeue_stored() -> int:
    """Messages kept while no mail server was configured go back to ``pending`` (the caller
    commits, then delivers); returns how many."""
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.state == "stored")
        .values(state="pending", attempts=0, next_attempt_at=utcnow(), claimed_by=""),
        execution_options={"synchronize_session": False},
    )
    return cast(sa.CursorResult, result).rowcount  # DML returns a CursorResult


def deliver_pending(*, limit: int | None = None, wait: bool = True) -> list:
    """Send what is pending; returns (state, to_address, subject) for each message finished here.

    Without MAIL_SERVER the messages are ``stored``: they stay in the outbox for admins to read.
    """
    release_stale_claims()
    results: list = []
    while limit is None or len(results) < limit:
        size = (
            _cfg("REMINDERS_BATCH_SIZE") if limit is None else min(_cfg("REMINDERS_BATCH_SIZE"), limit - len(results))
        )
        batch = claim(size)
        if not batch:
            delay = _next_retry_in() if wait else None
            if delay is None or delay > _cfg("REMINDERS_MAX_WAIT_SECONDS"):
                break
            time.sleep(delay + 0.01)
            continue
        if not current_app.config.get("MAIL_SERVER"):
            db.session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id.in_([row.id for row in batch]))
                .values(state="stored", claimed_by="")
            )
            db.session.commit()
            results.extend(("stored", row.to_address, row.subject) for row in batch)
            continue
        _send_batch(batch, results)
    return results
