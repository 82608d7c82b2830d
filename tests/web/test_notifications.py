"""Issue 16: events tell the people who must act, in the app and by email through the outbox;
preferences; the daily summary; the inbox; each role's queue."""

import os
import subprocess
import sys
import threading
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.evidence.models import EvidenceItem, EvidenceVersion
from app.audit import AuditEvent
from app.metrics.definitions import change_target
from app.metrics.models import Metric, TargetChange
from app.milestones.models import DueDateChange
from app.notifications.models import Notification
from app.notifications.services import write_daily_summaries
from app.reminders.models import OutboxMessage
from app.reminders.send import deliver_pending
from app.submissions.models import Submission
from app.timeutil import today, utcnow
from tests.factories import PASSWORD
from tests.web.test_reminders_send import BASE_URL, smtp  # noqa: F401  (the aiosmtpd fixture)

ROOT = Path(__file__).resolve().parents[2]


def client_for(app, user):
    other = app.test_client()
    response = other.post_form("/sign-in", {"email": user.email, "password": PASSWORD}, token_from="/sign-in")
    assert response.status_code == 302
    return other


@pytest.fixture
def world(make, db):
    """An office (staff, a line lead, a milestone owner, a manager), its OIG, and another office."""
    w = make.notification_world()
    db.session.commit()
    return w


def told(db, kind):
    """{email: (notification, outbox message or None)} for one kind of event."""
    rows = db.session.execute(sa.select(Notification).where(Notification.kind == kind)).scalars().all()
    mails = {
        m.to_address: m
        for m in db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == f"event.{kind}"))
    }
    return {n.recipient.email: (n, mails.get(n.recipient.email)) for n in rows}


