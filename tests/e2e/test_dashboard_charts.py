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
