"""The header's search box is visible and usable from the keyboard on every signed-in page."""

from urllib.parse import urlsplit
import pytest
from playwright.sync_api import expect


def test_header_search_box_finds_the_report(page, sign_in, demo):
    sign_in("policy@example.gov")
    assert urlsplit(page.url).path == "/"  # sign-in ends on the dashboard
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
        # The search box beside the title; the menu on rows of its own under both, each row
        # starting at the same left edge (it was right-aligned beside the title, in ragged rows).
        logo = page.locator(".usa-logo").bounding_box()
        assert rect["y"] < logo["y"] + logo["height"] and logo["y"] < rect["y"] + rect["height"], (width, rect, logo)
        links = page.locator("nav.usa-nav a.usa-nav-link")
        boxes = [links.nth(i).bounding_box() for i in range(links.count())]
        assert all(b["y"] >= logo["y"] + logo["height"] for b in boxes), (width, logo, boxes)
        row_starts = {round((b["y"] + b["height"] / 2) / 16): b["x"] for b in reversed(boxes)}  # each row's first
        assert max(row_starts.values()) - min(row_starts.values()) < 2, (width, row_starts)
    box.fill("OIG-15-85")
    button.click()
    page.wait_for_url("**/search/**")
    expect(page.get_by_role("link", name="OIG-15-85 Recommendation 1")).to_be_visible()


def test_search_page_reads_as_a_form_with_results_apart(page, sign_in, demo):
    """The words box is a whole field apart from the next label (USWDS draws every search input
    as the left half of a search bar: no right border, no margin); hits stand apart; an evidence
    hit names its review in words."""
    sign_in("oig@example.gov")
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/search/?q=data&kind=evidence")
    words = page.get_by_label("Words or a number (report, recommendation)")
    border = words.evaluate("e => parseFloat(getComputedStyle(e).borderRightWidth)")
    assert border >= 1, border
    below = page.locator("label[for=search-status]").bounding_box()
    rect = words.bounding_box()
    assert below["y"] - (rect["y"] + rect["height"]) >= 8, (rect, below)
    expect(page.get_by_role("heading", name="1 evidence item for “data”")).to_be_visible()
    expect(page.locator(".app-search-results")).to_contain_text("Evidence · Awaiting review")
    page.goto("/search/?q=data&kind=milestones")
    hits = page.locator(".app-search-results > li")
    first, second = hits.nth(0).bounding_box(), hits.nth(1).bounding_box()
    assert second["y"] - (first["y"] + first["height"]) >= 12, (first, second)
