"""Personal access tokens for the JSON API: shown once, stored as a SHA-256 hash, revocable."""

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.dbtypes import UTCDateTime, enum
from app.extensions import db
from app.security import hash_token
from app.timeutil import utcnow

TOKEN_SCOPES = ("read", "write")
#: Makes a leaked token recognisable to secret scanners and to people.
TOKEN_PREFIX = "cat_"


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    scope: Mapped[str] = mapped_column(enum(*TOKEN_SCOPES, name="api_token_scope"), default="read")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The first characters, so that a user can tell their tokens apart.
    hint: Mapped[str] = mapped_column(sa.String(12), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", lazy="joined")

    @classmethod
    def listed_for(cls, user) -> list["ApiToken"]:
        """The user's tokens, newest first."""
        return list(
            db.session.scalars(
                sa.select(cls).where(cls.user_id == user.id).order_by(cls.created_at.desc(), cls.id.desc())
            )
        )

    @classmethod
    def issue(cls, user, scope: str, name: str = "") -> tuple["ApiToken", str]:
        """A new token row (added to the session) and its secret, which is never stored."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls(
            user_id=user.id, user=user, scope=scope, name=name[:100], token_hash=hash_token(secret), hint=secret[:10]
        )
        db.session.add(token)
        return token, secret

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.user.is_active

    def allows(self, scope: str) -> bool:
        return scope == "read" or self.scope == "write"

    def __repr__(self) -> str:
        return f"<ApiToken {self.hint} {self.scope}>"
