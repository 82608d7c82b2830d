"""Issue 16 in a real browser: each event made in the UI reaches each recipient once by email
(a real SMTP server, aiosmtpd), and the recipient follows the email's link, signing in on the
way, to the item. Queues, the inbox and the preferences: axe-clean and keyboard-operable."""

import os
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from app.evidence.models import EvidenceItem, EvidenceVersion
from app.extensions import mail
from app.metrics.models import Metric, TargetChange
from app.reminders.cli import deliver_job
from app.timeutil import today, utcnow
from tests.e2e.layout import sign_in as sign_in_with_the_form
from tests.e2e.test_accessibility import assert_accessible
from tests.e2e.walk import SETTLED
from tests.conftest import sign_in_browser
from tests.factories import PASSWORD
from tests.web.test_reminders_send import Recorder, free_port

WIDTHS = (1280, 1024, 390)


@pytest.fixture
def mailbox(app, live_server):
    handler = Recorder()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, BASE_URL=live_server)
    mail.init_app(app)
    yield handler
    controller.stop()


@pytest.fixture
def world(make, db):
    w = make.notification_world()
    db.session.commit()
    return w


def sign_in_as(page, email, open=None):
    page.context.clear_cookies()  # whoever was signed in here is signed out
    sign_in_browser(page, email, open=open)


def deliver(app, mailbox, expected: dict[str, int]):
    """The scheduler's delivery job, run twice: the second sends nothing more."""
    deliver_job(app)
    got = {address: len(mailbox.to(address)) for address in expected}
    assert got == expected, got
    before = len(mailbox.messages)
    deliver_job(app)
    assert len(mailbox.messages) == before


def link_in(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"^Open it: (\S+)", text, re.M).group(1)


def follow(browser, live_server, message, email, heading):
    """A fresh browser opens the email's link, signs in when asked, and lands on the item."""
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    url = link_in(message)
    assert url.startswith(live_server)
    page.goto(url)
    assert "/sign-in" in page.url
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url.split("#")[0] == url.split("#")[0]
    expect(page.get_by_role("heading", name=heading).first).to_be_visible()
    context.close()


def send_plan(page, w):
    sign_in_as(page, w.sender.email, open=f"/recommendations/{w.rec.id}/submissions/new/plan")
    page.get_by_label("Cover narrative for OIG").fill("Our corrective action plan.")
    page.get_by_role("button", name="Review what will be sent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check what will be sent to OIG")
    with page.expect_navigation():
        page.get_by_role("button", name="Send to OIG").click()


def decide_plan(page, w, decision="Accept"):
    sign_in_as(page, w.reviewer.email, open="/queue")
    page.get_by_role("link", name="Submission 1: Corrective action plan").click()
    page.locator("label.usa-radio__label", has_text=decision).click()  # USWDS hides the input itself
    page.get_by_label("OIG analysis").fill("The milestones are specific and dated.")
    with page.expect_navigation():
        page.get_by_role("button", name="Record decision").click()


def test_a_plan_sent_reaches_the_oig_reviewer_who_opens_it(app, page, browser, live_server, world, mailbox):
    send_plan(page, world)
    deliver(app, mailbox, {"oig@example.gov": 1, "gao@example.gov": 0, "sender@example.gov": 0})
    [message] = mailbox.to("oig@example.gov")
    assert message["Subject"] == "OIG-15-85 Rec. 1: Corrective action plan sent to OIG by Sam Sender"
    follow(browser, live_server, message, "oig@example.gov", "Submission 1: Corrective action plan")


def test_an_oig_decision_reaches_the_plans_staff_and_managers(app, page, browser, live_server, world, mailbox):
    send_plan(page, world)
    decide_plan(page, world, "Reject")
    staff = {"sender@example.gov": 1, "owner@example.gov": 1, "lead@example.gov": 1, "manager@example.gov": 1}
    deliver(app, mailbox, {**staff, "oig@example.gov": 1, "eve@example.gov": 0})
    [message] = mailbox.to("owner@example.gov")
    assert message["Subject"] == "OIG-15-85 Rec. 1: OIG did not accept the corrective action plan"
    assert "Olivia Reviewer (OIG) did not accept" in message.get_body(preferencelist=("plain",)).get_content()
    follow(browser, live_server, message, "owner@example.gov", "Submission 1: Corrective action plan")


