"""Issue 21 in a real browser: OIG records a recommendation's questioned costs, accepts the office's plan
with the management decision on the money, and the semiannual report's section 5 tables count it;
the demo's banner and printed issue date are on the pages."""

import re
from datetime import date

from playwright.sync_api import expect

from app.timeutil import today
from tests.e2e.test_accessibility import assert_accessible


def _current_period_end(on: date) -> date:
    if on <= date(on.year, 3, 31):
        return date(on.year, 3, 31)
    if on <= date(on.year, 9, 30):
        return date(on.year, 9, 30)
    return date(on.year + 1, 3, 31)


def _sign_out(page):
    page.get_by_role("button", name="Sign out").click()


def test_oig_records_the_money_decision_and_the_section5_tables_count_it(page, sign_in, demo):
    sign_in("oig@example.gov")
    expect(page.locator(".app-demo-alert")).to_contain_text("Demonstration data is loaded.")
    page.goto("/reports/new")
    page.get_by_label("Report number").fill("OIG-26-07")
    page.get_by_label("Title").fill("Grant costs at a component")
    page.get_by_label("Issue date").fill(today().isoformat())
    page.get_by_role("button", name="Add report").click()
    page.get_by_label("Recommendation number").fill("1")
    page.get_by_label("Recommendation text").fill("Recover the unsupported grant costs.")
    page.get_by_label("Action office").select_option(label="DHS Office of Policy")
    page.get_by_label("Questioned costs (USD)").fill("1000")
    page.get_by_label("Of which unsupported costs (USD)").fill("1200")
    page.get_by_label("Funds put to better use (USD)").fill("5000")
    page.get_by_role("button", name="Add recommendation").click()
    expect(page.get_by_text("Unsupported costs cannot exceed the questioned costs.", exact=True)).to_be_visible()
    page.get_by_label("Of which unsupported costs (USD)").fill("400")
    page.get_by_role("button", name="Add recommendation").click()
    expect(page.get_by_role("cell", name=re.compile(r"\$1,000.00 of which unsupported \$400.00"))).to_be_visible()
    rec_url = page.get_by_role("link", name="Recommendation 1").get_attribute("href")
    _sign_out(page)

    sign_in("policy@example.gov", open=f"{rec_url}/submissions/new/plan")
    page.get_by_label("Cover narrative for OIG").fill("Our plan: recover the costs by the end of the year.")
    page.get_by_role("button", name="Review what will be sent").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check what will be sent to OIG")
    with page.expect_navigation():
        page.get_by_role("button", name="Send to OIG").click()
    submission_url = page.url
    _sign_out(page)

    sign_in("oig@example.gov", open=submission_url)
    assert_accessible(page, "the decision form with the money")
    page.locator("label.usa-radio__label", has_text="Accept").click()  # USWDS hides the input itself
    page.get_by_label("Questioned costs disallowed (USD)").fill("1500")
    page.get_by_label("Funds agreed to be put to better use (USD)").fill("5000")
    page.get_by_label("OIG analysis").fill("The plan answers the recommendation.")
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator("#disallowed_costs-error")).to_contain_text("from $0.00 to $1,000.00")
    page.get_by_label("Questioned costs disallowed (USD)").fill("250")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status").first).to_contain_text("accepted")

    end = _current_period_end(today())
    page.goto(f"/exports/semiannual?period_end={end.isoformat()}")
    questioned = page.get_by_role("table", name=re.compile("^Reports with questioned costs"))
    expect(questioned.get_by_role("row", name=re.compile(r"^B\. Which were issued"))).to_contain_text("$1,000.00")
    expect(questioned.get_by_role("row", name=re.compile(r"^\(i\) Dollar value of disallowed costs"))).to_contain_text(
        "$250.00"
    )
    expect(
        questioned.get_by_role("row", name=re.compile(r"^\(ii\) Dollar value of costs not disallowed"))
    ).to_contain_text("$750.00")
    funds = page.get_by_role("table", name=re.compile("^Reports with recommendations that funds"))
    expect(funds.get_by_role("row", name=re.compile(r"^\(i\) Dollar value of recommendations agreed"))).to_contain_text(
        "$5,000.00"
    )
    assert_accessible(page, "the semiannual page with the section 5 tables")
    pdf = page.request.get(page.get_by_role("link", name="PDF").get_attribute("href"), timeout=60_000)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert f'filename="semiannual-{end.isoformat()}.pdf"' in pdf.headers["content-disposition"]
    # The two refused forms answered 400, as they should; nothing else went wrong.
    assert [e for e in page.console_errors if "400 (BAD REQUEST)" not in e] == []


def test_the_demo_pages_show_the_printed_issue_date(page, sign_in, demo):
    sign_in("manager@example.gov")
    row = page.get_by_role("row", name=re.compile("Recommendation 1"))
    expect(row).to_contain_text("May 4, 2015 (deadlines replayed from")
    page.get_by_role("link", name="Recommendation 1").click()
    expect(page.locator(".app-kicker")).to_contain_text("issued May 4, 2015 (deadlines replayed from")
    expect(page.locator(".app-demo-alert")).to_be_visible()