def send_plan(app, w, kind="plan"):
    c = client_for(app, w.sender)
    response = c.post_form(
        f"/recommendations/{w.rec.id}/submissions/new/{kind}", {"narrative": "Our plan.", "confirm": "1"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return c


def decide(app, db, w, decision="accepted"):
    submission = db.session.scalar(sa.select(Submission).order_by(Submission.id.desc()))
    c = client_for(app, w.reviewer)
    assert (
        c.post_form(
            f"/submissions/{submission.id}", {"decision": decision, "analysis": "Milestones are specific."}
        ).status_code
        == 302
    )
    return submission


def test_a_plan_sent_tells_the_reviewers_of_the_reports_oig_once(app, db, world):
    w = world
    send_plan(app, w)
    got = told(db, "submission_sent")
    assert set(got) == {"oig@example.gov"}  # not GAO's reviewer, not the sender
    note, mail = got["oig@example.gov"]
    assert (
        note.text == "Sam Sender sent a corrective action plan (submission 1) on OIG-15-85 Rec. 1 to OIG for decision."
    )
    assert mail.subject == "OIG-15-85 Rec. 1: Corrective action plan sent to OIG by Sam Sender"
    assert f"{BASE_URL.replace('https://tracker.example.gov', app.config['BASE_URL'])}{note.link}" in mail.body_text
    assert mail.state == "pending"


def test_without_reviewers_of_that_oig_every_active_reviewer_is_told(app, db, world, make):
    world.rec.report.oig_office = "Some other Inspector General"
    db.session.commit()
    send_plan(app, world)
    assert set(told(db, "submission_sent")) == {"oig@example.gov", "gao@example.gov"}


def test_an_oig_decision_tells_the_plans_staff_and_the_offices_managers(app, db, world, make):
    w = world
    w.rec.responsible_official = "Lee Lead"
    make.user("action_office", office=w.sender.office, name="Idle Colleague", email="idle@example.gov")
    db.session.commit()
    send_plan(app, w)
    decide(app, db, w, "rejected")
    got = told(db, "oig_decision")
    assert set(got) == {"sender@example.gov", "owner@example.gov", "lead@example.gov", "manager@example.gov"}
    assert got["lead@example.gov"][0].reason == "You are the recommendation's responsible official."
    assert got["owner@example.gov"][0].text == (
        "Olivia Reviewer (OIG) did not accept the corrective action plan (submission 1) on OIG-15-85 Rec. 1."
    )
    assert all(mail is not None for _, mail in got.values())


def test_evidence_reviewed_tells_the_uploader_and_the_milestones_owner(app, db, world):
    w = world
    item = EvidenceItem(
        recommendation_id=w.rec.id, milestone_id=w.milestone.id, title="Signed charter", created_by_id=w.sender.id
    )
    db.session.add(item)
    db.session.flush()
    db.session.add(
        EvidenceVersion(
            item_id=item.id,
            number=1,
            storage_key="k-charter",
            original_filename="c.pdf",
            content_type="application/pdf",
            size_bytes=3,
            sha256="0" * 64,
            uploaded_by_id=w.sender.id,
        )
    )
    db.session.commit()
    c = client_for(app, w.reviewer)
    assert (
        c.post_form(
            f"/evidence/{item.id}", {"action": "review"} | {"decision": "insufficient", "comment": "Not signed."}
        ).status_code
        == 302
    )
    got = told(db, "evidence_reviewed")
    assert set(got) == {"sender@example.gov", "owner@example.gov"}
    assert got["owner@example.gov"][0].link == f"/evidence/{item.id}"
    assert "judged insufficient" in got["owner@example.gov"][1].subject


def _request_change(app, db, w, requester, *, accept=True):
    if accept:
        send_plan(app, w)
        decide(app, db, w, "accepted")
    db.session.refresh(w.milestone)
    c = client_for(app, requester)
    new_due = w.milestone.current_due_on + timedelta(days=45)
    assert (
        c.post_form(
            f"/milestones/{w.milestone.id}",
            {"action": "due_date"}
            | {
                "new_due_on": new_due.isoformat(),
                "justification": "The vendor slipped.\nSecond line.",
                "version": w.milestone.version,
            },
        ).status_code
        == 302
    )
    return db.session.scalar(sa.select(DueDateChange).where(DueDateChange.status == "pending"))


def test_a_date_change_asked_tells_the_offices_managers_and_its_answer_the_requester_and_owner(app, db, world):
    w = world
    change = _request_change(app, db, w, w.sender)
    assert set(told(db, "date_change_requested")) == {"manager@example.gov"}  # not Otto, of another office
    c = client_for(app, w.manager)
    response = c.post_form("/", {"change_id": change.id, "reason": "Keep the date.", "decline": "Decline"})
    assert response.status_code == 302 and response.location.endswith("/#queue-heading")
    got = told(db, "date_change_decided")
    assert set(got) == {"sender@example.gov", "owner@example.gov"}
    assert got["owner@example.gov"][0].text.startswith("Mona Manager declined moving the due date of")


def _metric(db, w):
    metric = Metric(
        line_of_effort_id=w.line.id,
        name="Share of releases with a basis",
        unit="%",
        target_value=Decimal(90),
        direction="higher",
        frequency="quarterly",
        components="ICE",
        collect_from=_quarter_start(today()),
    )
    db.session.add(metric)
    db.session.commit()
    return metric


def _request_target_change(app, db, w, requester, *, accept=True):
    """The office asks, on the metric's edit form, for a target of 80 by the end of next year."""
    if accept:
        send_plan(app, w)
        decide(app, db, w, "accepted")
    metric = _metric(db, w)
    response = client_for(app, requester).post_form(
        f"/metrics/{metric.id}/edit",
        {
            "line_of_effort_id": w.line.id,
            "name": metric.name,
            "kind": "outcome",
            "unit": "%",
            "direction": "higher",
            "target_value": "80",
            "target_on": date(today().year + 1, 12, 31).isoformat(),
            "frequency": "quarterly",
            "components": "ICE",
            "collect_from": metric.collect_from.isoformat(),
            "version": metric.version,
            "justification": "Coverage of CBP starts only next year.\nSecond line.",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalar(sa.select(TargetChange).where(TargetChange.status == "pending"))


def test_a_target_change_asked_tells_the_offices_managers_and_its_answer_the_requester_and_line_lead(app, db, world):
    w = world
    change = _request_target_change(app, db, w, w.sender)
    asked = told(db, "target_change_requested")
    assert set(asked) == {"manager@example.gov"}  # not Otto, of another office
    note, mail = asked["manager@example.gov"]
    assert note.link == f"/metrics/{change.metric_id}#target-changes" and note.item_type == "target_change"
    assert note.text.startswith("Sam Sender asked to change the target of the metric “Share of releases with a basis”")
    assert "from 90% to 80% by Dec 31," in note.text
    assert mail.subject == "OIG-15-85 Rec. 1: target change awaits your approval"
    assert "Coverage of CBP starts only next year." in mail.body_text
    c = client_for(app, w.manager)
    response = c.post_form(
        "/", {"change_kind": "target_change", "change_id": change.id, "reason": "Keep 90.", "decline": "Decline"}
    )
    assert response.status_code == 302 and response.location.endswith("/#queue-heading")
    got = told(db, "target_change_decided")
    assert set(got) == {"sender@example.gov", "lead@example.gov"}
    assert got["lead@example.gov"][0].text.startswith("Mona Manager declined changing the target of the metric")
    assert got["sender@example.gov"][1].subject == "OIG-15-85 Rec. 1: target change declined by Mona Manager"
    assert "Keep 90." in got["sender@example.gov"][1].body_text
    db.session.expire_all()
    assert db.session.get(Metric, change.metric_id).target_value == 90
    trail = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action.like("metric.target_%")).order_by(AuditEvent.id)
    ).all()
    assert trail == ["metric.target_request", "metric.target_decline"]
    # The declined change is back in the queue of the requester and of the line's lead, no one else's.
    for user in (w.sender, w.lead):
        back = client_for(app, user).get("/queue").get_data(as_text=True)
        assert "Target change declined: Keep 90." in back
        assert f'href="/metrics/{change.metric_id}#target-changes">Share of releases with a basis</a>' in back
    assert "Target change declined" not in client_for(app, w.owner).get("/queue").get_data(as_text=True)


def test_a_target_change_before_acceptance_is_applied_and_tells_no_one(app, db, world):
    w = world
    assert _request_target_change(app, db, w, w.sender, accept=False) is None
    assert told(db, "target_change_requested") == {} and told(db, "target_change_decided") == {}


def test_a_target_change_answer_follows_the_requesters_preference(app, db, world):
    w = world
    c = client_for(app, w.lead)
    page = c.get("/reminders/preferences").get_data(as_text=True)
    assert "A manager decides a target change you asked for, or on a metric of a line you lead" in page
    assert "A change of a metric&#39;s target awaits your approval" not in page  # a manager's kind
    assert (
        c.post_form(
            "/reminders/preferences",
            {"notify_target_change_decided": "daily", "notify_oig_decision": "immediate"},
            token_from="/reminders/preferences",
        ).status_code
        == 302
    )
    assert "A change of a metric&#39;s target awaits your approval" in client_for(app, w.manager).get(
        "/reminders/preferences"
    ).get_data(as_text=True)
    change = _request_target_change(app, db, w, w.sender)
    client_for(app, w.manager).post_form(
        "/queue", {"change_kind": "target_change", "change_id": change.id, "reason": "Fine.", "approve": "Approve"}
    )
    got = told(db, "target_change_decided")
    assert {e: (n.email, m is not None) for e, (n, m) in got.items()} == {
        "sender@example.gov": ("immediate", True),
        "lead@example.gov": ("daily", False),
    }
    assert got["sender@example.gov"][0].text.startswith("Mona Manager approved changing the target")


def test_a_comment_tells_the_conversation_and_those_mentioned_who_may_see_it(app, db, world):
    w = world
    office = client_for(app, w.sender)
    body = "Question for @gao@example.gov and @Eve Stranger and @Mona Manager."
    assert office.post_form(f"/recommendations/{w.rec.id}", {"action": "comment", "body": body}).status_code == 302
    got = told(db, "comment")
    # Eve may not see the recommendation: not told. Nobody else wrote yet.
    assert set(got) == {"gao@example.gov", "manager@example.gov"}
    assert got["gao@example.gov"][0].reason == "You were mentioned in this message."
    oig = client_for(app, w.reviewer)
    assert oig.post_form(f"/recommendations/{w.rec.id}", {"action": "comment", "body": "Answer."}).status_code == 302
    second = db.session.scalars(
        sa.select(Notification).where(Notification.kind == "comment").order_by(Notification.id.desc())
    ).first()
    assert second.recipient.email == "sender@example.gov" and second.link.endswith(f"#comment-{second.item_id}")


def test_the_recommendation_page_links_to_who_may_be_mentioned_without_listing_them(app, db, world):
    page = client_for(app, world.sender).get(f"/recommendations/{world.rec.id}").get_data(as_text=True)
    # Read far more often than written to: the page carries a link and where mentions.js asks, not the people.
    assert f'href="/recommendations/{world.rec.id}/mentionable">People you can mention</a>' in page
    assert f'data-mention-source="/recommendations/{world.rec.id}/mentionable.json"' in page
    assert "Gus Auditor" not in page and "gao@example.gov" not in page and "lead@example.gov" not in page


def test_the_mentionable_json_is_who_may_see_the_recommendation(app, db, world):
    response = client_for(app, world.sender).get(f"/recommendations/{world.rec.id}/mentionable.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"  # as every page (app/security.py)
    # What mentions.js reads: each person's name and email, ordered by name.
    assert response.get_json() == [
        {"name": "Gus Auditor", "email": "gao@example.gov"},
        {"name": "Lee Lead", "email": "lead@example.gov"},
        {"name": "Mona Manager", "email": "manager@example.gov"},
        {"name": "Olga Owner", "email": "owner@example.gov"},
        {"name": "Olivia Reviewer", "email": "oig@example.gov"},
        {"name": "Sam Sender", "email": "sender@example.gov"},
    ]


def test_the_mentionable_page_lists_name_and_email(app, db, world):
    response = client_for(app, world.sender).get(f"/recommendations/{world.rec.id}/mentionable")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<caption>6 people you can mention</caption>" in page
    assert '<th scope="row">Gus Auditor</th><td>gao@example.gov</td>' in page
    assert "eve@example.gov" not in page and "Eve Stranger" not in page
    assert 'aria-current="page"><span>People you can mention</span>' in page
    assert f'href="/recommendations/{world.rec.id}"><span>{world.rec.label}</span>' in page


@pytest.mark.parametrize("path", ["mentionable.json", "mentionable"])
def test_who_may_be_mentioned_is_authorised_as_the_recommendation_page(app, db, make, world, path):
    stranger = client_for(app, world.stranger)  # another office's staff
    assert stranger.get(f"/recommendations/{world.rec.id}").status_code == 403
    assert stranger.get(f"/recommendations/{world.rec.id}/{path}").status_code == 403
    assert stranger.get(f"/recommendations/{world.other_rec.id}/{path}").status_code == 200
    assert stranger.get(f"/recommendations/999999/{path}").status_code == 404
    # An OIG reviewer reads every office's recommendations and writes in their conversations.
    oig = client_for(app, world.gao).get(f"/recommendations/{world.rec.id}/{path}")
    assert oig.status_code == 200 and "lead@example.gov" in oig.get_data(as_text=True)
    # An administrator reads the page but has no comment form: nobody to mention either.
    ada = make.user("admin", name="Ada Admin", email="ada@example.gov")
    db.session.commit()
    admin = client_for(app, ada)
    assert admin.get(f"/recommendations/{world.rec.id}").status_code == 200
    assert admin.get(f"/recommendations/{world.rec.id}/{path}").status_code == 403
    assert app.test_client().get(f"/recommendations/{world.rec.id}/{path}").status_code in (302, 401)


def _quarter_start(day: date) -> date:
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def test_a_flag_raised_tells_the_line_lead(app, db, world):
    w = world
    metric = Metric(
        line_of_effort_id=w.line.id,
        name="Share of releases with a basis",
        target_value=Decimal(90),
        direction="higher",
        frequency="quarterly",
        components="ICE",
        collect_from=_quarter_start(today() - timedelta(days=92)),
    )
    db.session.add(metric)
    db.session.commit()
    c = client_for(app, w.sender)
    assert (
        c.post_form(
            f"/metrics/{metric.id}/readings/new",
            {"period": _quarter(today() - timedelta(days=92)), "component": "ICE", "value": "40", "note": ""},
        ).status_code
        == 302
    )
    got = told(db, "metric_flag")
    assert set(got) == {"lead@example.gov"}
    assert got["lead@example.gov"][0].text.startswith("A reading entered by Sam Sender raised a flag (off target)")


def test_links_of_notifications_work_after_sign_in(app, db, world):
    send_plan(app, world)
    note = db.session.scalar(sa.select(Notification))
    anonymous = app.test_client()
    response = anonymous.get(note.link)
    assert response.status_code == 302 and "/sign-in?next=" in response.location
    signed = anonymous.post_form(
        response.location, {"email": "oig@example.gov", "password": PASSWORD}, token_from=response.location
    )
    assert signed.status_code == 302 and signed.location.endswith(note.link)
    assert anonymous.get(signed.location).status_code == 200


# --- preferences ----------------------------------------------------------------------------


def test_preferences_daily_off_and_the_decision_that_cannot_be_switched_off(app, db, world):
    w = world
    c = client_for(app, w.sender)
    page = c.get("/reminders/preferences").get_data(as_text=True)
    assert "OIG decides on a submission of your office&#39;s plan" in page and "cannot be switched off" in page
    refused = c.post_form("/reminders/preferences", {"notify_oig_decision": "off"}, token_from="/reminders/preferences")
    assert refused.status_code == 400 and "always sent" in refused.get_data(as_text=True)
    for who, decision, mode in ((w.sender, "daily", "daily"), (w.owner, "immediate", "off")):
        cc = client_for(app, who)
        assert (
            cc.post_form(
                "/reminders/preferences",
                {"notify_oig_decision": decision, "notify_comment": mode, "due_soon": "y"},
                token_from="/reminders/preferences",
            ).status_code
            == 302
        )
    lead = client_for(app, w.lead)
    assert (
        lead.post_form(
            "/reminders/preferences",
            {"notify_comment": "off", "notify_oig_decision": "immediate"},
            token_from="/reminders/preferences",
        ).status_code
        == 302
    )
    # A tampered post cannot switch it off either: the stored choice stays "immediate".
    send_plan(app, w)
    decide(app, db, w)
    got = told(db, "oig_decision")
    assert got["sender@example.gov"][0].email == "daily" and got["sender@example.gov"][1] is None
    assert got["lead@example.gov"][1] is not None
    oig = client_for(app, w.reviewer)
    oig.post_form(
        f"/recommendations/{w.rec.id}",
        {"action": "comment", "body": "@Sam Sender @Olga Owner @Lee Lead @Mona Manager see the analysis."},
    )
    got = told(db, "comment")
    assert {e: (n.email, m is not None) for e, (n, m) in got.items()} == {
        "sender@example.gov": ("daily", False),
        "owner@example.gov": ("off", False),
        "lead@example.gov": ("off", False),
        "manager@example.gov": ("immediate", True),
    }
    # Nothing daily before tomorrow; tomorrow one summary for Sam, with both of his, once.
    assert write_daily_summaries(today()) == 0
    tomorrow = today() + timedelta(days=1)
    assert write_daily_summaries(tomorrow) == 1
    db.session.commit()
    assert write_daily_summaries(tomorrow) == 0
    db.session.commit()
    [summary] = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "event.daily_summary")).all()
    assert summary.to_address == "sender@example.gov" and summary.subject.endswith(": 2 notifications")
    assert "did accept" not in summary.body_text and "accepted the corrective action plan" in summary.body_text


# --- delivery -------------------------------------------------------------------------------


def test_delivery_twice_or_two_at_once_sends_each_message_once(app, db, world, smtp):  # noqa: F811
    w = world
    send_plan(app, w)
    decide(app, db, w)
    expected = {
        "oig@example.gov": 1,
        "sender@example.gov": 1,
        "owner@example.gov": 1,
        "lead@example.gov": 1,
        "manager@example.gov": 1,
    }
    errors = []

    def run():
        with app.app_context():
            try:
                deliver_pending(wait=False)
            except Exception as exc:  # noqa: BLE001  (any failure of a job fails the test below)
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    deliver_pending(wait=False)
    deliver_pending(wait=False)
    assert errors == []
    assert {addr: len(smtp.to(addr)) for addr in expected} == expected
    assert len(smtp.messages) == 5


def test_stored_messages_are_sent_from_the_outbox_page(app, db, world, client, login_as, smtp):  # noqa: F811
    server = app.config["MAIL_SERVER"]
    app.config["MAIL_SERVER"] = None
    send_plan(app, world)
    assert deliver_pending(wait=False) == [
        ("stored", "oig@example.gov", "OIG-15-85 Rec. 1: Corrective action plan sent to OIG by Sam Sender")
    ]
    login_as("admin")
    page = client.get("/reminders/outbox").get_data(as_text=True)
    assert "1 message stored while no mail server was configured" in page and "Set <code>MAIL_SERVER</code>" in page
    refused = client.post_form("/reminders/outbox/send-stored", token_from="/reminders/outbox")
    assert refused.status_code == 302 and smtp.messages == []
    app.config["MAIL_SERVER"] = server
    assert "Send 1 stored message now" in client.get("/reminders/outbox").get_data(as_text=True)
    response = client.post_form("/reminders/outbox/send-stored", token_from="/reminders/outbox")
    assert response.status_code == 302
    assert [m["To"] for m in smtp.messages] == ["oig@example.gov"]
    assert client.post_form("/reminders/outbox/send-stored", token_from="/reminders/outbox").status_code == 302
    assert len(smtp.messages) == 1


def test_flask_reminders_send_stored(app, db, world, smtp):  # noqa: F811
    server = app.config["MAIL_SERVER"]
    app.config["MAIL_SERVER"] = None
    send_plan(app, world)
    deliver_pending(wait=False)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reminders", "send-stored"])
    assert result.exit_code == 1 and "MAIL_SERVER is not set" in result.output
    app.config["MAIL_SERVER"] = server
    result = runner.invoke(args=["reminders", "send-stored"])
    assert result.exit_code == 0, result.output
    assert "1 stored message queued for sending" in result.output
    assert [m["To"] for m in smtp.messages] == ["oig@example.gov"]


def test_base_url_follows_port_when_unset():
    code = "import config; print(config.Config.BASE_URL)"
    env = {k: v for k, v in os.environ.items() if k not in ("BASE_URL", "PORT")}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**env, "PORT": "8123"}, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "http://127.0.0.1:8123"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "PORT": "8123", "BASE_URL": "https://tracker.agency.gov/"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == "https://tracker.agency.gov"
    assert "export PORT" in (ROOT / "scripts" / "serve.sh").read_text()