def test_evidence_reviewed_reaches_uploader_and_owner(app, page, browser, live_server, world, mailbox, db):
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
            original_filename="charter.pdf",
            content_type="application/pdf",
            size_bytes=3,
            sha256="0" * 64,
            uploaded_by_id=w.sender.id,
            uploaded_at=utcnow() - timedelta(days=3),
        )
    )
    db.session.commit()
    sign_in_as(page, w.reviewer.email, open="/queue")
    page.get_by_role("link", name="Signed charter").click()
    page.locator("label.usa-radio__label", has_text="Insufficient").click()
    page.get_by_label("Comment").fill("The charter is not signed.")
    with page.expect_navigation():
        page.get_by_role("button", name="Record review").click()
    deliver(app, mailbox, {"sender@example.gov": 1, "owner@example.gov": 1, "oig@example.gov": 0})
    follow(browser, live_server, mailbox.to("owner@example.gov")[0], "owner@example.gov", "Signed charter")


def _accept_plan(db, w):
    w.rec.status = "resolved_open"
    w.rec.management_decision_on = today()
    db.session.commit()


def test_a_date_change_reaches_the_manager_who_declines_it_in_place(
    app, page, browser, live_server, world, mailbox, db
):
    w = world
    _accept_plan(db, w)
    sign_in_as(page, w.sender.email, open=f"/milestones/{w.milestone.id}")
    new_due = w.milestone.current_due_on + timedelta(days=30)
    page.get_by_label("New due date").fill(new_due.isoformat())
    page.get_by_label("Justification").fill("The vendor delivered the data dictionary a month late.")
    with page.expect_navigation():
        page.get_by_role("button", name="Request due-date change").click()
    deliver(app, mailbox, {"manager@example.gov": 1, "sender@example.gov": 0, "owner@example.gov": 0})
    follow(
        browser, live_server, mailbox.to("manager@example.gov")[0], "manager@example.gov", "Publish the data standard"
    )

    sign_in_as(page, w.manager.email)
    queue = page.get_by_role("region", name=re.compile("Awaiting your approval"))
    expect(queue.get_by_text("The vendor delivered the data dictionary a month late.")).to_be_visible()
    expect(queue.get_by_text("30 days later")).to_be_visible()
    reason = page.get_by_label("Reason for your decision")
    reason.focus()
    page.keyboard.type("Keep the date: the dictionary can follow.")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name=re.compile("^Decline"))).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_text("Due-date change declined.")).to_be_visible()
    expect(
        page.get_by_role("region", name=re.compile("Awaiting your approval")).get_by_text("Nothing is waiting for you.")
    ).to_be_visible()
    deliver(app, mailbox, {"sender@example.gov": 1, "owner@example.gov": 1, "manager@example.gov": 1})
    follow(browser, live_server, mailbox.to("sender@example.gov")[0], "sender@example.gov", "Publish the data standard")
    # The declined change is back in the requester's queue.
    sign_in_as(page, w.sender.email)
    expect(
        page.get_by_role("region", name=re.compile("Returned to you")).get_by_role(
            "link", name="Publish the data standard"
        )
    ).to_be_visible()


def _metric(db, w, name="Share of releases with a recorded basis", **kw):
    metric = Metric(
        line_of_effort_id=w.line.id,
        name=name,
        unit="%",
        target_value=Decimal(90),
        components="ICE",
        collect_from=today().replace(day=1),
        **kw,
    )
    db.session.add(metric)
    db.session.commit()
    return metric


