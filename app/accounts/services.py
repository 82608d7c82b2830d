import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import abort, current_app, render_template, url_for
from flask_login import current_user

from app import audit
from app.auth.models import User
from app.auth.services import issue_reset_token
from app.dbtypes import unique_or_taken
from app.extensions import db, mail
from app.reminders.models import OutboxMessage
from app.timeutil import utcnow
from flask_mail import Message

log = logging.getLogger(__name__)
#: What an account change is about, for the audit trail (never the password hash or tokens).
ACCOUNT_FIELDS = ("email", "name", "role", "office_id", "is_active_account")


def get_account_or_404(user_id: int) -> User:
    """Load, then authorise: administrators manage every account."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if current_user.role != "admin":
        abort(403)
    return user


def create_account(*, email: str, name: str, role: str, office_id: int | None, by: User) -> tuple[User, str]:
    """A new account without a usable password, and the one-time link that lets its owner set one.
    Raises ``dbtypes.Taken`` when another account took the address since the form checked it."""
    user = User(email=email, name=name, role=role, office_id=office_id)
    user.set_unusable_password()
    with unique_or_taken():
        db.session.add(user)
    audit.record("user.create", user, after=audit.snapshot(user, ACCOUNT_FIELDS), actor=by)
    return user, issue_reset_token(user, by)


def update_account(user: User, *, name: str, role: str, office_id: int | None, by: User) -> bool:
    """Change name, role and office. A change of role or office ends the user's sessions."""
    if user.id == by.id and role != user.role:
        abort(409, "You cannot change your own role: ask another administrator.")
    before = audit.snapshot(user, ACCOUNT_FIELDS)
    user.name, user.role, user.office_id = name, role, office_id
    after = audit.snapshot(user, ACCOUNT_FIELDS)
    if before == after:
        return False
    if (before["role"], before["office_id"]) != (role, office_id):
        user.end_sessions()  # privileges changed: the next request signs in with the new ones
    audit.record("user.update", user, before=before, after=after, actor=by)
    return True


def deactivate(user: User, *, by: User | None, reason: str) -> None:
    if by is not None and user.id == by.id:
        abort(409, "You cannot deactivate your own account.")
    if not user.is_active_account:
        abort(409, "This account is already deactivated.")
    user.is_active_account = False
    user.active_changed_at = utcnow()
    user.end_sessions()
    audit.record(
        "user.deactivate",
        user,
        before={"is_active_account": True},
        after={"is_active_account": False, "reason": reason},
        actor=by,
    )


def reactivate(user: User, *, by: User) -> None:
    if user.is_active_account:
        abort(409, "This account is already active.")
    user.is_active_account = True
    # Idle time counts from now, or the idle job would deactivate it again tonight.
    user.active_changed_at = utcnow()
    audit.record(
        "user.reactivate", user, before={"is_active_account": False}, after={"is_active_account": True}, actor=by
    )


def idle_accounts(now: datetime, days: int):
    """Active accounts with no sign-in, creation or reactivation in the last ``days`` days."""
    cutoff = now - timedelta(days=days)
    last_seen = sa.func.coalesce(User.last_login_at, User.created_at)
    return db.session.scalars(
        sa.select(User)
        .where(
            User.is_active_account.is_(True),
            last_seen < cutoff,
            sa.or_(User.active_changed_at.is_(None), User.active_changed_at < cutoff),
        )
        .order_by(User.id)
    ).all()


def deactivate_idle_accounts(now: datetime | None = None) -> list[User]:
    """Deactivate accounts idle for IDLE_DEACTIVATION_DAYS (AC-2(3)); the caller commits. Safe to rerun."""
    now = now or utcnow()
    days = current_app.config["IDLE_DEACTIVATION_DAYS"]
    users = idle_accounts(now, days)
    for user in users:
        deactivate(user, by=None, reason=f"no sign-in for {days} days")
    return users


def run_idle_deactivation() -> int:
    """The scheduled job: deactivate idle accounts and commit. Returns how many were deactivated."""
    users = deactivate_idle_accounts()
    db.session.commit()
    if users:
        log.info("deactivated %d idle accounts", len(users))
    return len(users)


def reset_link(token: str) -> str:
    return url_for("auth.reset_password_page", token=token, _external=True)


def mail_reset_link(user: User, link: str) -> bool:
    """Send the link to its owner when mail is configured; called after the commit."""
    if not current_app.config.get("MAIL_SERVER"):
        return False
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    body = (
        f"Hello {user.name},\n\nSet your password for the Corrective Action Tracker with this link. "
        f"It works once, within {minutes // 60} hours:\n\n{link}\n\n"
        "If you did not expect this message, tell your administrator.\n"
    )
    try:
        mail.send(Message("Set your password", recipients=[user.email], body=body))
    except Exception:  # the account is saved; the administrator still sees the link
        log.exception("could not mail a password link to user %s", user.id)
        return False
    return True


def queue_keys_reset_notice(user: User, by: User) -> None:
    """Tell the person, through the outbox, that their keys were reset (sent after the commit)."""
    now = utcnow()
    link = url_for("auth.security_keys", _external=True)
    text = (
        f"Hello {user.name},\n\n{by.name}, an administrator of the Corrective Action Tracker, removed every "
        f"security key and recovery code of your account on {now:%b %-d, %Y at %H:%M} UTC.\n\n"
        f"Sign in with your password, then add a security key again:\n{link}\n\n"
        "If you did not ask for this, tell your administrator or security office at once.\n"
    )
    html = render_template("email/keys_reset.html", user=user, by=by, now=now, link=link)
    db.session.add(
        OutboxMessage(
            kind="account.keys_reset",
            item_type="user",
            item_id=user.id,
            recipient_id=user.id,
            period=now.isoformat(timespec="microseconds"),
            to_address=user.email,
            subject="Your security keys were reset",
            body_text=text,
            body_html=html,
        )
    )
