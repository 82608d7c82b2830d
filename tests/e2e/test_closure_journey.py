"""Deciding from the closure package, in a real browser: the office sends a closure request
through the confirmation step, acknowledging each open item; OIG decides beside the readiness
list. Also: an invalid form puts the focus on its error summary at the same address, and a
reading for a period that has not ended is refused with the reason."""

import re

import pytest
from playwright.sync_api import expect

from app.metrics.periods import period_of
from app.timeutil import today

POLICY, OIG = "policy@example.gov", "oig@example.gov"


@pytest.fixture
def accepted_plan(db, demo):
    """The demo with its corrective action plan accepted by OIG (status Resolved, open)."""
    import sqlalchemy as sa

    from app.auth.models import User
    from app.recommendations.models import Recommendation
    from app.submissions import services

    rec = db.session.get(Recommendation, 1)
    office = db.session.scalar(sa.select(User).where(User.email == POLICY))
    oig = db.session.scalar(sa.select(User).where(User.email == OIG))
    plan = services.submit(rec, "plan", "Three lines of effort with milestones.", office)
    services.decide(plan, "accepted", "The plan answers the recommendation.", oig)
    db.session.commit()
    return rec


def test_the_office_sends_with_acknowledgements_and_oig_decides_from_the_package(page, sign_in, accepted_plan):
    sign_in(POLICY, open="/recommendations/1")
    page.get_by_role("link", name="Closure package and readiness").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Closure package")
    expect(page.locator("#readiness-top")).to_contain_text("Not ready")
    page.get_by_role("link", name="Request closure from OIG").click()
    page.get_by_label("Cover narrative for OIG").fill("Data collected and reported; results attached.")
    page.get_by_role("button", name="Review what will be sent").click()

    # The confirmation step: what will be sent, and nothing sent yet.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check what will be sent to OIG")
    expect(page.locator(".app-longtext")).to_have_text("Data collected and reported; results attached.")
    acknowledgements = page.locator("textarea[name^=ack-]")
    count = acknowledgements.count()
    assert count > 5
    # A sentence or two each: USWDS's 10rem textarea made 30 items 8,000 px of page.
    assert acknowledgements.first.bounding_box()["height"] < 90
    # A number and its unit stay on one line ("93" / "%" broke apart).
    assert not re.search(r"\d %", page.locator("fieldset").inner_text())
    for i in range(1, count):  # the first one left empty
        acknowledgements.nth(i).fill(f"Accepted: item {i} continues under the next plan.")
    page.get_by_role("button", name="Send to OIG").click()

    # Refused in place: the summary has the focus and links to the empty field; entries kept.
    summary = page.locator(".app-error-summary")
    expect(summary).to_contain_text("There is a problem. Nothing was saved.")
    expect(page.locator(".app-error-summary").first).to_be_focused()  # set by app.js once the page has loaded
    assert "/submissions/new/closure_request" in page.url
    expect(acknowledgements.nth(1)).to_have_value("Accepted: item 1 continues under the next plan.")
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.name") == acknowledgements.first.get_attribute("name")
    page.keyboard.type("Accepted: finished next month.")
    page.get_by_role("button", name="Send to OIG").click()
    expect(page.get_by_role("status")).to_contain_text("Submission 2: Closure request was sent to OIG")

    # OIG decides from the package, the readiness list beside the form.
    page.get_by_role("button", name="Sign out").click()
    sign_in(OIG)
    page.get_by_role("link", name=re.compile("^Awaiting your review")).click()
    page.locator("ol.app-queue").get_by_role("link", name="Submission 2: Closure request").click()
    expect(page.locator("#readiness-top")).to_contain_text(f"{count} items not done")
    side = page.locator("aside")
    expect(side.locator("#readiness-side")).to_have_text(f"Not ready: {count} items")
    expect(page.get_by_text("Sender: “Accepted: finished next month.”")).to_be_visible()
    expect(page.get_by_role("heading", name="Evidence and its review")).to_be_visible()
    assert page.locator("canvas[data-chart]").count() >= 1
    # Drawn, not empty boxes (the scripts were once left out of this page).
    # (waited for: the charts are drawn by the page's scripts once it has loaded, after the click returned)
    page.wait_for_function(
        "[...document.querySelectorAll('canvas[data-chart]')].every((c) => window.Chart && Chart.getChart(c))"
    )
    side.locator("label.usa-radio__label", has_text="Accept").click()
    side.get_by_label("OIG analysis").fill("Verified: the data is complete and reported.")
    side.get_by_role("button", name="Record decision").click()
    expect(page.locator(".app-error-summary")).to_contain_text("tick this box to close anyway")
    expect(page.locator(".app-error-summary").first).to_be_focused()  # set by app.js once the page has loaded
    assert page.url.endswith("/submissions/2")
    page.locator("label[for=close_anyway]").click()
    side.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_contain_text("Submission 2: Closure request accepted")
    expect(page.locator(".app-facts .app-status")).to_have_text(re.compile("Resolved, closed", re.I))
    page.get_by_role("link", name="The whole history, by kind of event").click()
    page.get_by_label("Kind of event").select_option("decisions")
    page.get_by_role("button", name="Show").click()
    expect(
        page.get_by_text(
            re.compile(
                rf"^Dana Whitfield sent submission 2, a closure request, to OIG, "
                rf"acknowledging {count} open items\.$"
            )
        )
    ).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Marcus Ortega accepted submission 2 \(closure request\)"))).to_be_visible()
    # The two refusals answer 400 (the browser logs that); nothing else went wrong in the pages.
    assert [e for e in page.console_errors if "status of 400" not in e] == []


def test_an_invalid_milestone_update_keeps_the_address_and_focuses_the_summary(page, sign_in, demo):
    sign_in(POLICY, open="/milestones/6")
    page.get_by_label("Percent complete").fill("150")
    page.get_by_label("Percent complete").press("Enter")
    page.wait_for_load_state()
    assert page.url.endswith("/milestones/6")
    summary = page.locator(".app-error-summary")
    expect(summary).to_be_visible()
    expect(page.locator(".app-error-summary").first).to_be_focused()  # set by app.js once the page has loaded
    link = summary.get_by_role("link", name=re.compile("Percent complete"))
    link.click()
    assert page.evaluate("document.activeElement.id") == "update-percent_complete"
    expect(page.locator("#update-percent_complete-error")).to_be_visible()
    expect(page.get_by_label("Percent complete")).to_have_value("150")


def test_a_reading_for_a_period_not_ended_is_refused_with_the_reason(page, sign_in, demo):
    sign_in(POLICY, open="/metrics/12/readings/new")
    current = period_of("monthly", today())
    period = page.get_by_label("Period")
    offered = period.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert offered and current not in offered
    # A page left open since last month offers a period that has not ended yet.
    period.evaluate(f"s => s.add(new Option('{current}: missing', '{current}'))")
    period.select_option(current)
    page.get_by_label("Component").select_option("ICE")
    page.locator("input[name=numerator]").fill("90")
    page.locator("input[name=denominator]").fill("100")
    page.get_by_role("button", name="Save reading").click()
    expect(page.locator(".app-error-summary")).to_contain_text(f"{current} has not ended yet")
    expect(page.locator(".app-error-summary").first).to_be_focused()  # set by app.js once the page has loaded
