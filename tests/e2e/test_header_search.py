"""The header's search box is visible and usable from the keyboard on every signed-in page."""


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
    page.wait_for_load_state()
    assert "OIG-15-85 Recommendation 1" in page.content()
