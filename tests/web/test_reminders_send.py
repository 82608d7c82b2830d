"""The daily job against a real SMTP server (aiosmtpd on a free port)."""

import email
import os
import socket
import subprocess
import sys
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from app.audit import AuditEvent
from app.extensions import mail
from app.reminders.models import OutboxMessage
from app.reminders.send import deliver_pending
from app.reminders.services import enqueue, plan, run_daily
from app.timeutil import today, utcnow

ROOT = Path(__file__).resolve().parents[2]
BASE_URL = "https://tracker.example.gov"


class Recorder:
    """Keeps what it accepts; ``answers`` are replies to the next DATA commands (then "250 OK")."""

    def __init__(self):
        self.messages = []
        self.answers = []
        self.always = None

    async def handle_DATA(self, server, session, envelope):
        if self.always:
            return self.always
        if self.answers:
            return self.answers.pop(0)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address):
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=controller.port,
        BASE_URL=BASE_URL,
        REMINDERS_RETRY_BASE_SECONDS=0.05,
        REMINDERS_MAX_ATTEMPTS=3,
    )
    mail.init_app(app)
    yield handler
    controller.stop()


def _body(message, subtype):
    return message.get_body(preferencelist=(subtype,)).get_content()


def test_a_milestone_due_in_7_days_mails_its_owner_once(app, db, make, smtp):
    owner = make.user("action_office", email="owner@example.gov")
    rec = make.recommendation()
    m = make.milestone(make.line(rec), owner=owner, title="Publish the data standard", due=today() + timedelta(days=7))
    db.session.commit()

    run_daily(today())
    [message] = smtp.to("owner@example.gov")
    assert message["Subject"] == "Due in 7 days: Publish the data standard"
    link = f"{BASE_URL}/milestones/{m.id}"
    assert link in _body(message, "plain")
    assert f'href="{link}"' in _body(message, "html")
    assert "You own this milestone" in _body(message, "plain")
    assert f"{BASE_URL}/reminders/preferences" in _body(message, "plain")
    row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.item_id == m.id))
    assert (row.state, row.attempts) == ("sent", 1)

    run_daily(today())
    assert len(smtp.messages) == 1


def test_a_milestone_8_days_late_also_reaches_the_manager(app, db, make, smtp):
    owner = make.user("action_office", email="owner@example.gov")
    make.user("manager", email="boss@example.gov")
    make.milestone(owner=owner, title="Late work", due=today() - timedelta(days=8))
    db.session.commit()

    run_daily(today())
    assert [m["Subject"] for m in smtp.to("owner@example.gov")] == ["Overdue by 8 days: Late work"]
    [escalation] = [m for m in smtp.to("boss@example.gov") if "escalation" in m["Subject"]]
    assert escalation["Subject"] == "Overdue by 8 days (escalation): Late work"
    assert "You manage the responsible office" in _body(escalation, "plain")


def test_two_processes_started_at_once_send_each_message_once(app, db, make, smtp):
    owners = [make.user("action_office", email=f"owner{i}@example.gov") for i in range(10)]
    line = make.line()
    for i, owner in enumerate(owners):
        make.milestone(line, owner=owner, title=f"Task {i}", due=today() + timedelta(days=7))
        make.milestone(line, owner=owner, title=f"Late {i}", due=today() - timedelta(days=2))
    db.session.commit()
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(app.config["MAIL_PORT"]),
        "SECRET_KEY": "test",
        "BASE_URL": BASE_URL,
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "reminders", "run", "--today", today().isoformat()]
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs

    subjects = sorted((m["To"], m["Subject"]) for m in smtp.messages)
    assert len(subjects) == 20 and len(set(subjects)) == 20
    sent_lines = [line for out, _ in outputs for line in out.splitlines() if line.startswith("sent")]
    assert len(sent_lines) == 20  # the two processes shared the work, each message printed by one
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 20


def test_a_refused_first_attempt_is_retried_and_sent_once(app, db, make, smtp):
    make.milestone(owner=make.user("action_office", email="owner@example.gov"), due=today() + timedelta(days=1))
    db.session.commit()
    smtp.answers = ["451 4.3.0 Try again later"]

    run_daily(today())
    assert len(smtp.to("owner@example.gov")) == 1
    row = db.session.scalar(sa.select(OutboxMessage))
    assert (row.state, row.attempts) == ("sent", 2)
    assert "451" in row.last_error


@pytest.mark.parametrize("answer, attempts", [("554 5.7.1 Rejected by policy", 1), ("451 4.3.0 Busy", 3)])
def test_a_permanent_failure_shows_on_the_outbox_page(app, db, make, smtp, client, login_as, answer, attempts):
    make.milestone(
        owner=make.user("action_office", email="owner@example.gov"),
        title="Never delivered",
        due=today() + timedelta(days=7),
    )
    db.session.commit()
    smtp.always = answer

    run_daily(today())
    row = db.session.scalar(sa.select(OutboxMessage))
    assert (row.state, row.attempts) == ("failed", attempts)
    assert smtp.messages == []

    login_as("admin")
    page = client.get("/reminders/outbox?state=failed").get_data(as_text=True)
    assert "Due in 7 days: Never delivered" in page
    assert answer.split()[0] in page


