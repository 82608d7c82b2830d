"""Sign-in, lockout, sessions and password resets.

The lockout counter lives on the ``users`` row and is changed by single conditional UPDATEs,
so that gunicorn workers (separate processes) count the same failures and never both lock.
"""

import secrets
from datetime import datetime, timedelta
from typing import cast

import sqlalchemy as sa
from flask import current_app, session
from flask_login import login_user, logout_user
from sqlalchemy.dialects import postgresql, sqlite
from werkzeug.security import check_password_hash, generate_password_hash

from app import audit
from app.auth.models import PasswordResetToken, SignInThrottle, User
from app.dbtypes import UTCDateTime
from app.extensions import db
from app.security import hash_token
from app.timeutil import utcnow

_dummy_hash_cache: dict[str, str] = {}


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy_hash_cache:
        _dummy_hash_cache[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return _dummy_hash_cache[method]


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None.

    Every path costs one password hash, so that the time does not tell an unknown email,
    a wrong password and a locked account apart; the caller shows one message for all.
    """
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    password_ok = user.check_password(password)
    now = utcnow()
    if user.is_locked(now):
        return None
    if user.locked_until is not None:
        _lock_expired(user)
    if not password_ok:
        record_failure(user, now)
        return None
    if not user.is_active:
        return None
    return user


def address_retry_after(address: str, now: datetime) -> int | None:
    """Seconds until ``address`` may try to sign in again, or None when it may now."""
    config = current_app.config
    row = db.session.get(SignInThrottle, address, populate_existing=True)
    if row is None or row.failures < config["SIGN_IN_ADDRESS_LIMIT"]:
        return None
    ends = row.window_start + timedelta(minutes=config["SIGN_IN_ADDRESS_WINDOW_MINUTES"])
    return max(1, int((ends - now).total_seconds()) + 1) if ends > now else None


def record_address_failure(address: str, now: datetime) -> None:
    """Count a failed sign-in from ``address`` in its window; a window that ended starts again at 1.
    Single statements, so that two workers never lose a count."""
    window_start = now - timedelta(minutes=current_app.config["SIGN_IN_ADDRESS_WINDOW_MINUTES"])
    table = SignInThrottle.__table__
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(table)
        .values(address=address, window_start=now, failures=0)
        .on_conflict_do_nothing(index_elements=["address"])
    )
    stale = SignInThrottle.window_start < window_start
    now_value = sa.literal(now, UTCDateTime)
    db.session.execute(
        sa.update(SignInThrottle)
        .where(SignInThrottle.address == address)
        .values(
            failures=sa.case((stale, 1), else_=SignInThrottle.failures + 1),
            window_start=sa.case((stale, now_value), else_=SignInThrottle.window_start),
        )
        .execution_options(synchronize_session=False)
    )


def _lock_expired(user: User) -> None:
    user.locked_until = None
    user.failed_sign_ins = 0
    user.first_failed_at = None
    audit.record("auth.unlock", user, after={"reason": "lock expired"}, actor=user)


def record_failure(user: User, now: datetime) -> bool:
    """Count a failed sign-in; lock the account at the threshold. True when this failure locked it."""
    config = current_app.config
    window_start = now - timedelta(minutes=config["LOCKOUT_WINDOW_MINUTES"])
    stale = sa.or_(User.first_failed_at.is_(None), User.first_failed_at < window_start)
    now_value = sa.literal(now, UTCDateTime)
    db.session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(
            failed_sign_ins=sa.case((stale, 1), else_=User.failed_sign_ins + 1),
            first_failed_at=sa.case((stale, now_value), else_=User.first_failed_at),
        )
        .execution_options(synchronize_session=False)
    )
    locked_until = now + timedelta(minutes=config["LOCKOUT_MINUTES"])
    result = db.session.execute(
        sa.update(User)
        .where(
            User.id == user.id,
            User.failed_sign_ins >= config["LOCKOUT_THRESHOLD"],
            sa.or_(User.locked_until.is_(None), User.locked_until <= now),
        )
        .values(locked_until=locked_until, failed_sign_ins=0, first_failed_at=None)
        .execution_options(synchronize_session=False)
    )
    locked = cast(sa.CursorResult, result).rowcount == 1  # DML returns a CursorResult
    db.session.expire(user, ["failed_sign_ins", "first_failed_at", "locked_until"])
    if locked:
        audit.record(
            "auth.lock", user, after={"locked_until": locked_until, "failures": config["LOCKOUT_THRESHOLD"]}, actor=user
        )
    return locked


def unlock(user: User, by: User) -> None:
    before = {"locked_until": user.locked_until, "failed_sign_ins": user.failed_sign_ins}
    user.locked_until = None
    user.failed_sign_ins = 0
    user.first_failed_at = None
    audit.record("auth.unlock", user, before=before, after={"reason": "unlocked by an administrator"}, actor=by)


def sign_in(user: User, *, method: str = "password", provider: str | None = None) -> None:
    # A fresh session at sign-in: nothing a visitor planted in the cookie survives,
    # and the new session carries its own random id.
    session.clear()
    login_user(user)
    now = utcnow()
    session["sid"] = secrets.token_urlsafe(16)
    session["signed_in_at"] = now.timestamp()
    session["seen_at"] = now.timestamp()
    user.last_login_at = now
    user.failed_sign_ins = 0
    user.first_failed_at = None
    session["sign_in_method"] = method
    details = {"method": method}
    if provider:
        details["provider"] = provider
    audit.record("auth.sign_in", user, after=details, actor=user)


def sign_out(user: User) -> None:
    user.end_sessions()
    audit.record("auth.sign_out", user, actor=user)
    logout_user()
    session.clear()


def session_expired(now_ts: float) -> bool:
    """True when the session has been idle too long or is older than its absolute limit."""
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]).total_seconds()
    absolute = timedelta(hours=current_app.config["SESSION_MAX_HOURS"]).total_seconds()
    signed_in_at = session.get("signed_in_at", 0)
    seen_at = session.get("seen_at", 0)
    return now_ts - seen_at > idle or now_ts - signed_in_at > absolute


# --- passwords ------------------------------------------------------------------


def change_password(user: User, password: str, *, actor: User | None = None, via: str) -> None:
    """Set a new password and end every session of the user (the caller signs the user in again)."""
    user.set_password(password)
    user.end_sessions()
    user.locked_until = None
    user.failed_sign_ins = 0
    user.first_failed_at = None
    audit.record("auth.password_change", user, after={"via": via}, actor=actor or user)


def issue_reset_token(user: User, by: User | None) -> str:
    """A new one-time reset token for ``user``; earlier unused ones stop working. Returns the secret."""
    now = utcnow()
    db.session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(minutes=current_app.config["PASSWORD_RESET_MINUTES"])
    db.session.add(
        PasswordResetToken(
            user_id=user.id, token_hash=hash_token(token), created_by_id=by.id if by else None, expires_at=expires_at
        )
    )
    audit.record("user.reset_link", user, after={"expires_at": expires_at}, actor=by)
    return token


def find_reset_token(token: str) -> PasswordResetToken | None:
    """The usable reset token for this secret (unexpired, unused, active user), or None."""
    if not token or len(token) > 100:
        return None
    found = db.session.scalar(sa.select(PasswordResetToken).where(PasswordResetToken.token_hash == hash_token(token)))
    if found is None or not found.is_usable(utcnow()) or not found.user.is_active:
        return None
    return found


def use_reset_token(reset: PasswordResetToken, password: str) -> bool:
    """Spend the token and set the password. False when another request spent it first."""
    result = db.session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.id == reset.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    spent = cast(sa.CursorResult, result).rowcount == 1  # DML returns a CursorResult
    if not spent:
        return False
    change_password(reset.user, password, actor=reset.user, via="reset link")
    return True