# --- the inbox --------------------------------------------------------------------------------


def test_the_inbox_lists_newest_first_paged_and_marks_read(app, db, world):
    w = world
    for i in range(30):
        db.session.add(
            Notification(
                recipient_id=w.sender.id,
                kind="comment",
                item_type="comment",
                item_id=1000 + i,
                recommendation_id=w.rec.id,
                text=f"Note number {i:02d}",
                link=f"/recommendations/{w.rec.id}",
            )
        )
    db.session.add(
        Notification(
            recipient_id=w.owner.id,
            kind="comment",
            item_type="comment",
            item_id=1,
            recommendation_id=w.rec.id,
            text="Someone else's",
            link="/",
        )
    )
    db.session.commit()
    c = client_for(app, w.sender)
    first = c.get("/notifications").get_data(as_text=True)
    assert 'Notifications <span class="app-count">30</span>' in first
    assert first.index("Note number 29") < first.index("Note number 05") and "Note number 04" not in first
    assert "Page 1 of 2" in first and "Someone else" not in first
    mine = db.session.scalar(sa.select(Notification).where(Notification.text == "Note number 29"))
    other = db.session.scalar(sa.select(Notification).where(Notification.recipient_id == w.owner.id))
    assert c.get(f"/notifications/{other.id}/open").status_code == 404
    assert c.post_form(f"/notifications/{other.id}/read").status_code == 404
    response = c.get(f"/notifications/{mine.id}/open")
    assert response.status_code == 302 and response.location.endswith(f"/recommendations/{w.rec.id}")
    assert 'app-count">29<' in c.get("/notifications").get_data(as_text=True)
    one = db.session.scalar(sa.select(Notification).where(Notification.text == "Note number 28"))
    assert c.post_form(f"/notifications/{one.id}/read", token_from="/notifications").status_code == 302
    assert 'app-count">28<' in c.get("/").get_data(as_text=True)
    assert c.post_form("/notifications/read-all", token_from="/notifications").status_code == 302
    page = c.get("/notifications").get_data(as_text=True)
    assert "app-count" not in page and "30 notifications, 0 unread." in page
    assert "No notifications yet" in client_for(app, w.lead).get("/notifications").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Notification, other.id).read_at is None


