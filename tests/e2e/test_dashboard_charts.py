"""The dashboard's charts draw in a real browser, with no script error, beside their tables."""

from urllib.parse import urlsplit
import pytest


def test_dashboard_charts_draw(page, sign_in, demo, tmp_path):
    sign_in("oig@example.gov")
    assert urlsplit(page.url).path == "/"  # sign-in ends on the dashboard
    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() == 2
    page.wait_for_function("() => document.querySelectorAll('canvas[data-chart]')[1].width > 0")
    assert page.locator("#age-table tbody tr").count() == 4
    page.screenshot(path=tmp_path / "dashboard.png", full_page=True)
    assert page.console_errors == []


@pytest.mark.parametrize("path", ["/", "/milestones/1"])
def test_lists_fit_a_laptop_screen(page, sign_in, demo, path):
    """Long text cells wrap (USWDS keeps a scrollable table's cells on one line): the dashboard's
    list of recommendations and a milestone's evidence need no sideways scrolling at 1280 px."""
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in("oig@example.gov")
    if path != "/":  # sign-in ends on the dashboard
        page.goto(path)
    assert urlsplit(page.url).path == path
    tables = page.locator(".usa-table-container--scrollable")
    assert tables.count() > 0
    for i in range(tables.count()):
        sizes = tables.nth(i).evaluate("c => [c.scrollWidth, c.clientWidth, c.querySelector('caption').innerText]")
        assert sizes[0] <= sizes[1], sizes


def test_status_figures_sit_two_a_row_on_a_phone(page, sign_in, demo):
    """USWDS stacks a card group one card a row below 40em: the five figures took 800 px of a phone."""
    page.set_viewport_size({"width": 390, "height": 900})
    sign_in("policy@example.gov")
    assert urlsplit(page.url).path == "/"  # sign-in ends on the dashboard
    cards = page.locator(".app-stat-group .app-stat")
    assert cards.count() == 5
    first, second = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
    assert abs(first["y"] - second["y"]) < 1 and second["x"] > first["x"] + first["width"] - 1
