import secrets
import unicodedata
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.dbtypes import UTCDateTime, enum
from app.extensions import db
from app.timeutil import utcnow

ROLES = ("action_office", "oig_reviewer", "manager", "admin")
ROLE_LABELS = {
    "action_office": "Action office",
    "oig_reviewer": "OIG reviewer",
    "manager": "Manager",
    "admin": "Administrator",
}


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    #: Indexed for who may read a recommendation: every reviewer and administrator, and its office (migration 2000).
    role: Mapped[str] = mapped_column(enum(*ROLES, name="user_role"), index=True)
    office_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offices.id", ondelete="RESTRICT"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    #: Rotated at sign-out and password change: a replayed session cookie carries the old one.
    #: Every request finds its user by this token (index: migration 0900).
    session_token: Mapped[str] = mapped_column(sa.String(64), default=new_session_token, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Failed sign-ins since ``first_failed_at``; kept in the database so every worker sees them.
    failed_sign_ins: Mapped[int] = mapped_column(default=0, server_default="0")
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the account was last deactivated or reactivated: a reactivated account is not idle.
    active_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: May sign in with a password at /sign-in/break-glass when PASSWORD_SIGN_IN is off (set by the CLI).
    break_glass: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    office = relationship("Office", lazy="joined")

    # Flask-Login: the id in the session is the session token, not the primary key,
    # so that ending the session server-side is a matter of rotating the token.
    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(
            normalise_password(password), method=current_app.config["PASSWORD_HASH_METHOD"]
        )
        self.password_changed_at = utcnow()

    def set_unusable_password(self) -> None:
        """No password works until the user sets one through a reset link."""
        self.password_hash = "!" + secrets.token_hex(32)

    def check_password(self, password: str) -> bool:
        if self.password_hash.startswith("!"):
            return False
        return check_password_hash(self.password_hash, normalise_password(password))

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    def end_sessions(self) -> None:
        self.session_token = new_session_token()

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


def normalise_password(password: str) -> str:
    # NIST SP 800-63B 5.1.1.2: the same passphrase typed on two keyboards must hash the same.
    return unicodedata.normalize("NFKC", password)


class PasswordResetToken(db.Model):
    """A one-time link to set a password. Only the token's SHA-256 is stored."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", foreign_keys=[user_id])

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and self.expires_at > now


class SignInThrottle(db.Model):
    """Failed sign-ins per client address in the current window (AC-7 against password spraying:
    many accounts, few tries each, from one address). In the database so that every worker counts
    the same failures."""

    __tablename__ = "sign_in_throttles"

    address: Mapped[str] = mapped_column(sa.String(45), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(default=0)


class ExternalIdentity(db.Model):
    """The identity provider's account that signs in as this user: linked once by verified email,
    found by (issuer, subject) ever after, so that a changed email at the provider changes nothing here."""

    __tablename__ = "external_identities"
    __table_args__ = (sa.UniqueConstraint("issuer", "subject", name="uq_external_identities_issuer_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    issuer: Mapped[str] = mapped_column(sa.String(300))
    subject: Mapped[str] = mapped_column(sa.String(255))
    #: The email the provider vouched for when the link was made.
    email: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")


class SecurityKey(db.Model):
    """A WebAuthn credential (security key or passkey) registered by its owner."""

    __tablename__ = "security_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    #: base64url of the credential id (at most 1023 bytes by the specification).
    credential_id: Mapped[str] = mapped_column(sa.String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    #: The authenticator's signature counter: a counter that goes backwards betrays a cloned key.
    sign_count: Mapped[int] = mapped_column(default=0)
    transports: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")


class RecoveryCode(db.Model):
    """A one-time code that stands in for a lost security key. Only its SHA-256 is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