def test_the_unread_count_uses_the_partial_index(app, db, world):
    from app.notifications.services import unread_count_statement

    stmt = unread_count_statement(world.sender.id)
    db.session.add_all(
        Notification(
            recipient_id=world.sender.id,
            kind="comment",
            item_type="comment",
            item_id=i,
            recommendation_id=world.rec.id,
            text="t",
            link="/",
            read_at=utcnow() if i > 2 else None,
        )
        for i in range(300)
    )
    db.session.commit()
    db.session.execute(sa.text("ANALYZE"))
    assert db.session.scalar(stmt) == 3
    if db.engine.dialect.name == "sqlite":
        compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(r[-1]) for r in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "ix_notifications_unread" in plan
    else:
        index = db.session.execute(
            sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_notifications_unread'")
        )
        assert "WHERE (read_at IS NULL)" in index.scalar()


# --- queues ------------------------------------------------------------------------------------


def _evidence(db, w, rec, milestone, by, status="pending", title="Charter", at=None):
    at = at or utcnow() - timedelta(days=4)
    item = EvidenceItem(
        recommendation_id=rec.id,
        milestone_id=milestone.id,
        title=title,
        created_by_id=by.id,
        review_status=status,
        created_at=at,
    )
    db.session.add(item)
    db.session.flush()
    db.session.add(
        EvidenceVersion(
            item_id=item.id,
            number=1,
            storage_key=f"k-{item.id}",
            original_filename="c.pdf",
            content_type="application/pdf",
            size_bytes=3,
            sha256="0" * 64,
            uploaded_by_id=by.id,
            uploaded_at=at,
        )
    )
    return item


