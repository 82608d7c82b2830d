"""The header's search box is visible and usable from the keyboard on every signed-in page."""

import pytest
from playwright.sync_api import expect


def test_header_search_box_finds_the_report(page, sign_in, demo):
    sign_in("policy@example.gov")
    page.goto("/")
    box = page.get_by_label("Search reports, recommendations and milestones")
    assert box.is_visible()
    header = page.locator("header.usa-header").bounding_box()
    rect = box.bounding_box()
    assert header["y"] <= rect["y"] and rect["y"] + rect["height"] <= header["y"] + header["height"]
    box.fill("OIG-15-85")
    box.press("Enter")
    page.wait_for_url("**/search/**")
    expect(page.get_by_role("link", name="OIG-15-85 Recommendation 1")).to_be_visible()


@pytest.mark.parametrize("email", ["oig@example.gov", "admin@example.gov"])
def test_header_search_box_stays_usable_beside_a_long_menu(page, sign_in, demo, email):
    """OIG's and the administrator's menus are the longest: the menu wraps to a second row
    rather than squeeze the box, and the search button shows (USWDS clears the background of
    buttons in the menu, which left a white icon on white)."""
    sign_in(email)
    for width in (1024, 1280):
        page.set_viewport_size({"width": width, "height": 700})
        page.goto("/")
        box = page.get_by_label("Search reports, recommendations and milestones")
        button = page.locator(".app-nav-search button[type=submit]")
        assert box.is_visible() and button.is_visible()
        rect, button_rect = box.bounding_box(), button.bounding_box()
        header = page.locator("header.usa-header").bounding_box()
        assert rect["width"] >= 96, (width, rect)
        assert button_rect["x"] + button_rect["width"] <= width, (width, button_rect)
        assert (
            header["y"] <= button_rect["y"]
            and button_rect["y"] + button_rect["height"] <= header["y"] + header["height"]
        )
        background = button.evaluate("b => getComputedStyle(b).backgroundColor")
        assert background not in ("transparent", "rgba(0, 0, 0, 0)"), background
    box.fill("OIG-15-85")
    button.click()
    page.wait_for_url("**/search/**")
    expect(page.get_by_role("link", name="OIG-15-85 Recommendation 1")).to_be_visible()
