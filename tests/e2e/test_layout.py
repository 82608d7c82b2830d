"""Every page reachable from the navigation, for each role, plus the pages a reviewer decides
from (recommendation, milestone, metric, metrics, loop, submission, closure package, history),
at 1280, 1024 and 390 px: no sideways scrolling of the document, no two content boxes
overlapping without one containing the other, and axe-core clean (moderate and worse).

Each case is one role, page and width; the cases of one role and page share one visit of the
page with the accessibility walk (tests/e2e/walk.py: one load, then a resize per width).
"""

import pytest

from tests.e2e.layout import layout_problems
from tests.e2e.walk import USERS, describe, group, want

#: The navigation of each role (app/navigation.py); test_the_navigation_is_what_is_checked
#: fails when the menu and this list part.
NAV_PATHS = {
    "/": None,
    "/queue": ("action_office", "oig_reviewer", "manager"),
    "/reports/": ("oig_reviewer", "admin"),
    "/my-work": ("action_office", "manager", "admin"),
    "/evidence/attention": ("action_office", "manager"),
    "/evidence/integrity": ("admin",),
    "/accounts": ("admin",),
    "/exports/": None,
    "/imports/": ("oig_reviewer", "admin"),
    "/calendar/": None,
}
#: The pages a decision is made from (the site makes submission 2 a closure request), and one of
#: the signed-in bar's (a person's own settings are there, not in the menu).
DECISION_PATHS = {
    "/reminders/preferences": None,
    "/recommendations/1": None,
    "/recommendations/1/history": None,
    "/milestones/6": None,
    "/metrics/1": None,
    "/recommendations/1/metrics": None,
    "/recommendations/1/loop": None,
    "/submissions/2": None,
    # The plan as sent (accepted), its sections open beside OIG's panel (the closure request folds them).
    "/submissions/1": ("oig_reviewer",),
    "/submissions/awaiting": ("oig_reviewer",),  # linked from OIG's queue
    "/recommendations/1/closure-package": None,
    "/recommendations/1/submissions/new/closure_request": ("action_office",),
    "/recommendations/1/status": ("oig_reviewer",),
    "/metrics/5/readings/new": ("action_office",),
    # Pages of the plan and its material, one role each (the others share the template).
    "/recommendations/1/metrics/import": ("action_office",),
    "/recommendations/1/timeline": ("action_office",),
    "/lines/1/edit": ("action_office",),
    "/recommendations/1/flags": ("oig_reviewer",),
    "/recommendations/1/evidence": ("action_office",),
    "/evidence/1": ("oig_reviewer",),
}
WIDTHS = (1280, 1024, 390)
#: axe runs at every width too: on a phone the menu, tables and forms are other markup.
AXE_WIDTHS = WIDTHS
SERIOUS = ("moderate", "serious", "critical")

CASES = [
    pytest.param(
        role,
        path,
        width,
        id=f"{role}-{path.strip('/').replace('/', '_') or 'dashboard'}-{width}",
        marks=want(role, path, WIDTHS, layout=True),
    )
    for role in USERS
    for path, roles in {**NAV_PATHS, **DECISION_PATHS}.items()
    if roles is None or role in roles
    for width in WIDTHS
]


@pytest.fixture
def signed_in(walk_pages):
    """role -> the worker's page signed in as that role (on the walk's site)."""
    return walk_pages


@pytest.mark.parametrize("role", [pytest.param(role, marks=group(role, "/")) for role in USERS])
def test_the_navigation_is_what_is_checked(walk, role):
    visit = walk.visit(role, "/")
    shown = set(visit.navigation)
    assert shown == {path for path, roles in NAV_PATHS.items() if roles is None or role in roles}
    # One row at 1280 px for every role (the administrator's last item once sat alone on a second row).
    boxes = visit.navigation_boxes
    middles = [b["y"] + b["height"] / 2 for b in boxes]  # a link with a count badge is a little taller
    assert max(middles) - min(middles) < min(b["height"] for b in boxes) / 2, f"{role}'s menu wraps: {boxes}"