def test_oig_queue_lists_submissions_and_evidence_oldest_first_with_age_and_clock(app, db, world):
    w = world
    send_plan(app, w)
    _evidence(db, w, w.rec, w.milestone, w.owner, title="Older evidence")
    _evidence(db, w, w.other_rec, w.other_milestone, w.stranger, status="accepted", title="Already accepted")
    db.session.commit()
    c = client_for(app, w.reviewer)
    page = c.get("/queue").get_data(as_text=True)
    assert page.index("Older evidence") < page.index("Submission 1: Corrective action plan")
    assert 'Waiting <span class="text-bold">4 days</span>' in page and "Already accepted" not in page
    assert "Resolution limit (6 months after issue)" in page and "Implementation target" in page
    assert 'Awaiting your review <span class="app-count">2</span>' in page
    dashboard = c.get("/").get_data(as_text=True)
    assert "Awaiting your review (2)" in dashboard and "Older evidence" in dashboard


def test_manager_queue_shows_their_offices_date_changes_with_the_full_justification(app, db, world):
    w = world
    change = _request_change(app, db, w, w.sender)
    page = client_for(app, w.manager).get("/").get_data(as_text=True)
    assert "Awaiting your approval (1)" in page and "The vendor slipped.\nSecond line." in page
    assert "45 days later" in page and f'name="change_id" value="{change.id}"' in page
    other = client_for(app, w.other_manager).get("/queue").get_data(as_text=True)
    assert "Publish the data standard" not in other and "Nothing is waiting for you." in other


