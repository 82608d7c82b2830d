"""The outbox with messages in it, and the preferences form, in a real browser."""

from playwright.sync_api import expect

from app.reminders.services import run_daily
from app.timeutil import today
from tests.e2e.test_accessibility import assert_accessible


def test_admin_reads_stored_messages_in_the_outbox(page, sign_in, demo, db):
    run_daily(today())  # no MAIL_SERVER: the messages are stored
    sign_in("admin@example.gov", open="/reminders/outbox")
    assert page.get_by_role("table").count() == 1
    assert_accessible(page, "/reminders/outbox with messages")
    page.get_by_role("link", name="Weekly digest").first.click()
    # expect() waits for the message's page; is_visible() would read whatever is there now.
    expect(page.get_by_role("heading", level=2, name="Plain text")).to_be_visible()
    assert_accessible(page, "an outbox message")


def test_manager_chooses_a_digest_day_with_the_keyboard(page, sign_in, demo):
    sign_in("manager@example.gov", open="/")
    # A person's own settings are in the signed-in bar, not the menu: reached by keyboard from there.
    bar = page.locator(".app-userbar")
    assert (
        page.get_by_role("navigation", name="Primary navigation").get_by_role("link", name="Email preferences").count()
        == 0
    )
    bar.get_by_role("link", name="Email preferences").press("Enter")
    expect(page.get_by_role("heading", level=1, name="Email preferences")).to_be_visible()
    expect(bar.get_by_role("link", name="Email preferences")).to_have_attribute("aria-current", "page")
    page.get_by_label("Digest day").select_option(label="Thursday")
    box = page.get_by_label("Send the digest even when there is nothing to report")
    box.focus()
    page.keyboard.press("Space")
    assert box.is_checked()
    page.get_by_role("button", name="Save preferences").press("Enter")
    expect(page.get_by_role("status").filter(has_text="Your email preferences are saved.")).to_be_visible()
    assert page.get_by_label("Digest day").input_value() == "3"
    assert page.get_by_label("Send the digest even when there is nothing to report").is_checked()
