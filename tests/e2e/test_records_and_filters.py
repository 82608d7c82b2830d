"""Issue 21 in a real browser: two people correct the same recommendation (the second gets the
409 page with their entries kept), and the dashboard's filters live in the URL."""

from urllib.parse import urlsplit
from playwright.sync_api import expect

from tests.e2e.test_accessibility import assert_accessible
from tests.conftest import sign_in_browser


def _signed_in(browser, live_server, email):
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in_browser(page, email, base_url=live_server)
    return context, page


def test_two_people_correct_the_same_recommendation(browser, live_server, demo):
    oig_context, oig = _signed_in(browser, live_server, "oig@example.gov")
    admin_context, admin = _signed_in(browser, live_server, "admin@example.gov")
    try:
        for page in (oig, admin):
            page.goto("/recommendations/1")
            page.get_by_role("link", name="Correct the recommendation").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("Correct OIG-15-85 Rec. 1")
        assert_accessible(oig, "recommendation correction form")

        oig.get_by_label("Questioned costs (USD)").fill("1250.00")
        oig.get_by_label("Reason for the correction").fill("Costs questioned in the report's appendix.")
        oig.get_by_role("button", name="Save correction").click()
        expect(oig.get_by_text("Recommendation 1 corrected.")).to_be_visible()

        admin.get_by_label("Questioned costs (USD)").fill("999.00")
        admin.get_by_label("Reason for the correction").fill("Entered from the printed copy.")
        admin.get_by_role("button", name="Save correction").click()
        alert = admin.locator("#edit-conflict")
        expect(alert).to_contain_text("someone changed this recommendation after you opened it")
        row = alert.locator("tr", has=admin.get_by_role("rowheader", name="Questioned costs (USD)"))
        expect(row).to_contain_text("999")  # their entry
        expect(row).to_contain_text("1250")  # what is stored now
        # Their entries are still in the form.
        expect(admin.get_by_label("Questioned costs (USD)")).to_have_value("999.00")
        expect(admin.get_by_label("Reason for the correction")).to_have_value("Entered from the printed copy.")
        assert_accessible(admin, "edit conflict page")

        admin.get_by_label("Questioned costs (USD)").fill("1250.00")
        admin.get_by_label("Reason for the correction").fill("Agreed with OIG's figure; text unchanged.")
        admin.get_by_role("button", name="Save correction").click()
        expect(admin.get_by_text("Nothing was changed.")).to_be_visible()
    finally:
        oig_context.close()
        admin_context.close()


def test_the_dashboard_filters_are_kept_in_the_url(page, sign_in, demo):
    sign_in("oig@example.gov")
    assert urlsplit(page.url).path == "/"  # sign-in ends on the dashboard
    page.get_by_label("Status", exact=True).select_option(label="Any open status")
    page.get_by_label("Report number").fill("OIG-15-85")
    page.get_by_label("Sort by").select_option(label="Oldest issued first")
    page.get_by_role("button", name="Show recommendations").click()
    page.wait_for_url("**/?*sort=oldest*")
    assert "status=open" in page.url and "report=OIG-15-85" in page.url and "sort=oldest" in page.url
    listing = page.locator("section", has=page.get_by_role("heading", name="Reports and recommendations"))
    expect(listing.get_by_role("link", name="Recommendation 1")).to_be_visible()
    expect(page.get_by_label("Status", exact=True)).to_have_value("open")
    csv_link = listing.get_by_role("link", name="CSV")
    assert "status=open" in csv_link.get_attribute("href") and "report=OIG-15-85" in csv_link.get_attribute("href")
    assert_accessible(page, "filtered dashboard")

    page.reload()  # a bookmark of the URL shows the same list
    expect(page.get_by_label("Report number")).to_have_value("OIG-15-85")
    page.get_by_label("Report number").fill("NO-SUCH-REPORT")
    page.get_by_role("button", name="Show recommendations").click()
    expect(page.get_by_text("No recommendation matches these filters.")).to_be_visible()
    page.get_by_role("link", name="Clear filters").click()
    expect(listing.get_by_role("link", name="Recommendation 1")).to_be_visible()
    assert "?" not in page.url
