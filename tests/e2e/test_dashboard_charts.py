"""The dashboard's charts draw in a real browser, with no script error, beside their tables."""


def test_dashboard_charts_draw(page, sign_in, demo):
    sign_in("oig@example.gov")
    page.goto("/")
    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() == 2
    page.wait_for_function("() => document.querySelectorAll('canvas[data-chart]')[1].width > 0")
    assert page.locator("#age-table tbody tr").count() == 4
    page.screenshot(path="/tmp/dashboard8.png", full_page=True)
    assert page.console_errors == []


def test_the_list_of_recommendations_fits_a_laptop_screen(page, sign_in, demo):
    """The report's title wraps (USWDS keeps a scrollable table's cells on one line), so the
    list needs no sideways scrolling at 1280 px."""
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in("oig@example.gov")
    page.goto("/")
    container = page.locator("#recs-heading ~ .usa-table-container--scrollable")
    sizes = container.evaluate("c => [c.scrollWidth, c.clientWidth]")
    assert sizes[0] <= sizes[1], sizes
