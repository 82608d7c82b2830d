"""Preferences for every user; settings and the outbox for admins; the scheduler's configuration."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.reminders.cli import MISFIRE_GRACE_SECONDS, build_scheduler
from app.reminders.models import OutboxMessage, ReminderPreference, ReminderSettings
from app.reminders.services import run_daily
from app.timeutil import today
from tests.querycount import count_queries


@pytest.mark.parametrize("role", ["action_office", "oig_reviewer", "manager", "admin"])
def test_every_user_sets_their_optional_reminders(client, login_as, db, role):
    user = login_as(role)
    assert client.get("/reminders/preferences").status_code == 200
    data = {"due_today": "y", "weekly_digest": "y", "digest_weekday": "3"}
    response = client.post_form("/reminders/preferences", data, token_from="/reminders/preferences")
    assert response.status_code == 302
    prefs = db.session.scalar(sa.select(ReminderPreference).where(ReminderPreference.user_id == user.id))
    assert (prefs.due_soon, prefs.due_today, prefs.overdue_weekly, prefs.digest_weekday) == (False, True, False, 3)
    assert db.session.scalar(sa.select(AuditEvent.action).order_by(AuditEvent.id.desc())) == "reminder.preferences"


def test_a_preference_turned_off_stops_that_reminder(client, login_as, db, make):
    owner = login_as("action_office")
    make.milestone(owner=owner, due=today() + timedelta(days=7))
    db.session.commit()
    response = client.post_form("/reminders/preferences", {"due_today": "y"}, token_from="/reminders/preferences")
    assert response.status_code == 302
    assert run_daily(today()) == []


def test_an_invalid_preference_is_refused_and_changes_nothing(client, login_as, db):
    login_as("manager")
    response = client.post_form("/reminders/preferences", {"digest_weekday": "9"}, token_from="/reminders/preferences")
    assert response.status_code == 400
    assert "Choose a day of the week." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReminderPreference)) == 0


def test_admin_changes_the_settings(client, login_as, db, make):
    official = make.user("manager", name="Follow Up")
    login_as("admin")
    data = {
        "offsets": "10, 3,3",
        "escalate_manager_after_days": "5",
        "escalate_official_after_days": "20",
        "follow_up_official_id": str(official.id),
        "digest_weekday": "4",
    }
    assert client.post_form("/reminders/settings", data, token_from="/reminders/settings").status_code == 302
    s = db.session.get(ReminderSettings, 1)
    assert (
        s.offsets,
        s.escalate_manager_after_days,
        s.escalate_official_after_days,
        s.follow_up_official_id,
        s.digest_weekday,
    ) == ("10,3", 5, 20, official.id, 4)


@pytest.mark.parametrize(
    "field, value",
    [
        ("offsets", "30, soon"),
        ("offsets", "0"),
        ("escalate_official_after_days", "3"),
        ("escalate_manager_after_days", "x"),
        ("digest_weekday", "7"),
    ],
)
def test_invalid_settings_are_refused_next_to_the_field(client, login_as, db, field, value):
    login_as("admin")
    data = {
        "offsets": "30,14,7,1",
        "escalate_manager_after_days": "7",
        "escalate_official_after_days": "30",
        "follow_up_official_id": "",
        "digest_weekday": "0",
        field: value,
    }
    response = client.post_form("/reminders/settings", data, token_from="/reminders/settings")
    assert response.status_code == 400
    assert "usa-error-message" in response.get_data(as_text=True)
    assert db.session.get(ReminderSettings, 1) is None


@pytest.mark.parametrize("role", ["action_office", "oig_reviewer", "manager"])
def test_only_admins_see_the_outbox_and_settings(client, login_as, role):
    login_as(role)
    assert client.get("/reminders/outbox").status_code == 403
    assert client.get("/reminders/settings").status_code == 403


def test_the_outbox_query_count_does_not_grow_with_its_rows(app, client, login_as, db, make):
    login_as("admin")

    def add(n):
        for _ in range(n):
            make.milestone(owner=make.user("action_office"), due=today() + timedelta(days=7))
        db.session.commit()
        run_daily(today())

    add(1)
    with count_queries(app) as few:
        assert client.get("/reminders/outbox").status_code == 200
    add(10)
    with count_queries(app) as many:
        page = client.get("/reminders/outbox").get_data(as_text=True)
    assert page.count("Due in 7 days") == 11
    assert many.count == few.count


def test_admin_sends_a_failed_message_again(client, login_as, db, make):
    make.milestone(owner=make.user("action_office"), due=today() + timedelta(days=7))
    db.session.commit()
    run_daily(today())
    row = db.session.scalar(sa.select(OutboxMessage))
    login_as("admin")
    url = f"/reminders/outbox/{row.id}/retry"
    assert client.post_form(url, token_from=f"/reminders/outbox/{row.id}").status_code == 409  # stored, not failed
    row.state = "failed"
    db.session.commit()
    assert "Send again" in client.get(f"/reminders/outbox/{row.id}").get_data(as_text=True)
    assert client.post_form(url, token_from=f"/reminders/outbox/{row.id}").status_code == 302
    db.session.refresh(row)
    assert (row.state, row.attempts) == ("pending", 0)


def test_the_scheduler_coalesces_missed_runs_and_runs_the_daily_job_at_start(app):
    scheduler = build_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        "reminders.daily",
        "housekeeping.daily",
        "notifications.daily_summary",
        "reminders.deliver",
        "audit.checkpoint",
    }
    for job in jobs.values():
        assert job.coalesce is True
        assert job.misfire_grace_time == MISFIRE_GRACE_SECONDS
        assert job.max_instances == 1
    assert jobs["reminders.daily"].next_run_time is not None
    # An event's email leaves within a minute of its commit (issue 16).
    assert jobs["reminders.deliver"].trigger.interval.total_seconds() == 60


def test_the_daily_housekeeping_raises_missing_readings_and_ends_idle_accounts(app, db, make):
    from datetime import datetime, timedelta, timezone

    from app.auth.models import User
    from app.metrics.models import Flag, Metric
    from app.reminders.cli import housekeeping_job
    from app.timeutil import today

    idle = make.user("action_office", last_login_at=datetime.now(timezone.utc) - timedelta(days=120))
    line = make.line()
    metric = Metric(
        line_of_effort_id=line.id,
        name="Monthly submissions",
        target_value=100,
        frequency="monthly",
        components="ICE",
        collect_from=today() - timedelta(days=70),
    )
    db.session.add(metric)
    db.session.commit()
    housekeeping_job(app)
    db.session.expire_all()
    assert db.session.get(User, idle.id).is_active_account is False
    flags = db.session.scalars(db.select(Flag).where(Flag.metric_id == metric.id)).all()
    assert flags and {f.kind for f in flags} == {"missing"} and {f.status for f in flags} == {"open"}


def test_the_preferences_page_writes_nothing_until_saved(client, login_as, db):
    """Showing a person's default preferences inserts no row (on SQLite an insert, even one rolled
    back, takes the database's one write lock for the rest of the request)."""
    from sqlalchemy import event

    login_as("oig_reviewer")
    writes = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith(("INSERT", "UPDATE", "DELETE")) and "reminder_preferences" in statement:
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert client.get("/reminders/preferences").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert writes == []
