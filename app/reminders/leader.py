"""One scheduler leader among every host that runs ``flask scheduler``, elected through the database.

PostgreSQL: the leader holds a session advisory lock on a connection of its own. The server lets
go of it as soon as that connection ends (the process died, or the host stopped answering
TCP keepalives), and a standby's next poll takes it. SQLite: the ``scheduler_leases`` row is the
lock; the leader renews its lease at every poll, and a lease not renewed in time is free.

Either way the leader writes its heartbeat (host, pid, time) into ``scheduler_leases``; /readyz,
/metrics and ``flask check`` read it. Jobs stay safe to run twice (the outbox keys and the claim
UPDATE), so the short overlap a hand-over may allow sends nothing twice.
"""

import logging
import os
import socket
import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.reminders.models import SchedulerLease, SchedulerNode
from app.timeutil import utcnow

log = logging.getLogger(__name__)

LOCK_NAME = "scheduler"
#: pg_try_advisory_lock key: a constant of this application, apart from the audit chain's.
PG_LOCK_KEY = 0x5CED01E
#: A scheduler process not seen for this long no longer counts as a host running the app.
NODE_FORGET_AFTER = timedelta(days=1)
DEFAULTS = {"SCHEDULER_LEASE_SECONDS": 30, "SCHEDULER_POLL_SECONDS": 10}
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def setting(app: Flask, name: str) -> float:
    return float(app.config.get(name) or DEFAULTS[name])


def _insert(dialect: str):
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


class Elector:
    """Polled by the scheduler's main loop: ``step()`` says whether this process leads now."""

    def __init__(self, app: Flask, name: str = LOCK_NAME):
        self.app = app
        self.name = name
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.holder = f"{self.host}:{self.pid}:{uuid.uuid4().hex[:8]}"
        self.lease = timedelta(seconds=setting(app, "SCHEDULER_LEASE_SECONDS"))
        self.is_leader = False
        self._lock_engine: sa.Engine | None = None
        self._lock_conn: sa.Connection | None = None

    # --- one poll ---------------------------------------------------------------------------

    def step(self) -> bool:
        with self.app.app_context():
            try:
                dialect = db.engine.dialect.name
                self._seen(dialect)
                leader = self._pg_hold() if dialect == "postgresql" else self._sqlite_hold()
                if leader:
                    self._heartbeat(dialect)
                db.session.commit()
            except sa.exc.SQLAlchemyError:
                db.session.rollback()
                log.exception("scheduler election: the database did not answer")
                self._drop_lock_connection()
                leader = False
            finally:
                db.session.remove()
        if leader != self.is_leader:
            log.warning("scheduler %s: %s", self.holder, "leader now" if leader else "standby now")
        self.is_leader = leader
        return leader

    def _seen(self, dialect: str) -> None:
        now = utcnow()
        stmt = _insert(dialect)(SchedulerNode.__table__).values(
            holder=self.holder, host=self.host, pid=self.pid, started_at=now, seen_at=now
        )
        db.session.execute(stmt.on_conflict_do_update(index_elements=["holder"], set_={"seen_at": now}))
        db.session.execute(sa.delete(SchedulerNode).where(SchedulerNode.seen_at < now - NODE_FORGET_AFTER))

    def _pg_hold(self) -> bool:
        if self._lock_conn is not None:
            try:  # the lock lives as long as this connection: prove it still does
                self._lock_conn.execute(sa.text("SELECT 1"))
                return True
            except sa.exc.SQLAlchemyError:
                log.warning("scheduler %s: lost the lock connection", self.holder)
                self._drop_lock_connection()
                return False
        if self._lock_engine is None:
            self._lock_engine = sa.create_engine(
                db.engine.url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT"
            )
        conn = self._lock_engine.connect()
        try:
            # A host that vanishes without closing its socket frees the lock after about 20 s.
            conn.execute(
                sa.text("SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3")
            )
            got = conn.scalar(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": PG_LOCK_KEY})
        except sa.exc.SQLAlchemyError:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._lock_conn = conn
        return True

    def _sqlite_hold(self) -> bool:
        now = utcnow()
        db.session.execute(
            _insert("sqlite")(SchedulerLease.__table__)
            .values(
                name=self.name, holder="", host="", pid=0, acquired_at=_EPOCH, heartbeat_at=_EPOCH, expires_at=_EPOCH
            )
            .on_conflict_do_nothing(index_elements=["name"])
        )
        taken = db.session.execute(
            sa.update(SchedulerLease)
            .where(
                SchedulerLease.name == self.name,
                sa.or_(SchedulerLease.holder == self.holder, SchedulerLease.expires_at < now),
            )
            .values(
                expires_at=now + self.lease,
                acquired_at=sa.case((SchedulerLease.holder == self.holder, SchedulerLease.acquired_at), else_=now),
                holder=self.holder,
                host=self.host,
                pid=self.pid,
            )
            .execution_options(synchronize_session=False)
        )
        return getattr(taken, "rowcount", 0) == 1

    def _heartbeat(self, dialect: str) -> None:
        now = utcnow()
        values = {
            "holder": self.holder,
            "host": self.host,
            "pid": self.pid,
            "heartbeat_at": now,
            "expires_at": now + self.lease,
        }
        stmt = _insert(dialect)(SchedulerLease.__table__).values(name=self.name, acquired_at=now, **values)
        acquired = sa.case(
            (SchedulerLease.__table__.c.holder == self.holder, SchedulerLease.__table__.c.acquired_at), else_=now
        )
        db.session.execute(
            stmt.on_conflict_do_update(index_elements=["name"], set_={**values, "acquired_at": acquired})
        )

    # --- leaving ----------------------------------------------------------------------------

    def _drop_lock_connection(self) -> None:
        if self._lock_conn is not None:
            try:
                self._lock_conn.close()
            except sa.exc.SQLAlchemyError:
                pass
            self._lock_conn = None

    def release(self) -> None:
        """A clean stop hands over at once: the standby need not wait for the lease to run out."""
        with self.app.app_context():
            try:
                if self.is_leader:
                    db.session.execute(
                        sa.update(SchedulerLease)
                        .where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder)
                        .values(expires_at=utcnow() - timedelta(seconds=1))
                    )
                db.session.execute(sa.delete(SchedulerNode).where(SchedulerNode.holder == self.holder))
                db.session.commit()
            except sa.exc.SQLAlchemyError:
                db.session.rollback()
            finally:
                db.session.remove()
        self._drop_lock_connection()
        if self._lock_engine is not None:
            self._lock_engine.dispose()
        self.is_leader = False


def current_lease(name: str = LOCK_NAME) -> SchedulerLease | None:
    """The leader's last heartbeat, or None when no scheduler ever led."""
    lease = db.session.get(SchedulerLease, name)
    return lease if lease is not None and lease.holder else None


def heartbeat_age(lease: SchedulerLease | None) -> float | None:
    return None if lease is None else max(0.0, (utcnow() - lease.heartbeat_at).total_seconds())


def scheduler_hosts(since: timedelta = NODE_FORGET_AFTER) -> list[str]:
    """Hosts whose scheduler process was seen lately, leader or standby."""
    return list(
        db.session.scalars(
            sa.select(SchedulerNode.host)
            .distinct()
            .where(SchedulerNode.seen_at >= utcnow() - since)
            .order_by(SchedulerNode.host)
        )
    )
