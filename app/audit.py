"""The audit trail every change goes through.

``record()`` appends an event to ``audit_events``. The table is append-only (the
database refuses UPDATE and DELETE, see the first migration) and hash-chained:
each row's ``hash`` covers its own content and the previous row's hash, so a row
altered outside the app breaks the chain at that row (``flask audit verify``).
"""

import hashlib
import json
from datetime import date, datetime, timezone
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
    __table_args__ = (
        sa.Index("ix_audit_events_object", "object_type", "object_id"),
        # A recommendation's trail newest first, read in order from the index (migration 1850_bench).
        sa.Index("ix_audit_events_recommendation_trail", "recommendation_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    #: Dotted verb, e.g. "milestone.update", "recommendation.status", "auth.login_failed".
    action: Mapped[str] = mapped_column(sa.String(80), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(60), default="")
    object_id: Mapped[int | None]
    #: Lets a recommendation's history tab read its whole trail with one indexed query.
    recommendation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("recommendations.id", ondelete="RESTRICT"))
    #: Canonical JSON text, hashed as stored.
    before: Mapped[str] = mapped_column(sa.Text, default="")
    after: Mapped[str] = mapped_column(sa.Text, default="")
    ip: Mapped[str] = mapped_column(sa.String(45), default="")
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    actor = relationship("User")

    def compute_hash(self) -> str:
        return chain_hash(self.prev_hash, self.occurred_at, **{c: getattr(self, c) for c in _HASHED})

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


_HASHED = ("actor_id", "action", "object_type", "object_id", "recommendation_id", "before", "after", "ip")


def chain_hash(
    prev_hash: str,
    occurred_at: datetime,
    *,
    actor_id,
    action,
    object_type,
    object_id,
    recommendation_id,
    before,
    after,
    ip,
) -> str:
    parts = [
        prev_hash,
        occurred_at.isoformat(timespec="microseconds"),
        str(actor_id or ""),
        action,
        object_type,
        str(object_id or ""),
        str(recommendation_id or ""),
        before,
        after,
        ip,
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


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


def assign(obj, fields, values: dict) -> tuple[dict, dict]:
    """Set ``values`` on ``obj``: its ``fields`` before and after, for ``record`` (equal when
    nothing changed)."""
    before = snapshot(obj, fields)
    for name, value in values.items():
        setattr(obj, name, value)
    return before, snapshot(obj, fields)


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


def hold_chain_lock(session) -> None:
    """Hold the database's write lock for the rest of the transaction before the head is read.

    Without it two transactions read the same head and both chain onto it (a fork that
    ``verify_chain`` reports for ever). PostgreSQL: a transaction-scoped advisory lock, and
    READ COMMITTED lets the next statement see the head the previous holder committed.
    SQLite: pysqlite opens a transaction only at the first INSERT/UPDATE/DELETE, so when the
    audit row is the request's first write the head would be read outside any transaction; a
    write that matches no row begins the transaction and takes SQLite's single write lock
    (waiting up to ``busy_timeout``), and the head is then read under it.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_CHAIN_LOCK})
    elif dialect == "sqlite":
        session.execute(sa.text("UPDATE audit_events SET id = id WHERE 0"))


def record(
    action: str,
    obj=None,
    *,
    before: dict | None = None,
    after: dict | None = None,
    recommendation_id: int | None = None,
    actor=None,
) -> AuditEvent:
    """Append an audit event to the current transaction (the caller commits).

    ``obj`` names the object the event is about; ``before`` and ``after`` are
    dicts of the fields that matter (``snapshot()`` builds them).
    """
    session = db.session
    session.flush()
    hold_chain_lock(session)
    prev = session.execute(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
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


def time_column(dialect: str):
    # SQLite keeps the time as text, which anyone with the file can make unreadable: read it as
    # text and parse it here, so that such a row is named instead of ending the walk in a traceback.
    if dialect == "sqlite":
        return sa.type_coerce(AuditEvent.occurred_at, sa.String).label("occurred_at")
    return AuditEvent.occurred_at


def _parse_time(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


def _row_problem(row) -> str | None:
    """Why a row read raw cannot be rebuilt into an event (a column made unreadable), or None."""
    try:
        _parse_time(row.occurred_at)
    except (TypeError, ValueError):
        return f"its time {str(row.occurred_at)[:40]!r} cannot be read (the row was altered)"
    for column in ("action", "object_type", "before", "after", "ip", "prev_hash", "hash"):
        if not isinstance(getattr(row, column), str):
            return f"its {column} is missing (the row was altered)"
    return None


def verify_chain(batch_size: int = 5000, checkpoints=()):
    """Walk the chain in id order; return the first broken event's id and why, or None.

    ``checkpoints`` (``app.checkpoints.Checkpoint``, signatures already checked) name heads the
    chain once had: each must still be there with its hash; one beyond the last row means the
    newest rows were removed.
    """
    dialect = db.session.get_bind().dialect.name
    columns = [
        AuditEvent.id,
        time_column(dialect),
        AuditEvent.prev_hash,
        AuditEvent.hash,
        *(getattr(AuditEvent, c) for c in _HASHED),
    ]
    # Checkpoints in id order; ``due`` is the next one the walk has to meet.
    pending = sorted((c for c in checkpoints if c.event_id > 0), key=lambda c: c.event_id)
    due = 0
    prev_hash = GENESIS_HASH
    last_id = 0
    while True:
        rows = db.session.execute(
            sa.select(*columns).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch_size)
        ).all()
        if not rows:
            break
        for row in rows:
            if due < len(pending) and pending[due].event_id < row.id:
                missing = pending[due]
                return missing.event_id, (
                    f"is missing: the checkpoint of {missing.at} names it as the head (a row was removed)"
                )
            problem = _row_problem(row)
            if problem:
                return row.id, problem
            if row.prev_hash != prev_hash:
                return row.id, "does not follow the previous event (a row was removed, reordered or altered)"
            if (
                chain_hash(row.prev_hash, _parse_time(row.occurred_at), **{c: getattr(row, c) for c in _HASHED})
                != row.hash
            ):
                return row.id, "content does not match its hash (the row was altered)"
            while due < len(pending) and pending[due].event_id == row.id:
                if pending[due].hash != row.hash:
                    return row.id, (
                        f"differs from the checkpoint of {pending[due].at} (the chain was rewritten up to here)"
                    )
                due += 1
            prev_hash = row.hash
            last_id = row.id
    if due < len(pending):
        newest = pending[-1]
        return newest.event_id, (
            f"is missing: the chain ends at event {last_id}, but the checkpoint of "
            f"{newest.at} names event {newest.event_id} as the head (the newest rows "
            "were removed)"
        )
    return None
