"""Every page reachable from the navigation, for each role, plus the pages a reviewer decides
from (recommendation, milestone, metric, metrics, loop, submission, closure package, history),
at 1280, 1024 and 390 px: no sideways scrolling of the document, no two content boxes
overlapping without one containing the other, and axe-core clean (moderate and worse).

One demo site (with a plan accepted and a closure request waiting) is served for the whole
module, and one signed-in browser context per role is reused: each case is one page load.
Cases are parametrised per role, page and width, so pytest-xdist can spread them.
"""

import threading

import pytest
from axe_playwright_python.sync_playwright import Axe
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db as _db
from tests.conftest import TrackerClient, _config_for
from tests.e2e.layout import layout_problems
from tests.factories import PASSWORD

USERS = {
    "action_office": "policy@example.gov",
    "oig_reviewer": "oig@example.gov",
    "manager": "manager@example.gov",
    "admin": "admin@example.gov",
}
#: The navigation of each role (app/navigation.py); test_the_navigation_is_what_is_checked
#: fails when the menu and this list part.
NAV_PATHS = {
    "/": None,
    "/queue": ("action_office", "oig_reviewer", "manager"),
    "/reports/": ("oig_reviewer", "admin"),
    "/my-work": ("action_office", "manager", "admin"),
    "/evidence/attention": ("action_office", "manager"),
    "/evidence/integrity": ("admin",),
    "/reminders/preferences": None,
    "/accounts": ("admin",),
    "/exports/": None,
    "/imports/": ("oig_reviewer", "admin"),
    "/calendar/": None,
}
#: The pages a decision is made from (the site below makes submission 2 a closure request).
DECISION_PATHS = {
    "/recommendations/1": None,
    "/recommendations/1/history": None,
    "/milestones/6": None,
    "/metrics/1": None,
    "/recommendations/1/metrics": None,
    "/recommendations/1/loop": None,
    "/submissions/2": None,
    "/submissions/awaiting": ("oig_reviewer",),  # linked from OIG's queue
    "/recommendations/1/closure-package": None,
    "/recommendations/1/submissions/new/closure_request": ("action_office",),
    "/recommendations/1/status": ("oig_reviewer",),
    "/metrics/5/readings/new": ("action_office",),
}
WIDTHS = (1280, 1024, 390)
#: axe runs once per page and role (at 1280 px, where every part of the page shows); layout at all three.
AXE_WIDTHS = (1280,)
SERIOUS = ("moderate", "serious", "critical")

CASES = [
    pytest.param(role, path, width, id=f"{role}-{path.strip('/').replace('/', '_') or 'dashboard'}-{width}")
    for role in USERS
    for path, roles in {**NAV_PATHS, **DECISION_PATHS}.items()
    if roles is None or role in roles
    for width in WIDTHS
]


@pytest.fixture(scope="module")
def site(database_template, tmp_path_factory):
    """The OIG-15-85 demo with the plan accepted and a closure request awaiting OIG, served."""
    from app.demo import seed_demo
    from app.recommendations.models import Recommendation
    from app.auth.models import User
    from app.submissions import services
    from app.submissions.package import readiness_for
    from app.timeutil import today

    clone, drop = database_template
    url = clone()
    app = create_app(_config_for(url, tmp_path_factory.mktemp("layout")))
    app.test_client_class = TrackerClient
    with app.app_context():
        seed_demo(PASSWORD, today())
        rec = _db.session.get(Recommendation, 1)
        office = _db.session.scalar(_db.select(User).where(User.email == USERS["action_office"]))
        oig = _db.session.scalar(_db.select(User).where(User.email == USERS["oig_reviewer"]))
        services.submit(rec, "plan", "Three lines of effort with milestones.", office)
        plan = _db.session.scalar(_db.select(services.Submission).order_by(services.Submission.id.desc()))
        services.decide(plan, "accepted", "The plan answers the recommendation.", oig)
        services.submit(
            rec,
            "closure_request",
            "Data collected and reported.",
            office,
            acknowledgements={i.key: "Tracked in the next plan." for i in readiness_for(rec)},
        )
        _db.session.commit()
        _db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    with app.app_context():
        _db.engine.dispose()
    drop(url)


@pytest.fixture(scope="module")
def signed_in(browser, site):
    """role -> a page signed in as that role, made once per module."""
    contexts, pages = [], {}

    def page_for(role):
        if role not in pages:
            context = browser.new_context(base_url=site)
            context.set_default_timeout(10_000)
            contexts.append(context)
            page = context.new_page()
            page.goto("/sign-in")
            page.get_by_label("Email address").fill(USERS[role])
            page.get_by_label("Password").fill(PASSWORD)
            with page.expect_navigation():
                page.get_by_role("button", name="Sign in").click()
            assert "/sign-in" not in page.url, f"{role} could not sign in"
            pages[role] = page
        return pages[role]

    yield page_for
    for context in contexts:
        context.close()


_axe = Axe()


@pytest.mark.parametrize("role", list(USERS))
def test_the_navigation_is_what_is_checked(signed_in, role):
    page = signed_in(role)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/")
    links = page.locator("nav.usa-nav a.usa-nav-link")
    shown = {links.nth(i).get_attribute("href") for i in range(links.count())}
    assert shown == {path for path, roles in NAV_PATHS.items() if roles is None or role in roles}


@pytest.mark.parametrize("role, path, width", CASES)
def test_page_layout_and_accessibility(signed_in, role, path, width):
    page = signed_in(role)
    page.set_viewport_size({"width": width, "height": 900})
    response = page.goto(path)
    assert response.status < 400, f"{path} answered {response.status} for {role}"
    problems = layout_problems(page)
    if width in AXE_WIDTHS:
        violations = [v for v in _axe.run(page).response["violations"] if v.get("impact") in SERIOUS]
        problems += [
            f"axe {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in violations
        ]
    assert not problems, f"{path} as {role} at {width} px:\n" + "\n".join(problems)
