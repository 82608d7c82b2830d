from playwright.sync_api import expect

from tests.e2e.layout import sign_in as sign_in_with_the_form
from tests.factories import PASSWORD


def test_policy_staff_sign_in_and_open_the_recommendation(page, demo):
    sign_in_with_the_form(page, "policy@example.gov", PASSWORD)  # the other browser tests skip the form
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text("Dana Whitfield")).to_be_visible()
    page.get_by_role("link", name="Recommendation 1").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("DHS Missing Data")
    for line in ("Governance and standardization", "Data collection", "Data reporting"):
        expect(page.get_by_role("heading", name=line)).to_be_visible()
    expect(
        page.get_by_role("rowheader", name="Charter the Prosecutorial Discretion Data Working Group")
    ).to_be_visible()
    expect(page.get_by_text("Overdue")).to_be_visible()
    assert page.console_errors == []


def test_sign_out_from_the_header(page, sign_in, demo):
    sign_in("oig@example.gov")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_wrong_password_is_explained_without_saying_which_part(page, demo):
    page.goto("/sign-in")
    page.get_by_label("Email address").fill("policy@example.gov")
    page.get_by_label("Password").fill("definitely the wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("The email address or password is not correct.")