@pytest.mark.parametrize("role, path, width", CASES)
def test_page_layout_and_accessibility(walk, role, path, width):
    visit = walk.visit(role, path)
    assert visit.status < 400, f"{path} answered {visit.status} for {role}"
    problems = list(visit.layout[width])
    if width in AXE_WIDTHS:
        problems += ["axe " + line for line in describe([v for v in visit.axe[width] if v.get("impact") in SERIOUS])]
    assert not problems, f"{path} as {role} at {width} px:\n" + "\n".join(problems)


# What the full-page screenshots of every width showed (scripts/screenshots_look2.py), each kept here.


def test_exports_page_labels_dates_and_statuses_as_every_page_does(signed_in):
    page = signed_in("action_office")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/exports/")
    labels = page.locator("main label").all_inner_texts()
    assert not [text for text in labels if "YYYY" in text], labels  # the box shows the browser's own format
    assert "Unresolved, open" in page.locator("#rec-status").inner_text()
    assert "Not started" in page.locator("#ms-status").inner_text()
    for form in page.locator("main form").all():
        buttons = [b.bounding_box() for b in form.locator("button[type=submit]").all()]
        assert len({round(b["y"]) for b in buttons}) == 1, buttons  # CSV and XLSX side by side


@pytest.mark.parametrize("role", list(USERS))
def test_the_semiannual_money_tables_fit_a_phone(signed_in, role):
    page = signed_in(role)
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/exports/semiannual")
    widths = page.eval_on_selector_all(
        ".app-money-table", "els => els.map(e => [e.parentElement.scrollWidth, e.parentElement.clientWidth])"
    )
    # Every column shows without scrolling the table (its last column once needed a scroll).
    assert len(widths) == 2 and all(scroll <= client + 1 for scroll, client in widths), widths


@pytest.mark.parametrize("width", (1280, 390))
def test_outbox_fits_and_a_message_wraps(signed_in, width):
    page = signed_in("admin")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/reminders/outbox")
    if width == 1280:  # every column shows without scrolling the list (the subject was cut at its edge)
        widths = page.eval_on_selector_all(
            ".usa-table-container--scrollable", "els => els.map(e => [e.scrollWidth, e.clientWidth])"
        )
        assert widths and all(scroll <= client + 1 for scroll, client in widths), widths
    page.locator("main table a").first.click()
    page.wait_for_url("**/reminders/outbox/*")
    assert layout_problems(page) == []


def test_api_token_list_keeps_a_phone_page_from_scrolling_sideways(signed_in):
    page = signed_in("manager")
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/calendar/")
    page.get_by_label("Token name (what it is for)").fill("Nightly report script")
    with page.expect_navigation():
        page.get_by_role("button", name="Create a token").click()
    assert page.get_by_role("region", name="Your tokens").is_visible()
    assert layout_problems(page) == []
    assert page.get_by_label("Token name (what it is for)").input_value() == ""  # not offered again


def test_error_pages_head_like_every_other_page(signed_in):
    page = signed_in("oig_reviewer")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/reports/")
    expected = page.locator("h1").evaluate("h => getComputedStyle(h).fontFamily")
    assert page.goto("/reports/99999").status == 404
    assert page.locator("h1").evaluate("h => getComputedStyle(h).fontFamily") == expected


def test_a_phone_keeps_cancel_and_the_office_name_in_place(signed_in):
    page = signed_in("oig_reviewer")
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto("/reports/1/edit")
    save = page.get_by_role("button", name="Save correction").bounding_box()
    cancel = page.get_by_role("link", name="Cancel").bounding_box()
    assert abs(cancel["x"] - save["x"]) < 2 and cancel["y"] > save["y"] + save["height"], (save, cancel)
    # "DHS Office of Inspector General" in one piece, not "DHS" at the end of one line.
    assert page.locator(".app-userbar__office").evaluate("e => e.getClientRects().length") == 1