def test_a_target_change_reaches_the_manager_who_declines_it_in_place(
    app, page, browser, live_server, world, mailbox, db
):
    w = world
    _accept_plan(db, w)
    metric = _metric(db, w)
    sign_in_as(page, w.sender.email)
    page.goto(f"/metrics/{metric.id}/edit")
    page.get_by_label("Target value").fill("80")
    page.get_by_label("Why the target changes").fill("CBP reports only from next year; 90% is out of reach.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("The new target awaits a manager's approval")).to_be_visible()
    deliver(app, mailbox, {"manager@example.gov": 1, "sender@example.gov": 0, "lead@example.gov": 0})
    [asked] = mailbox.to("manager@example.gov")
    assert asked["Subject"] == "OIG-15-85 Rec. 1: target change awaits your approval"
    follow(browser, live_server, asked, "manager@example.gov", metric.name)

    sign_in_as(page, w.manager.email)
    queue = page.get_by_role("region", name=re.compile("Awaiting your approval"))
    expect(queue.get_by_text("CBP reports only from next year; 90% is out of reach.")).to_be_visible()
    expect(queue.get_by_text("Target change", exact=True)).to_be_visible()
    expect(queue.locator("dd", has_text="80%")).to_be_visible()
    reason = page.get_by_label("Reason for your decision")
    reason.focus()
    page.keyboard.type("Keep 90%: ICE and USCIS carry the share.")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name=re.compile("^Decline"))).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_text("Target change declined.")).to_be_visible()
    expect(
        page.get_by_role("region", name=re.compile("Awaiting your approval")).get_by_text("Nothing is waiting for you.")
    ).to_be_visible()
    deliver(app, mailbox, {"sender@example.gov": 1, "lead@example.gov": 1, "manager@example.gov": 1})
    [answer] = mailbox.to("sender@example.gov")
    assert answer["Subject"] == "OIG-15-85 Rec. 1: target change declined by Mona Manager"
    follow(browser, live_server, answer, "sender@example.gov", metric.name)
    # The declined change is back in the requester's queue.
    sign_in_as(page, w.sender.email)
    expect(
        page.get_by_role("region", name=re.compile("Returned to you")).get_by_role("link", name=metric.name)
    ).to_be_visible()


def test_a_queue_decision_without_a_reason_stays_on_the_start_page_with_the_summary_focused(page, world, db):
    w = world
    _accept_plan(db, w)
    sign_in_as(page, w.sender.email, open=f"/milestones/{w.milestone.id}")
    page.get_by_label("New due date").fill((w.milestone.current_due_on + timedelta(days=30)).isoformat())
    page.get_by_label("Justification").fill("The vendor delivered the data dictionary a month late.")
    with page.expect_navigation():
        page.get_by_role("button", name="Request due-date change").click()

    sign_in_as(page, w.manager.email)
    start = page.url
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("^Approve")).click()
    assert page.url == start
    summary = page.locator(".app-error-summary")
    expect(summary.first).to_be_focused()  # set by app.js once the page has loaded
    summary.get_by_role("link", name=re.compile("Reason for your decision")).click()
    expect(page.get_by_label("Reason for your decision")).to_be_focused()
    page.get_by_label("Reason for your decision").fill("Dependency documented.")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("^Approve")).click()
    expect(page.get_by_text("Due-date change approved.")).to_be_visible()
    assert page.url.split("#")[0] == start


def test_a_comment_with_a_mention_chosen_by_keyboard(app, page, browser, live_server, world, mailbox):
    w = world
    sign_in_as(page, w.sender.email, open=f"/recommendations/{w.rec.id}")
    box = page.get_by_label("Your message")
    box.fill("Could GAO look at the plan? ")
    box.press("End")
    page.keyboard.type("@Gus")
    options = page.get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_have_text("Gus Auditor (gao@example.gov)")
    expect(page.locator("[aria-live=polite]").filter(has_text="1 person matches")).to_have_count(1)
    page.keyboard.press("Enter")
    assert box.input_value() == "Could GAO look at the plan? @gao@example.gov "
    page.keyboard.type("and @Eve")  # Eve may not see it: no suggestion
    expect(page.get_by_role("option")).to_have_count(0)
    with page.expect_navigation():
        page.get_by_role("button", name="Send message").click()
    deliver(app, mailbox, {"gao@example.gov": 1, "eve@example.gov": 0, "sender@example.gov": 0})
    follow(browser, live_server, mailbox.to("gao@example.gov")[0], "gao@example.gov", "Conversation")

    sign_in_as(page, w.gao.email, open=f"/recommendations/{w.rec.id}")
    page.get_by_label("Your message").fill("Yes: the plan needs a data owner.")
    with page.expect_navigation():
        page.get_by_role("button", name="Send message").click()
    deliver(app, mailbox, {"sender@example.gov": 1, "gao@example.gov": 1})


