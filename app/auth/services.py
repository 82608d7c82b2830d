import hmac
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, session
from flask_login import login_user, logout_user
from werkzeug.security import generate_password_hash

from app import audit
from app.auth.models import User
from app.extensions import db
from app.timeutil import utcnow

_dummy_hash_cache: dict[str, str] = {}


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy_hash_cache:
        _dummy_hash_cache[method] = generate_password_hash("not-a-real-password", method=method)
    return _dummy_hash_cache[method]


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None. Unknown emails cost the same time as wrong passwords."""
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    if user is None:
        from werkzeug.security import check_password_hash
        check_password_hash(_dummy_hash(), password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


def sign_in(user: User) -> None:
    # A fresh session at sign-in: nothing a visitor planted in the cookie survives.
    session.clear()
    login_user(user)
    now = utcnow()
    session["signed_in_at"] = now.timestamp()
    session["seen_at"] = now.timestamp()
    user.last_login_at = now
    audit.record("auth.sign_in", user, actor=user)


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


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