def test_manager_queue_shows_target_changes_beside_date_changes_oldest_first(app, db, world):
    w = world
    target = _request_target_change(app, db, w, w.sender)
    date_change = _request_change(app, db, w, w.sender, accept=False)
    c = client_for(app, w.manager)
    for address in ("/", "/queue"):
        page = c.get(address).get_data(as_text=True)
        assert ("Awaiting your approval (2)" if address == "/" else "2 items.") in page
        assert page.index("Share of releases with a basis") < page.index("Publish the data standard")
        assert "Target change</span> · OIG-15-85 Rec. 1 · asked by Sam Sender, today" in page
        assert (
            "<dt>Target now</dt><dd>90%</dd>" in page and "Coverage of CBP starts only next year.\nSecond line." in page
        )
        assert f'href="/metrics/{target.metric_id}#target-changes"' in page
        assert (
            f'name="change_kind" value="target_change"><input type="hidden" name="change_id" value="{target.id}"'
            in page
        )
        assert f'id="target-change-{target.id}-reason"' in page and f'id="change-{date_change.id}-reason"' in page
    other = client_for(app, w.other_manager).get("/queue").get_data(as_text=True)
    assert "Share of releases" not in other and "Nothing is waiting for you." in other
    # My work counts the date changes it speaks of, and lists the target change apart.
    work = c.get("/my-work").get_data(as_text=True)
    assert "1 due-date change of your office waits" in work and "Target changes awaiting your decision" in work


