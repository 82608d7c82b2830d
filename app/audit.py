"""The audit trail every change goes through.

``record()`` appends an event to ``audit_events``. The table is append-only (the
database refuses UPDATE and DELETE, see the first migration) and hash-chained:
each row's ``hash`` covers its own content and the previous row's hash, so a row
altered outside the app breaks the chain at that row (``flask audit verify``).
"""
import hashlib
import json
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.dbtypes import UTCDateTime
from app.extensions import db
from app.timeutil import utcnow

GENESIS_HASH = "0" * 64
#: Serialises writers on PostgreSQL so that two transactions never chain onto the same row.
_PG_CHAIN_LOCK = 0x0A0D17


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    #: Dotted verb, e.g. "milestone.update", "recommendation.status", "auth.login_failed".
    action: Mapped[str] = mapped_column(sa.String(80), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(60), default="")
    object_id: Mapped[int | None]
    #: Lets a recommendation's history tab read its whole trail with one indexed query.
    recommendation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("recommendations.id", ondelete="RESTRICT"), index=True)
    #: Canonical JSON text, hashed as stored.
    before: Mapped[str] = mapped_column(sa.Text, default="")
    after: Mapped[str] = mapped_column(sa.Text, default="")
    ip: Mapped[str] = mapped_column(sa.String(45), default="")
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    actor = relationship("User")

    def compute_hash(self) -> str:
        parts = [
            self.prev_hash, self.occurred_at.isoformat(timespec="microseconds"),
            str(self.actor_id or ""), self.action, self.object_type, str(self.object_id or ""),
            str(self.recommendation_id or ""), self.before, self.after, self.ip,
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    @property
    def before_data(self) -> dict:
        return json.loads(self.before) if self.before else {}

    @property
    def after_data(self) -> dict:
        return json.loads(self.after) if self.after else {}

    def changes(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for every field that differs."""
        b, a = self.before_data, self.after_data
        return [(k, b.get(k), a.get(k)) for k in sorted(set(b) | set(a)) if b.get(k) != a.get(k)]


def _default(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def canonical_json(data: dict | None) -> str:
    if not data:
        return ""
    return json.dumps(data, sort_keys=True, default=_default, ensure_ascii=False)


def snapshot(obj, fields) -> dict:
    """The named attributes of ``obj``, for ``before=``/``after=``."""
    return {f: getattr(obj, f) for f in fields}


def object_type(obj) -> str:
    """How events name the kind of object they are about ("milestone", "lineofeffort")."""
    return type(obj).__name__.lower()


def _with_version(obj, after: dict | None) -> dict | None:
    """A versioned record's events carry the version the change produced: the edit-conflict
    check (app/versioning.py) reads what changed after a given version from them."""
    if after is None or obj is None or "version" in after:
        return after
    state = sa.inspect(obj, raiseerr=False)
    if state is None or getattr(state, "mapper", None) is None or state.mapper.version_id_col is None:
        return after
    return {**after, "version": obj.version}


def _client_ip() -> str:
    if not has_request_context():
        return ""
    return (request.remote_addr or "")[:45]


def _actor_id(actor) -> int | None:
    if actor is not None:
        return actor.id
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id
    return None


def record(action: str, obj=None, *, before: dict | None = None, after: dict | None = None,
           recommendation_id: int | None = None, actor=None) -> AuditEvent:
    """Append an audit event to the current transaction (the caller commits).

    ``obj`` names the object the event is about; ``before`` and ``after`` are
    dicts of the fields that matter (``snapshot()`` builds them).
    """
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_CHAIN_LOCK})
    session.flush()
    prev = session.execute(
        sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=_actor_id(actor),
        action=action,
        object_type=object_type(obj) if obj is not None else "",
        object_id=getattr(obj, "id", None) if obj is not None else None,
        recommendation_id=recommendation_id,
        before=canonical_json(before),
        after=canonical_json(_with_version(obj, after)),
        ip=_client_ip(),
        prev_hash=prev.hash if prev else GENESIS_HASH,
    )
    # Computed before the insert: the table refuses UPDATE. The previous hash fixes the order.
    event.hash = event.compute_hash()
    session.add(event)
    session.flush()
    return event


def verify_chain(batch_size: int = 5000):
    """Walk the chain in id order; return the first broken event's id and why, or None."""
    prev_hash = GENESIS_HASH
    last_id = 0
    while True:
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.id > last_id)
            .order_by(AuditEvent.id).limit(batch_size)).all()
        if not rows:
            return None
        for event in rows:
            if event.prev_hash != prev_hash:
                return event.id, "does not follow the previous event (a row was removed or reordered)"
            if event.compute_hash() != event.hash:
                return event.id, "content does not match its hash (the row was altered)"
            prev_hash = event.hash
            last_id = event.id
        db.session.expunge_all()
