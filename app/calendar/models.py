"""The secret token in a user's private calendar feed URL."""

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.dbtypes import UTCDateTime
from app.extensions import db
from app.security import hash_token
from app.timeutil import utcnow


class CalendarToken(db.Model):
    """One per feed URL; revoking it (or making a new one) makes the old URL answer 404."""

    __tablename__ = "calendar_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    #: Only the hash is kept: a database dump does not give away anyone's feed.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", lazy="joined")

    @classmethod
    def issue(cls, user) -> tuple["CalendarToken", str]:
        secret = secrets.token_urlsafe(32)
        token = cls(user_id=user.id, user=user, token_hash=hash_token(secret))
        db.session.add(token)
        return token, secret
