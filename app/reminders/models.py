from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.dbtypes import UTCDateTime, enum
from app.extensions import db
from app.timeutil import utcnow

#: pending: waiting to be sent (or retried); sending: claimed by one process; sent: the SMTP
#: server took it; stored: no MAIL_SERVER, kept here for admins to read; failed: gave up.
MESSAGE_STATES = ("pending", "sending", "sent", "stored", "failed")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_OFFSETS = "30,14,7,1"


class OutboxMessage(db.Model):
    """One email, written before it is sent: its key makes a second copy impossible."""

    __tablename__ = "reminder_messages"
    __table_args__ = (
        sa.UniqueConstraint("kind", "item_type", "item_id", "recipient_id", "period", name="uq_reminder_messages_key"),
        sa.Index("ix_reminder_messages_state_next", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the message is about, e.g. "milestone.due_in_7", "milestone.escalation_manager", "digest.weekly".
    kind: Mapped[str] = mapped_column(sa.String(60))
    item_type: Mapped[str] = mapped_column(sa.String(40))
    item_id: Mapped[int]
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    #: Which occurrence: the due date, the overdue week, the ISO week of a digest.
    period: Mapped[str] = mapped_column(sa.String(40))
    to_address: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(enum(*MESSAGE_STATES, name="reminder_message_state"), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The process that claimed the message for sending; a claim older than the lease is stale.
    claimed_by: Mapped[str] = mapped_column(sa.String(40), default="")
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient = relationship("User")

    @property
    def key(self) -> tuple:
        return self.kind, self.item_type, self.item_id, self.recipient_id, self.period


class ReminderPreference(db.Model):
    """A user's choice of optional reminders; escalations and federal deadline notices are not optional."""

    __tablename__ = "reminder_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), unique=True)
    due_soon: Mapped[bool] = mapped_column(default=True)
    due_today: Mapped[bool] = mapped_column(default=True)
    overdue_weekly: Mapped[bool] = mapped_column(default=True)
    weekly_digest: Mapped[bool] = mapped_column(default=True)
    #: 0 = Monday; None follows the admin's setting.
    digest_weekday: Mapped[int | None]
    digest_when_empty: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user = relationship("User")


class ReminderSettings(db.Model):
    """The admin's settings: one row."""

    __tablename__ = "reminder_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Days before the due date, comma-separated, e.g. "30,14,7,1" (at most ``MAX_OFFSETS`` of them).
    offsets: Mapped[str] = mapped_column(sa.String(100), default=DEFAULT_OFFSETS)
    escalate_manager_after_days: Mapped[int] = mapped_column(default=7)
    escalate_official_after_days: Mapped[int] = mapped_column(default=30)
    #: The audit follow-up official, who receives the late escalations.
    follow_up_official_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    digest_weekday: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    follow_up_official = relationship("User")

    @property
    def offset_days(self) -> tuple[int, ...]:
        return parse_offsets(self.offsets)


#: As many reminder days as the settings' 100 characters always hold: 25 of three digits and their commas.
MAX_OFFSETS = 25


def parse_offsets(text: str) -> tuple[int, ...]:
    """'30, 14,7,1' -> (30, 14, 7, 1): distinct, positive, largest first. Raises ValueError."""
    values = {int(part) for part in text.replace(" ", "").split(",") if part}
    if not values or min(values) < 1 or max(values) > 365:
        raise ValueError("offsets must be whole days between 1 and 365")
    return tuple(sorted(values, reverse=True))


class SchedulerLease(db.Model):
    """Who leads the scheduler: one row per lock name, rewritten by the leader at every heartbeat.

    On PostgreSQL the leadership itself is an advisory lock on a dedicated connection and this row
    only reports it; on SQLite the row is the lock: a leader whose lease expired has lost it.
    """

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    #: host:pid:random, unique per process run.
    holder: Mapped[str] = mapped_column(sa.String(120), default="")
    host: Mapped[str] = mapped_column(sa.String(255), default="")
    pid: Mapped[int] = mapped_column(default=0)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SchedulerNode(db.Model):
    """Every ``flask scheduler`` process, leader or standby: tells the deploy check how many hosts run."""

    __tablename__ = "scheduler_nodes"

    holder: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(255), index=True)
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
