"""The OIG-15-85 case, from the office's first plan to closure, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from app.timeutil import today
from tests.e2e.test_accessibility import assert_accessible
from tests.conftest import browser_page, sign_in_browser

POLICY, OIG = "policy@example.gov", "oig@example.gov"


@pytest.fixture
def oig_page(browser, live_server):
    """A second browser, OIG's, beside the office's ``page`` (each signs in once, as two people do)."""
    with browser_page(browser, live_server) as page:
        yield page


def _submit(page, link, narrative, check_a11y=False):
    page.goto("/recommendations/1")
    page.get_by_role("link", name=link).click()
    page.get_by_label("Cover narrative for OIG").fill(narrative)
    if check_a11y:
        assert_accessible(page, "new submission form")
    page.get_by_role("button", name="Review what will be sent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check what will be sent to OIG")
    acknowledgements = page.locator("textarea[name^=ack-]")
    for i in range(acknowledgements.count()):
        acknowledgements.nth(i).fill("Accepted as is: the remaining work is tracked in the next plan.")
    page.get_by_role("button", name="Send to OIG").click()
    expect(page.get_by_role("status")).to_contain_text("was sent to OIG")


def _decide(page, title, decision, analysis, check_a11y=False):
    page.get_by_role("link", name=re.compile("^Awaiting your review")).click()
    if check_a11y:
        assert_accessible(page, "/queue")
    page.locator("ol.app-queue").get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    if check_a11y:
        assert_accessible(page, "submission with the decision form")
    page.locator("label.usa-radio__label", has_text=decision).click()
    page.get_by_label("OIG analysis").fill(analysis)
    close_anyway = page.locator("label[for=close_anyway]")
    if decision == "Accept" and close_anyway.count():
        close_anyway.click()
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_contain_text(title)


def _status(page):
    page.goto("/recommendations/1")
    return page.locator(".app-facts .app-status").text_content().strip()


def test_the_oig_15_85_case_from_plan_to_closure(page, oig_page, sign_in, demo):
    office, oig = page, oig_page
    sign_in(POLICY)
    sign_in_browser(oig, OIG)
    _submit(office, "Submit a corrective action plan", "Three lines of effort with milestones.", check_a11y=True)

    _decide(
        oig,
        "Submission 1: Corrective action plan",
        "Reject",
        "The plan has no step to ensure the accuracy of the data.",
        check_a11y=True,
    )
    assert _status(oig) == "Unresolved, open"

    _submit(office, "Submit a corrective action plan", "Revised: a sample-based accuracy review is added.")

    _decide(oig, "Submission 2: Corrective action plan", "Accept", "The revised plan answers the recommendation.")
    assert _status(oig) == "Resolved, open"
    decision = oig.locator(".app-facts dt", has_text="Management decision").locator("xpath=following-sibling::dd[1]")
    expect(decision).to_have_text(today().strftime("%b %-d, %Y"))

    _submit(office, "Request closure", "Data collected and reported; results attached.")
    assert _status(office) == "Closure pending"

    _decide(oig, "Submission 3: Closure request", "Accept", "Verified: the data is complete and reported.")
    assert _status(oig) == "Resolved, closed"

    oig.get_by_role("link", name="History", exact=True).click()
    assert_accessible(oig, "/recommendations/1/history")
    events = oig.locator("li.app-event .app-event__text")
    expect(events.filter(has_text=re.compile(r"^Dana Whitfield sent submission \d, a "))).to_have_count(3)
    expect(events.filter(has_text=re.compile(r"^Marcus Ortega (accepted|rejected) submission"))).to_have_count(3)
    expect(events.filter(has_text="The plan has no step to ensure")).to_have_count(1)
    for before, after, author in [
        ("Unresolved, open", "Resolved, open", "Marcus Ortega"),
        ("Resolved, open", "Closure pending", "Dana Whitfield"),
        ("Closure pending", "Resolved, closed", "Marcus Ortega"),
    ]:
        expect(events.filter(has_text=f"{author} changed the status from {before} to {after}")).to_have_count(1)
    assert office.console_errors == [] and oig.console_errors == []
