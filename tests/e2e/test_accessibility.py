"""axe-core on every page reachable from the navigation, for each role: no serious or critical violation.

One test per role and page, so pytest-xdist spreads the walk over its workers. The navigation's
pages come from ``app.navigation.NAV``; a test per role checks that the navigation the browser
shows is exactly the one walked. Each domain adds the pages it owns (beyond the navigation) to
``EXTRA_PAGES``. The walk only reads: it shares its site and its visits with the layout walk
(tests/e2e/walk.py), so a page both walk is loaded and checked by axe once, at 1280 px.
"""

import pytest
from flask import url_for

from app import create_app
from app.navigation import NAV
from config import TestConfig
from tests.e2e.walk import USERS as DEMO_USERS
from tests.e2e.walk import axe_violations, describe, group, want

#: Pages not in the navigation but reached from it, per role (None: every role).
EXTRA_PAGES = [
    ("/recommendations/1", None),
    ("/recommendations/1/history", None),
    ("/recommendations/1/mentionable", ("action_office",)),
    ("/recommendations/1/submissions/new/plan", ("action_office",)),
    ("/recommendations/1/concurrence", ("action_office",)),
    ("/recommendations/1/status", ("oig_reviewer",)),
    ("/reports/new", ("oig_reviewer", "admin")),
    ("/reports/1", ("oig_reviewer", "admin")),
    ("/reports/1/recommendations/new", ("oig_reviewer", "admin")),
    ("/milestones/6", None),
    ("/recommendations/1/timeline", None),
    ("/milestones/6/edit", ("action_office", "admin")),
    ("/lines/2/milestones/new", ("action_office", "admin")),
    ("/lines/2/edit", ("action_office", "admin")),
    ("/recommendations/1/lines/new", ("action_office", "admin")),
    ("/recommendations/1/evidence", None),
    ("/milestones/1/evidence", None),
    ("/milestones/4/evidence", None),
    ("/evidence/1", None),
    ("/evidence/3", None),
    ("/evidence/attention", None),
    # The feedback loop (issue 6): read-only pages as the office and as OIG, forms once each.
    ("/recommendations/1/loop", ("action_office", "oig_reviewer")),
    ("/recommendations/1/metrics", ("action_office", "oig_reviewer")),
    ("/recommendations/1/flags", ("action_office", "manager")),
    ("/metrics/1", ("oig_reviewer",)),
    ("/metrics/5", ("action_office",)),
    ("/recommendations/1/metrics/new", ("action_office",)),
    ("/recommendations/1/metrics/import", ("admin",)),
    ("/metrics/5/readings/new", ("action_office",)),
    ("/flags/1/action", ("admin",)),
    ("/reminders/outbox", ("admin",)),
    ("/reminders/settings", ("admin",)),
    ("/account/password", None),
    ("/account/security-keys", None),
    ("/accounts/new", ("admin",)),
    ("/accounts/1", ("admin",)),
    ("/search/?q=OIG-15-85", None),
    ("/search/?q=data&kind=milestones", None),
    ("/exports/semiannual", None),
    # Corrections and filters (issue 21).
    ("/reports/1/edit", ("oig_reviewer", "admin")),
    ("/reports/recommendations/1/edit", ("oig_reviewer", "admin")),
    ("/metrics/5/edit", ("action_office",)),
    ("/?status=open&priority=no&sort=office", None),
    # Issue 16: the inbox (linked from the user bar); the queues are in the navigation.
    ("/notifications", None),
    # A person's own settings, linked from the signed-in bar.
    ("/reminders/preferences", None),
]
SERIOUS = ("serious", "critical")


def assert_accessible(page, label: str) -> None:
    _assert_none_serious(axe_violations(page), label)


def _assert_none_serious(violations: list[dict], label: str) -> None:
    serious = [v for v in violations if v.get("impact") in SERIOUS]
    report = "\n".join(describe(serious))
    assert not serious, f"{label}:\n{report}"


def _navigation() -> dict[str, list[str]]:
    """Each role's navigation as URLs, from ``NAV`` (an app without a database builds them)."""
    app = create_app(TestConfig)
    with app.test_request_context():
        return {
            role: sorted({url_for(endpoint) for endpoint, _label, roles in NAV if role in roles}) for role in DEMO_USERS
        }


NAVIGATION = _navigation()
PAGES = [
    pytest.param(role, url, marks=want(role, url, (1280,), layout=False))
    for role in DEMO_USERS
    for url in NAVIGATION[role] + [url for url, roles in EXTRA_PAGES if roles is None or role in roles]
]


def test_sign_in_page_is_accessible(page):
    page.goto("/sign-in")
    assert_accessible(page, "/sign-in")


@pytest.mark.parametrize("role", [pytest.param(role, marks=group(role, "/")) for role in DEMO_USERS])
def test_the_navigation_walked_is_the_one_shown(walk, role):
    shown = sorted(set(walk.visit(role, "/").navigation))
    assert shown, "the navigation is empty"
    assert shown == NAVIGATION[role]


@pytest.mark.parametrize("role, url", PAGES)
def test_every_page_in_the_navigation_is_accessible(walk, role, url):
    visit = walk.visit(role, url)
    assert visit.status < 400, f"{url} answered {visit.status} for {role}"
    _assert_none_serious(visit.axe[1280], f"{url} as {role}")