def test_a_mention_typed_in_full_when_the_suggestions_fail_to_load(app, page, live_server, world, mailbox):
    sign_in_as(page, world.sender.email, open=f"/recommendations/{world.rec.id}")
    page.route("**/mentionable.json", lambda route: route.fulfill(status=503, body="Unavailable"))
    box = page.get_by_label("Your message")
    with page.expect_response("**/mentionable.json") as answered:
        box.focus()
    assert answered.value.status == 503
    page.keyboard.type("Over to @gao@example.gov please.")
    expect(page.get_by_role("option")).to_have_count(0)
    with page.expect_navigation():
        page.get_by_role("button", name="Send message").click()
    expect(page.locator(".app-comment__body")).to_have_text("Over to @gao@example.gov please.")
    deliver(app, mailbox, {"gao@example.gov": 1, "sender@example.gov": 0})


def test_the_mention_list_works_without_javascript(browser, live_server, world):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    sign_in_with_the_form(page, world.sender.email, PASSWORD)  # the form works without scripts too
    page.goto(f"/recommendations/{world.rec.id}")
    page.get_by_role("link", name="People you can mention").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"People you can mention on {world.rec.label}")
    row = page.get_by_role("row").filter(has_text="Gus Auditor")
    expect(row.get_by_role("cell", name="gao@example.gov")).to_be_visible()
    assert page.get_by_text("eve@example.gov").count() == 0
    page.get_by_role("link", name="Back to the conversation").click()
    expect(page.get_by_label("Your message")).to_be_visible()
    context.close()


def _last_quarter_start():
    day = today() - timedelta(days=92)
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def test_a_flag_raised_reaches_the_line_lead(app, page, browser, live_server, world, mailbox, db):
    w = world
    metric = Metric(
        line_of_effort_id=w.line.id,
        name="Share of releases with a recorded basis",
        target_value=Decimal(90),
        direction="higher",
        frequency="quarterly",
        components="ICE",
        collect_from=_last_quarter_start(),
    )
    db.session.add(metric)
    db.session.commit()
    sign_in_as(page, w.sender.email, open=f"/metrics/{metric.id}/readings/new")
    start = _last_quarter_start()  # the one period that has ended: a reading is due for it
    page.get_by_label("Period").select_option(f"{start.year}-Q{(start.month - 1) // 3 + 1}")
    page.get_by_label("Value").fill("40")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("Save")).click()
    deliver(app, mailbox, {"lead@example.gov": 1, "sender@example.gov": 0})
    follow(
        browser,
        live_server,
        mailbox.to("lead@example.gov")[0],
        "lead@example.gov",
        "Share of releases with a recorded basis",
    )


def test_inbox_header_count_and_marking_read_by_keyboard(page, world, db, app, mailbox):
    w = world
    send_plan(page, w)
    decide_plan(page, w, "Accept")
    sign_in_as(page, w.owner.email)
    link = page.get_by_role("link", name=re.compile(r"^Notifications 1 unread"))
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_role("heading", level=1, name="Notifications")).to_be_visible()
    assert_accessible(page, "/notifications")
    page.get_by_role("button", name="Mark all as read").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_text("1 notification marked as read.")).to_be_visible()
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    page.get_by_role("link", name=re.compile("OIG accepted|accepted the corrective action plan")).click()
    expect(page.get_by_role("heading", name="Submission 1: Corrective action plan")).to_be_visible()


def test_preferences_are_keyboard_operable_and_the_decision_cannot_be_off(page, world):
    sign_in_as(page, world.owner.email, open="/reminders/preferences")
    decision = page.get_by_label("OIG decides on a submission of your office's plan")
    assert [o for o in decision.locator("option").all_text_contents()] == [
        "Email me immediately",
        "In my daily summary",
    ]
    comment = page.get_by_label("A message in a conversation you are part of, or one that mentions you")
    comment.focus()
    page.keyboard.press("End")
    assert comment.input_value() == "off"
    assert_accessible(page, "/reminders/preferences")
    with page.expect_navigation():
        page.get_by_role("button", name="Save preferences").press("Enter")
    assert (
        page.get_by_label("A message in a conversation you are part of, or one that mentions you").input_value()
        == "off"
    )


