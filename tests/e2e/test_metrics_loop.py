"""The issue's acceptance walk: plan, implement, monitor, improve, in a real browser."""

import re
from datetime import timedelta

from playwright.sync_api import expect

from app.metrics.periods import period_bounds, previous_periods
from app.timeutil import today

METRIC = "Leadership reports with component data"


def test_policy_staff_close_the_feedback_loop(page, sign_in, demo):
    sign_in("policy@example.gov")
    page.get_by_role("link", name="Recommendation 1").click()
    page.get_by_role("link", name="Open the feedback loop").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Feedback loop")

    # Plan: a metric with a target on the data reporting line.
    page.get_by_role("link", name="Define a metric for Data reporting").click()
    page.get_by_label("Name", exact=True).fill(METRIC)
    page.get_by_label("Unit", exact=True).fill("% of reports")
    page.get_by_label("Baseline value").fill("0")
    page.get_by_label("Target value").fill("90")
    page.get_by_label("Collection frequency").select_option("quarterly")
    page.get_by_label("Components", exact=True).fill("ICE, CBP")
    # Readings are due from the first of the three quarters entered below.
    first_quarter = previous_periods("quarterly", today(), 3)[0]
    page.get_by_label("Collect readings from").fill(period_bounds("quarterly", first_quarter)[0].isoformat())
    page.get_by_role("button", name="Define metric").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(METRIC)

    # Monitor: three quarterly readings for ICE and CBP, one off target.
    quarters = previous_periods("quarterly", today(), 3)
    values = {"ICE": ["92", "95", "97"], "CBP": ["91", "70", "96"]}
    for component, readings in values.items():
        for period, value in zip(quarters, readings):
            page.get_by_role("link", name="Enter a reading").click()
            page.get_by_label("Period").select_option(period)
            page.get_by_label("Component").select_option(component)
            page.get_by_label("Value").fill(value)
            page.get_by_role("button", name="Save reading").click()
            expect(page.get_by_role("status").first).to_contain_text("Reading saved")
    expect(page.get_by_role("cell", name="-20")).to_be_visible()
    table = page.get_by_role("table", name=re.compile(METRIC))
    expect(table.get_by_role("row", name=re.compile(quarters[1]))).to_contain_text("70")

    # The flag appears in the flags list.
    page.goto("/recommendations/1/flags")
    # The feedback-loop pages are tabs that say which one you are on.
    tabs = page.get_by_role("navigation", name="Feedback loop pages")
    expect(tabs.get_by_role("link", name="Flags")).to_have_attribute("aria-current", "page")
    expect(tabs.get_by_role("link", name="Feedback loop")).not_to_have_attribute("aria-current", "page")
    row = page.get_by_role("row", name=re.compile(f"{METRIC} CBP {quarters[1]}"))
    expect(row).to_contain_text("Off target")
    expect(row).to_contain_text("-20")

    # Improve: the answer adds a milestone.
    row.get_by_role("link", name=re.compile("Answer")).click()
    page.get_by_label("Decision").select_option(label="Add a milestone")
    page.get_by_label("Reason").fill("CBP stations file the report late; add a quarterly data call.")
    page.get_by_label("New milestone title").fill("Start a quarterly CBP data call")
    page.get_by_label("New milestone due date").fill((today() + timedelta(days=45)).isoformat())
    page.get_by_role("button", name="Record the improvement action").click()
    expect(page.get_by_role("status").first).to_contain_text("Improvement action recorded")

    # The loop: the metric in plan, the new milestone in implement, no open flag.
    page.goto("/recommendations/1/loop")
    line = page.get_by_role("region", name="Line of effort 3: Data reporting")
    expect(line.get_by_role("region", name=re.compile("^Plan"))).to_contain_text(METRIC)
    expect(line.get_by_role("region", name=re.compile("^Implement"))).to_contain_text("Start a quarterly CBP data call")
    monitor = line.get_by_role("region", name=re.compile("^Monitor"))
    expect(monitor).to_contain_text("0 open flags")
    expect(monitor).to_contain_text("No open flags.")
    expect(line.get_by_role("region", name=re.compile("^Improve"))).to_contain_text("Add a milestone")
    assert page.console_errors == []


def test_charts_draw_and_keep_their_table(page, sign_in, demo):
    sign_in("oig@example.gov", open="/recommendations/1/metrics")
    canvases = page.locator("canvas[data-chart]")
    expect(canvases.first).to_be_visible()
    assert canvases.count() == 3
    # Chart.js sized the canvas, and the numbers are in a table too.
    assert page.evaluate("Chart.getChart(document.querySelector('canvas[data-chart]')) !== undefined")
    expect(page.get_by_role("table", name=re.compile("Data-quality measures for ICE"))).to_be_visible()
    expect(page.get_by_role("link", name="Download these numbers (CSV)").first).to_be_visible()
    assert page.console_errors == []