def test_a_crash_mid_batch_resumes_with_the_unsent_only(app, db, make, smtp):
    owner = make.user("action_office", email="owner@example.gov")
    for i in range(3):
        make.milestone(owner=owner, title=f"Task {i}", due=today() + timedelta(days=7))
    db.session.commit()
    enqueue(plan(today()))
    db.session.commit()
    deliver_pending(limit=1)
    # A process that died holding a claim: its row is picked up again once the lease is over.
    stale = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.state == "pending")).first()
    stale.state, stale.claimed_by, stale.claimed_at = "sending", "dead", utcnow() - timedelta(hours=1)
    db.session.commit()

    run_daily(today())
    assert sorted(m["Subject"] for m in smtp.messages) == [f"Due in 7 days: Task {i}" for i in range(3)]


def test_dry_run_sends_nothing_and_records_nothing(app, db, make, smtp):
    make.milestone(
        owner=make.user("action_office", email="owner@example.gov"), title="Dry", due=today() + timedelta(days=7)
    )
    db.session.commit()
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))

    result = app.test_cli_runner().invoke(args=["reminders", "run", "--today", today().isoformat(), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would send" in result.output and "Due in 7 days: Dry" in result.output
    assert smtp.messages == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events


def test_the_cli_refuses_a_bad_date(app):
    result = app.test_cli_runner().invoke(args=["reminders", "run", "--today", "2026-02-30"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_the_weekly_digest_of_the_demo_manager_lists_exactly_the_office_items(app, db, make, demo, smtp):
    from app.auth.models import User
    from app.milestones.models import Milestone

    other_office = make.office("ICE")
    other_rec = make.recommendation(office=other_office)
    make.milestone(make.line(other_rec), title="Another office's task", due=today() + timedelta(days=3))

    run_daily(today())
    [digest] = [m for m in smtp.to("manager@example.gov") if m["Subject"].startswith("Weekly digest")]
    text = _body(digest, "plain")
    manager = db.session.scalar(sa.select(User).where(User.email == "manager@example.gov"))
    open_ms = db.session.scalars(
        sa.select(Milestone)
        .where(Milestone.status.in_(("not_started", "in_progress")), Milestone.office_id == manager.office_id)
        .order_by(Milestone.current_due_on, Milestone.id)
    ).all()
    upcoming = [m.title for m in open_ms if today() <= m.current_due_on <= today() + timedelta(days=14)]
    overdue = [m.title for m in open_ms if m.current_due_on < today()]
    assert len(upcoming) == 2 and len(overdue) == 1
    due_part, rest = text.split("Overdue milestones", 1)
    overdue_part = rest.split("Due-date changes waiting", 1)[0]
    for part, titles in ((due_part, upcoming), (overdue_part, overdue)):
        items = [line for line in part.splitlines() if line.startswith("- ")]
        assert len(items) == len(titles)
        assert all(item.startswith(f"- {title}: ") for item, title in zip(items, titles))
    assert "Another office's task" not in text
    assert digest["Subject"].endswith("3 items")


def test_without_a_mail_server_messages_stay_in_the_outbox(app, db, make):
    make.milestone(owner=make.user("action_office"), due=today() + timedelta(days=7))
    db.session.commit()
    assert [state for state, _, _ in run_daily(today())] == ["stored"]
    assert db.session.scalar(sa.select(OutboxMessage.state)) == "stored"


def test_a_missing_metric_reading_reaches_the_action_office_once(app, db, make, smtp):
    from app.metrics.models import Metric
    from app.metrics.services import check_all

    staff = make.user("action_office", email="staff@example.gov")
    rec = make.recommendation(office=staff.office)
    metric = Metric(
        line_of_effort_id=make.line(rec).id,
        name="Releases recorded with a basis",
        target_value=95,
        frequency="monthly",
        components="ICE",
        collect_from=today().replace(day=1) - timedelta(days=20),
    )
    db.session.add(metric)
    db.session.commit()
    assert check_all(today()) == 1
    db.session.commit()

    run_daily(today())
    [message] = [m for m in smtp.to("staff@example.gov") if m["Subject"].startswith("Reading missing")]
    assert message["Subject"].startswith("Reading missing: Releases recorded with a basis, ICE, ")
    assert f"{BASE_URL}/metrics/{metric.id}" in _body(message, "plain")
    run_daily(today())
    assert len([m for m in smtp.to("staff@example.gov") if m["Subject"].startswith("Reading missing")]) == 1


def test_the_lead_of_the_line_hears_of_a_missing_reading_once_by_the_flag_s_notification(app, db, make, smtp):
    from app.metrics.models import Metric
    from app.metrics.services import check_all
    from app.notifications.models import Notification

    staff = make.user("action_office", email="staff@example.gov")
    lead = make.user("action_office", email="lead@example.gov", office=staff.office)
    rec = make.recommendation(office=staff.office)
    metric = Metric(
        line_of_effort_id=make.line(rec, lead_owner_id=lead.id).id,
        name="Releases recorded with a basis",
        target_value=95,
        frequency="monthly",
        components="ICE",
        collect_from=today().replace(day=1) - timedelta(days=20),
    )
    db.session.add(metric)
    db.session.commit()
    assert check_all(today()) == 1  # the daily check raises the flag, and its notification tells the lead
    db.session.commit()
    run_daily(today())
    run_daily(today())

    about = [m for m in smtp.to("lead@example.gov") if "Releases recorded with a basis" in m["Subject"]]
    assert len(about) == 1 and not about[0]["Subject"].startswith("Reading missing")
    inbox = db.session.scalars(sa.select(Notification).where(Notification.recipient_id == lead.id)).all()
    assert len(inbox) == 1 and inbox[0].kind == "metric_flag"
    # Others of the office who enter readings still get the reminder, once.
    assert len([m for m in smtp.to("staff@example.gov") if m["Subject"].startswith("Reading missing")]) == 1