@pytest.mark.parametrize("role", ["oig_reviewer", "manager", "action_office"])
def test_queues_are_accessible_and_fit_every_width(page, world, db, make, role):
    """No sideways scroll at 1280, 1024 and 390 px (screenshots of each kept in SCREENSHOT_DIR when set)."""
    w = world
    _accept_plan(db, w)
    from app.milestones.models import DueDateChange
    from app.submissions.models import Submission

    long = (
        "The data dictionary from ICE arrived a month late, and the CBP field mapping needs a second "
        "review by the Office of Policy's data governance board before the standard is published. "
    ) * 3
    db.session.add(
        DueDateChange(
            milestone_id=w.milestone.id,
            old_due_on=w.milestone.current_due_on,
            new_due_on=w.milestone.current_due_on + timedelta(days=60),
            justification=long,
            status="pending",
            requested_by_id=w.sender.id,
        )
    )
    pending_target = _metric(db, w, "Share of prosecutorial-discretion releases with a recorded basis")
    declined_target = _metric(db, w, "Releases reported on time")
    db.session.add_all(
        [
            TargetChange(
                metric_id=pending_target.id,
                old_target_value=Decimal(90),
                new_target_value=Decimal("82.5"),
                new_target_on=today() + timedelta(days=400),
                justification=long,
                status="pending",
                requested_by_id=w.sender.id,
            ),
            TargetChange(
                metric_id=declined_target.id,
                old_target_value=Decimal(90),
                new_target_value=Decimal(70),
                justification="Lower.",
                status="declined",
                requested_by_id=w.sender.id,
                decided_by_id=w.manager.id,
                decided_at=utcnow(),
                decision_reason="The target holds: the components agreed to it.",
            ),
        ]
    )
    db.session.add(
        Submission(
            recommendation_id=w.rec.id,
            number=1,
            kind="status_update",
            narrative="n",
            snapshot={},
            snapshot_sha256="0" * 64,
            submitted_by_id=w.sender.id,
            submitted_on=today(),
            decision="rejected",
            decided_by_id=w.reviewer.id,
            decided_at=utcnow(),
        )
    )
    db.session.add(
        Submission(
            recommendation_id=w.rec.id,
            number=2,
            kind="plan",
            narrative="n",
            snapshot={},
            snapshot_sha256="0" * 64,
            submitted_by_id=w.sender.id,
            submitted_on=today(),
            submitted_at=utcnow() - timedelta(days=12),
        )
    )
    from app.notifications.models import Notification

    who = {"oig_reviewer": w.reviewer, "manager": w.manager, "action_office": w.sender}[role]
    texts = [
        "Olivia Reviewer (OIG) did not accept the 90-day status update (submission 1) on OIG-15-85 Rec. 1.",
        "Sam Sender asked to move the due date of “Publish the data standard” (OIG-15-85 Rec. 1) from "
        "Jan 1, 2027 to Mar 2, 2027.",
        "Gus Auditor wrote on OIG-15-85 Rec. 1: “Could the Office of Policy say which component owns the "
        "prosecutorial-discretion release data, and when the first complete quarter will be reported?”",
    ]
    for i, text in enumerate(texts):
        db.session.add(
            Notification(
                recipient_id=who.id,
                kind="comment",
                item_type="comment",
                item_id=900 + i,
                recommendation_id=w.rec.id,
                text=text,
                reason="You take part in this conversation.",
                link=f"/recommendations/{w.rec.id}",
                read_at=utcnow() if i == 0 else None,
            )
        )
    db.session.commit()
    email = {"oig_reviewer": w.reviewer.email, "manager": w.manager.email, "action_office": w.sender.email}[role]
    sign_in_as(page, email)
    shots = os.environ.get("SCREENSHOT_DIR")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
    for url, name in (
        ("/", "start"),
        ("/queue", "queue"),
        ("/notifications", "inbox"),
        ("/reminders/preferences", "preferences"),
    ):
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(url)
        assert_accessible(page, f"{url} as {role}")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            # Laid out at the new width first (the screenshot, when one is kept, waits for that too).
            page.evaluate(SETTLED)
            if shots:
                page.screenshot(path=str(Path(shots) / f"{name}-{role}-{width}.png"), full_page=True)
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{url} scrolls sideways at {width} px for {role}"
    if role == "oig_reviewer":
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto("/")
        expect(page.get_by_role("link", name=re.compile(r"Awaiting your review 1 items"))).to_be_visible()
