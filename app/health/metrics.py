"""Prometheus metrics: counted in each process, read from the database at scrape time.

Under gunicorn each worker is a process: with ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn.conf.py
does it) prometheus-client keeps the counters in files there and a scrape sums every worker's.
What the database knows (the outbox, the scheduler's heartbeat) is read when scraped, by whichever
worker answers, so it is never stale and never summed twice.
"""

import os
from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from app.timeutil import utcnow
from app.audit import AuditEvent
from app.reminders.leader import current_lease, heartbeat_age
from app.reminders.models import MESSAGE_STATES, OutboxMessage

REQUESTS = Counter(
    "tracker_http_requests_total", "HTTP requests answered, by endpoint and status.", ["endpoint", "method", "status"]
)
LATENCY = Histogram(
    "tracker_http_request_duration_seconds",
    "Time to answer a request, by endpoint and status.",
    ["endpoint", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
AUDIT_EVENTS = Counter("tracker_audit_events_written_total", "Audit events committed by this application.")


class DatabaseCollector(Collector):
    """Outbox depth by state, the oldest pending message's age, the scheduler heartbeat's age."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("tracker_outbox_messages", "Outbox messages by state.", labels=["state"])
        counts = dict(
            db.session.execute(sa.select(OutboxMessage.state, sa.func.count()).group_by(OutboxMessage.state)).all()
        )
        for state in MESSAGE_STATES:
            depth.add_metric([state], counts.get(state, 0))
        yield depth
        oldest = db.session.scalar(
            sa.select(sa.func.min(OutboxMessage.created_at)).where(OutboxMessage.state.in_(("pending", "sending")))
        )
        yield GaugeMetricFamily(
            "tracker_outbox_oldest_pending_age_seconds",
            "Age of the oldest message not yet sent (0 when none).",
            value=(utcnow() - oldest).total_seconds() if oldest else 0.0,
        )
        age = heartbeat_age(current_lease())
        yield GaugeMetricFamily(
            "tracker_scheduler_heartbeat_age_seconds",
            "Seconds since the scheduler leader's last heartbeat (-1: never ran).",
            value=-1.0 if age is None else age,
        )


def render() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        for collector in (REQUESTS, LATENCY, AUDIT_EVENTS):
            registry.register(collector)
    registry.register(DatabaseCollector())
    try:
        return generate_latest(registry)
    finally:
        db.session.rollback()


def _count_audit_inserts(session: Session, _flush_context, _instances) -> None:
    added = sum(1 for obj in session.new if isinstance(obj, AuditEvent))
    if added:
        session.info["audit_events_flushed"] = session.info.get("audit_events_flushed", 0) + added


def _commit(session: Session) -> None:
    added = session.info.pop("audit_events_flushed", 0)
    if added:
        AUDIT_EVENTS.inc(added)


def _rollback(session: Session) -> None:
    session.info.pop("audit_events_flushed", None)


def install_audit_counter() -> None:
    """Counted at commit: events of a transaction that rolled back were never written."""
    if not event.contains(Session, "before_flush", _count_audit_inserts):
        event.listen(Session, "before_flush", _count_audit_inserts)
        event.listen(Session, "after_commit", _commit)
        event.listen(Session, "after_rollback", _rollback)


__all__ = ["AUDIT_EVENTS", "LATENCY", "REQUESTS", "install_audit_counter", "render"]
