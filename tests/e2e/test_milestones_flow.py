"""The acceptance walk of issue 4, in a real browser, on the OIG-15-85 demo."""

from playwright.sync_api import expect

from app.recommendations.models import Recommendation
from app.timeutil import today
from tests.e2e.test_accessibility import assert_accessible
from tests.factories import days

TITLE = "Brief component data stewards on the field dictionary"


def iso(n: int) -> str:
    return days(n).isoformat()


def shown(n: int) -> str:
    return days(n).strftime("%b %-d, %Y")


def test_policy_runs_a_milestone_and_a_manager_approves_a_date_change(page, sign_in, demo, db):
    sign_in("policy@example.gov", open="/recommendations/1")
    page.get_by_role("link", name="Add milestone to Data collection").click()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Start date").fill(iso(0))
    page.get_by_label("Due date").fill(iso(30))
    page.get_by_label("Evidence it expects").fill("Briefing slides and attendance list")
    page.get_by_label("Depends on").select_option(
        label="Data collection: Inventory component systems that record prosecutorial discretion (EARM, e3, CLAIMS)"
    )
    page.get_by_role("button", name="Save milestone").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    assert_accessible(page, "new milestone page")

    page.get_by_label("Percent complete").fill("50")
    page.get_by_label("Note", exact=True).fill("Briefing scheduled with ICE and CBP stewards.")
    page.get_by_role("button", name="Post update").click()
    expect(page.get_by_text("Update posted.")).to_be_visible()

    page.get_by_label("New due date").fill(iso(40))
    page.get_by_label("Justification").fill("USCIS steward joins in two weeks.")
    page.get_by_role("button", name="Change due date").click()
    expect(page.get_by_text("Due date changed.")).to_be_visible()

    page.get_by_label("Completion date").fill(iso(0))
    page.get_by_label("Completion note").fill("All three components briefed; attendance list filed.")
    page.get_by_role("button", name="Mark completed").click()
    expect(page.get_by_text("Milestone marked completed.")).to_be_visible()

    updates = page.locator("section", has=page.get_by_role("heading", name="Status updates"))
    expect(updates.locator("li").first).to_contain_text("All three components briefed")
    expect(updates.locator("li").nth(1)).to_contain_text("Briefing scheduled with ICE and CBP stewards.")
    dates = page.get_by_role("table", name="Every change of the due date")
    expect(dates).to_contain_text(shown(30))
    expect(dates).to_contain_text(shown(40))
    history = page.locator("section", has=page.get_by_role("heading", name="History"))
    for what in ("Created", "Update posted", "Due date changed", "Completed"):
        expect(history.get_by_role("rowheader", name=what, exact=True)).to_be_visible()

    # OIG accepts the plan (issue 3 builds that screen); from now on a manager approves date changes.
    recommendation = db.session.get(Recommendation, 1)
    recommendation.status = "resolved_open"
    recommendation.management_decision_on = today()
    db.session.commit()

    page.goto("/recommendations/1")
    page.get_by_role("link", name="Add a unique person identifier to link records across components").click()
    page.get_by_label("New due date").fill(iso(75))
    page.get_by_label("Justification").fill("CBP e3 interface change slips to next quarter.")
    page.get_by_role("button", name="Request due-date change").click()
    expect(page.get_by_role("status")).to_contain_text("Due-date change requested")
    expect(page.get_by_role("heading", name="Due-date change awaiting a decision")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    sign_in("manager@example.gov")
    page.get_by_role("link", name="My work").click()
    decisions = page.locator("section", has=page.get_by_role("heading", name="Due-date changes awaiting your decision"))
    expect(decisions).to_contain_text("1 due-date change of your office waits for your decision")
    decisions.get_by_role("link", name="Awaiting your approval").click()  # the queue is where it is decided
    queue = page.locator("ol.app-queue")
    expect(queue).to_contain_text("CBP e3 interface change slips to next quarter.")
    queue.get_by_role("link", name="Add a unique person identifier").click()
    assert_accessible(page, "milestone page with a decision to take")
    page.get_by_label("Reason for the decision").fill("Dependency on CBP is documented; new date is realistic.")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Due-date change approved.")).to_be_visible()

    facts = page.locator("dl.app-facts")
    expect(facts).to_contain_text(shown(75))
    expect(facts).to_contain_text("30 days later than baseline")
    expect(facts).to_contain_text(shown(45) + " (frozen: the plan is accepted)")
    changes = page.get_by_role("table", name="Every change of the due date")
    expect(changes).to_contain_text("Approved")
    expect(changes).to_contain_text("Dependency on CBP is documented")
    expect(changes).to_contain_text("USCIS asked for time")  # the earlier, pre-acceptance change stays listed
    history = page.locator("section", has=page.get_by_role("heading", name="History"))
    for what in ("Due-date change requested", "Due-date change approved"):
        expect(history.get_by_role("rowheader", name=what, exact=True)).to_be_visible()
    assert page.console_errors == []


def test_the_timeline_draws_a_gantt_chart_beside_its_table(page, sign_in, demo):
    sign_in("oig@example.gov", open="/recommendations/1")
    page.get_by_role("link", name="Timeline of the plan").click()
    expect(page.locator("#gantt svg .bar-wrapper").first).to_be_attached()
    assert page.locator("#gantt .bar-wrapper").count() >= 12
    expect(page.get_by_role("table", name="Line of effort 2: Data collection")).to_contain_text(
        "Begin monthly data submissions"
    )
    assert page.console_errors == []