def test_office_queue_shows_what_came_back_to_them_only(app, db, world):
    w = world
    send_plan(app, w)
    decide(app, db, w, "rejected")
    _evidence(db, w, w.rec, w.milestone, w.owner, status="insufficient", title="Unsigned charter")
    _evidence(db, w, w.other_rec, w.other_milestone, w.stranger, status="insufficient", title="Other office's file")
    db.session.commit()
    owner = client_for(app, w.owner).get("/queue").get_data(as_text=True)
    assert "Unsigned charter" in owner and "Submission 1: Corrective action plan" in owner
    assert "Other office" not in owner
    stranger = client_for(app, w.stranger).get("/queue").get_data(as_text=True)
    assert "Other office&#39;s file" in stranger and "Unsigned charter" not in stranger
    assert "Submission 1" not in stranger
    # A new plan sent takes the rejected one off the queue.
    send_plan(app, w)
    assert "Submission 1: Corrective action plan" not in client_for(app, w.owner).get("/queue").get_data(as_text=True)


def _submission(db, rec, number, by, sent_at, decision=None, decided_at=None, kind="status_update"):
    db.session.add(
        Submission(
            recommendation_id=rec.id,
            number=number,
            kind=kind,
            narrative="Sent.",
            snapshot={},
            snapshot_sha256="0" * 64,
            submitted_by_id=by.id,
            submitted_at=sent_at,
            submitted_on=sent_at.date(),
            decision=decision,
            analysis="",
            decided_at=decided_at,
        )
    )


