import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app import audit
from app.auth.models import User
from app.dbtypes import Taken, unique_or_taken
from app.extensions import db
from app.inputs import page_status
from app.permissions import ANY_ROLE, roles
from app.notifications import services as notify
from app.notifications.decide import KINDS_FOR_ROLE
from app.reminders import bp
from app.reminders.forms import PreferencesForm, SettingsForm
from app.reminders.models import MESSAGE_STATES, WEEKDAYS, OutboxMessage, ReminderSettings, parse_offsets
from app.reminders.send import deliver_pending, requeue_stored
from app.reminders.services import get_preferences, get_settings
from app.timeutil import utcnow

PREFERENCE_FIELDS = ("due_soon", "due_today", "overdue_weekly", "weekly_digest", "digest_weekday", "digest_when_empty")
SETTINGS_FIELDS = (
    "offsets",
    "escalate_manager_after_days",
    "escalate_official_after_days",
    "follow_up_official_id",
    "digest_weekday",
)
OUTBOX_PAGE_SIZE = 100


def _save_preferences(prefs, form, kinds) -> None:
    before = audit.snapshot(prefs, PREFERENCE_FIELDS) if prefs.id else None
    modes = {kind: getattr(form, f"notify_{kind}").data for kind in kinds if getattr(form, f"notify_{kind}").data}
    # The notify_* choices are not columns of the reminder preferences: stored apart.
    for name, f in form._fields.items():
        if not name.startswith("notify_") and name != "csrf_token":
            f.populate_obj(prefs, name)
    prefs.digest_weekday = int(form.digest_weekday.data) if form.digest_weekday.data else None
    db.session.add(prefs)
    db.session.flush()
    audit.record("reminder.preferences", prefs, before=before, after=audit.snapshot(prefs, PREFERENCE_FIELDS))
    previous = notify.set_preferences(current_user, modes)
    db.session.flush()
    now = notify.preferences_of(current_user)
    if any(previous[k] != now[k] for k in modes):
        audit.record(
            "notification.preferences",
            current_user._get_current_object(),
            before={k: previous[k] for k in modes},
            after={k: now[k] for k in modes},
        )


@bp.route("/preferences", methods=["GET", "POST"])
@roles(*ANY_ROLE)
def preferences():
    prefs = get_preferences(current_user)
    form = PreferencesForm(obj=prefs)
    kinds = KINDS_FOR_ROLE.get(current_user.role, ())
    if request.method == "GET":
        form.digest_weekday.data = "" if prefs.digest_weekday is None else str(prefs.digest_weekday)
        for kind, mode in notify.preferences_of(current_user).items():
            getattr(form, f"notify_{kind}").data = mode
    if form.validate_on_submit():
        try:
            with unique_or_taken():
                _save_preferences(prefs, form, kinds)
        except Taken:  # the same person's other save (a double click) stored them first: save over it
            db.session.rollback()
            _save_preferences(get_preferences(current_user), form, kinds)
        db.session.commit()
        flash("Your email preferences are saved.", "success")
        return redirect(url_for("reminders.preferences"))
    status = page_status(form)
    db.session.rollback()
    settings_row = db.session.get(ReminderSettings, 1)
    return render_template(
        "reminders/preferences.html",
        form=form,
        notify_kinds=kinds,
        default_day=WEEKDAYS[settings_row.digest_weekday if settings_row else 0],
    ), status


@bp.route("/settings", methods=["GET", "POST"])
@roles("admin")
def settings():
    current = get_settings()
    form = SettingsForm(obj=current)
    officials = db.session.execute(
        sa.select(User.id, User.name, User.email).where(User.is_active_account.is_(True)).order_by(User.name, User.id)
    ).all()
    form.follow_up_official_id.choices = [SelectChoice("", "Nobody")] + [
        SelectChoice(str(i), f"{n} ({e})") for i, n, e in officials
    ]
    if request.method == "GET":
        form.follow_up_official_id.data = str(current.follow_up_official_id or "")
        form.digest_weekday.data = str(current.digest_weekday)
    if form.validate_on_submit():
        before = audit.snapshot(current, SETTINGS_FIELDS)
        current.offsets = ",".join(str(o) for o in parse_offsets(form.offsets.data))
        current.escalate_manager_after_days = form.escalate_manager_after_days.data
        current.escalate_official_after_days = form.escalate_official_after_days.data
        current.follow_up_official_id = (
            int(form.follow_up_official_id.data) if form.follow_up_official_id.data else None
        )
        current.digest_weekday = int(form.digest_weekday.data)
        db.session.flush()
        audit.record("reminder.settings", current, before=before, after=audit.snapshot(current, SETTINGS_FIELDS))
        db.session.commit()
        flash("Reminder settings are saved.", "success")
        return redirect(url_for("reminders.settings"))
    status = page_status(form)
    db.session.rollback()
    return render_template("reminders/settings.html", form=form), status


@bp.route("/outbox")
@roles("admin")
def outbox():
    state = request.args.get("state", "")
    if state not in MESSAGE_STATES:
        state = ""
    counts = dict(
        db.session.execute(sa.select(OutboxMessage.state, sa.func.count()).group_by(OutboxMessage.state)).all()
    )
    query = (
        sa.select(OutboxMessage)
        .options(joinedload(OutboxMessage.recipient))
        .order_by(OutboxMessage.id.desc())
        .limit(OUTBOX_PAGE_SIZE)
    )
    if state:
        query = query.where(OutboxMessage.state == state)
    messages = db.session.scalars(query).unique().all()
    return render_template(
        "reminders/outbox.html",
        messages=messages,
        counts=counts,
        state=state,
        states=MESSAGE_STATES,
        page_size=OUTBOX_PAGE_SIZE,
        mail_configured=bool(current_app.config.get("MAIL_SERVER")),
    )


@bp.route("/outbox/send-stored", methods=["POST"])
@roles("admin")
def send_stored():
    """Send now what was stored while no mail server was configured: committed first, then sent."""
    if not current_app.config.get("MAIL_SERVER"):
        flash("No mail server is configured (MAIL_SERVER): the stored messages cannot be sent yet.", "error")
        return redirect(url_for("reminders.outbox", state="stored"))
    count = requeue_stored()
    audit.record("reminder.send_stored", after={"requeued": count})
    db.session.commit()
    results = deliver_pending(wait=False)
    sent = sum(1 for state, _, _ in results if state == "sent")
    flash(
        f"{count} stored message{'s' if count != 1 else ''} queued; {sent} sent now, "
        f"any other is retried by the scheduler.",
        "success",
    )
    return redirect(url_for("reminders.outbox"))


@bp.route("/outbox/<int:message_id>")
@roles("admin")
def message(message_id: int):
    row = db.session.get(OutboxMessage, message_id) or abort(404)
    return render_template("reminders/message.html", message=row)


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
@roles("admin")
def retry(message_id: int):
    row = db.session.get(OutboxMessage, message_id) or abort(404)
    if row.state != "failed":
        abort(409)
    before = audit.snapshot(row, ("state", "attempts", "last_error"))
    row.state, row.attempts, row.next_attempt_at = "pending", 0, utcnow()
    audit.record("reminder.retry", row, before=before, after=audit.snapshot(row, ("state", "attempts", "last_error")))
    db.session.commit()
    flash("The message is queued again; the scheduler sends it within a minute.", "success")
    return redirect(url_for("reminders.message", message_id=row.id))
