from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.dbtypes import UTCDateTime, enum
from app.extensions import db
from app.timeutil import utcnow

#: The kinds of event a person is told of, each with its own preference.
EVENT_KINDS = (
    "submission_sent",
    "oig_decision",
    "evidence_reviewed",
    "date_change_requested",
    "date_change_decided",
    "comment",
    "metric_flag",
    "target_change_requested",
    "target_change_decided",
)
#: How a person takes a kind of event by email: at once, in one daily summary, or not at all.
#: The in-app notification is made in every case.
EMAIL_MODES = ("immediate", "daily", "off")


class Notification(db.Model):
    """One event told to one person: the inbox line, and what its email says."""

    __tablename__ = "notifications"
    __table_args__ = (
        #: Once per recipient per event: the same event told twice is refused by the database.
        sa.UniqueConstraint(
            "recipient_id", "kind", "item_type", "item_id", "occurrence", name="uq_notifications_event"
        ),
        #: The header's unread count: an index of the unread rows only.
        sa.Index(
            "ix_notifications_unread",
            "recipient_id",
            sqlite_where=sa.text("read_at IS NULL"),
            postgresql_where=sa.text("read_at IS NULL"),
        ),
        #: The inbox, newest first.
        sa.Index("ix_notifications_recipient_id", "recipient_id", "id"),
        #: What the daily summary has still to send.
        sa.Index(
            "ix_notifications_daily_pending",
            "created_at",
            sqlite_where=sa.text("email = 'daily' AND summarised_on IS NULL"),
            postgresql_where=sa.text("email = 'daily' AND summarised_on IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(enum(*EVENT_KINDS, name="notification_kind"))
    #: What the event is about (submission, evidence_review, due_date_change, target_change, comment, metric_flag).
    item_type: Mapped[str] = mapped_column(sa.String(40))
    item_id: Mapped[int]
    #: Which occurrence of the event on that item (a flag raised again is a new one).
    occurrence: Mapped[str] = mapped_column(sa.String(40), default="")
    recommendation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("recommendations.id", ondelete="RESTRICT"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    #: One sentence: the recommendation, what happened, who did it.
    text: Mapped[str] = mapped_column(sa.String(500))
    #: Why this person is told, said in the email.
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    #: The item's path in the app (the email puts BASE_URL before it).
    link: Mapped[str] = mapped_column(sa.String(500))
    email: Mapped[str] = mapped_column(enum(*EMAIL_MODES, name="notification_email"), default="immediate")
    #: The day the daily summary carrying it was written (``email == 'daily'`` only).
    summarised_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient = relationship("User", foreign_keys=[recipient_id])


class NotificationPreference(db.Model):
    """A person's choice for one kind of event; no row means "immediately"."""

    __tablename__ = "notification_preferences"
    __table_args__ = (sa.UniqueConstraint("user_id", "kind", name="uq_notification_preferences_user_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(enum(*EVENT_KINDS, name="notification_preference_kind"))
    mode: Mapped[str] = mapped_column(enum(*EMAIL_MODES, name="notification_preference_mode"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