@pytest.mark.parametrize("role", ["oig_reviewer", "action_office"])
def test_every_page_of_a_queue_is_its_share_of_one_sort_with_the_total(db, make, world, role):
    """OIG's queue reads each kind's first items in order and counts them apart; an office's
    finds and counts its items before joining a page of them to their reports (migration
    2020_dash2). Each page, ties of time included, is the slice of one sort of every item by
    time, kind and id, with the total, and a page past the end gives the first."""
    from app.notifications.queues import queue_page

    w, now = world, utcnow().replace(microsecond=0)
    recs = [w.rec, *(make.recommendation(office=w.rec.action_office) for _ in range(4)), w.other_rec]
    for i, rec in enumerate(recs):
        ago = now - timedelta(days=10 - i % 3)  # three times only: ties between kinds and items
        _submission(db, rec, 1, w.sender, ago)  # waiting for OIG
        _submission(db, rec, 2, w.sender, ago, "rejected", ago, kind="plan")  # returned to its office
        _evidence(db, w, rec, w.milestone, w.owner, status="pending" if i % 2 else "insufficient", at=ago)
    _submission(db, w.rec, 3, w.sender, now, "rejected", now, kind="plan")  # a newer plan returned: not 2
    db.session.commit()
    user = w.reviewer if role == "oig_reviewer" else w.owner
    everything = queue_page(user, today(), 1, 100)
    expected = sorted(everything.items, key=lambda item: (item.since, item.kind, item.id))
    assert everything.items == expected and everything.total == len(expected) > 6
    pages = [queue_page(user, today(), number, 3) for number in range(1, (len(expected) + 2) // 3 + 1)]
    assert [item for page in pages for item in page.items] == expected
    assert {page.total for page in pages} == {len(expected)}
    assert queue_page(user, today(), 9, 3).items == expected[:3]


def test_the_daily_summary_job_mails_one_summary_once(app, db, world, smtp):  # noqa: F811
    from app.reminders.cli import summary_job

    w = world
    yesterday = utcnow() - timedelta(days=1)
    for i in range(3):
        db.session.add(
            Notification(
                recipient_id=w.sender.id,
                kind="comment",
                item_type="comment",
                item_id=i,
                recommendation_id=w.rec.id,
                text=f"Message {i} on OIG-15-85 Rec. 1",
                link=f"/recommendations/{w.rec.id}",
                email="daily",
                created_at=yesterday,
            )
        )
    db.session.add(
        Notification(
            recipient_id=w.owner.id,
            kind="comment",
            item_type="comment",
            item_id=9,
            recommendation_id=w.rec.id,
            text="Today's, for tomorrow's summary",
            link="/",
            email="daily",
        )
    )
    db.session.commit()
    summary_job(app)
    summary_job(app)
    [message] = smtp.messages
    assert message["To"] == "sender@example.gov" and message["Subject"].endswith(": 3 notifications")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Message 2 on OIG-15-85 Rec. 1" in text and f"{BASE_URL}/recommendations/{w.rec.id}" in text


@pytest.mark.parametrize("address", ["/", "/queue", "/queue?page=1"])
def test_a_refused_queue_decision_comes_back_at_the_queue_s_address_with_its_summary(app, db, world, address):
    w = world
    change = _request_change(app, db, w, w.sender)
    c = client_for(app, w.manager)
    page = c.get(address).get_data(as_text=True)
    assert f'action="{address}"' in page.split(f'name="change_id" value="{change.id}"')[0].rsplit("<form", 1)[1]
    response = c.post_form(address, {"change_id": change.id, "reason": "", "decline": "Decline"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "app-error-summary" in body and f'href="#change-{change.id}-reason"' in body
    assert f'id="change-{change.id}-reason-error"' in body
    assert f'action="{address}"' in body.split(f'name="change_id" value="{change.id}"')[0].rsplit("<form", 1)[1]
    db.session.refresh(change)
    assert change.status == "pending"
    done = c.post_form(address, {"change_id": change.id, "reason": "Keep the date.", "approve": "Approve"})
    assert done.status_code == 302 and done.location.endswith(f"{address}#queue-heading")
    db.session.refresh(change)
    assert change.status == "approved"


def test_only_a_manager_of_the_office_decides_from_a_queue(app, db, world):
    w = world
    change = _request_change(app, db, w, w.sender)
    for user in (w.other_manager, w.sender):
        response = client_for(app, user).post_form("/", {"change_id": change.id, "reason": "ok", "approve": "Approve"})
        assert response.status_code == 403
    db.session.refresh(change)
    assert change.status == "pending"


@pytest.mark.parametrize("address", ["/", "/queue"])
def test_a_refused_target_decision_comes_back_at_the_queue_s_address_with_its_summary(app, db, world, address):
    w = world
    target = _request_target_change(app, db, w, w.sender)
    date_change = _request_change(app, db, w, w.sender, accept=False)
    assert target.id == date_change.id  # the forms' ids still differ
    c = client_for(app, w.manager)
    response = c.post_form(
        address, {"change_kind": "target_change", "change_id": target.id, "reason": " ", "decline": "Decline"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "app-error-summary" in body and f'href="#target-change-{target.id}-reason"' in body
    assert (
        f'id="target-change-{target.id}-reason-error"' in body
        and f'id="change-{date_change.id}-reason-error"' not in body
    )
    assert f'action="{address}"' in body.split('name="change_kind" value="target_change"')[0].rsplit("<form", 1)[1]
    db.session.refresh(target)
    assert target.status == "pending"
    done = c.post_form(
        address, {"change_kind": "target_change", "change_id": target.id, "reason": "Fair.", "approve": "Approve"}
    )
    assert done.status_code == 302 and done.location.endswith(f"{address}#queue-heading")
    assert "Target change approved." in c.get(done.location).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TargetChange, target.id).status == "approved"
    assert db.session.get(Metric, target.metric_id).target_value == 80
    assert db.session.get(DueDateChange, date_change.id).status == "pending"


def test_only_a_manager_of_the_office_decides_a_target_from_a_queue(app, db, world):
    w = world
    change = _request_target_change(app, db, w, w.sender)
    for user in (w.other_manager, w.sender):
        response = client_for(app, user).post_form(
            "/", {"change_kind": "target_change", "change_id": change.id, "reason": "ok", "approve": "Approve"}
        )
        assert response.status_code == 403
    response = client_for(app, w.manager).post_form(
        "/", {"change_kind": "milestone", "change_id": change.id, "reason": "ok", "approve": "Approve"}
    )
    assert response.status_code == 404
    db.session.refresh(change)
    assert change.status == "pending"


def test_a_request_after_a_decline_shows_the_manager_who_declined_it_when_and_why(app, db, world):
    w = world
    first = _request_change(app, db, w, w.sender)
    manager = client_for(app, w.manager)
    assert (
        manager.post_form("/", {"change_id": first.id, "reason": "Keep the date.", "decline": "Decline"}).status_code
        == 302
    )
    on = f"{utcnow():%b %-d, %Y}"
    line = f"Declined earlier on {on} by Mona Manager: Keep the date."
    _request_change(app, db, w, w.sender, accept=False)
    mail = told(db, "date_change_requested")["manager@example.gov"][1]
    assert [
        n.text.endswith(line)
        for n in db.session.scalars(sa.select(Notification).order_by(Notification.id))
        if n.kind == "date_change_requested"
    ] == [False, True]
    assert line.rstrip(".") in mail.body_text
    assert line.rstrip(".") in manager.get("/queue").get_data(as_text=True)
    assert line.rstrip(".") in manager.get(f"/milestones/{w.milestone.id}").get_data(as_text=True)

    # A target change, declined and asked again, says the same on the queue and the metric's page.
    target = _request_target_change(app, db, w, w.sender, accept=False)
    declined = manager.post_form(
        "/", {"change_kind": "target_change", "change_id": target.id, "reason": "Keep 90.", "decline": "Decline"}
    )
    assert declined.status_code == 302
    db.session.expire_all()
    metric = db.session.get(Metric, target.metric_id)
    assert "Declined earlier" not in manager.get(f"/metrics/{metric.id}").get_data(as_text=True)
    change_target(metric, Decimal(85), None, "Again, with the new data.", today(), actor=w.sender)
    db.session.commit()
    line = f"Declined earlier on {on} by Mona Manager: Keep 90"
    assert told(db, "target_change_requested")["manager@example.gov"][0].text.endswith(line + ".")
    assert line in manager.get("/queue").get_data(as_text=True)
    assert line in manager.get(f"/metrics/{metric.id}").get_data(as_text=True)
