"""The walk: the layout walk (test_layout.py) and the accessibility walk (test_accessibility.py)
read the same pages, so each (role, page) is loaded once per worker and every check of it is
taken from that one visit.

A visit loads the page at 1280 px, injects axe-core once, then at each width the walks ask for
(widest first) resizes the viewport, waits for the page's scripts to lay it out again, and keeps
the layout problems and every axe violation found there. The tests then assert on the kept
results, each its own part: the layout case of one width, the accessibility case (1280 px).

Both walks run on one site per worker: the OIG-15-85 demo with the plan accepted and a closure
request awaiting OIG (the pages a reviewer decides from exist only from then on), signed in once
per role. The tests of one (role, page) share an ``xdist_group``, so ``--dist loadgroup``
(pytest.ini) sends them to one worker and the page is loaded once in the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.e2e.layout import layout_problems

USERS = {
    "action_office": "policy@example.gov",
    "oig_reviewer": "oig@example.gov",
    "manager": "manager@example.gov",
    "admin": "admin@example.gov",
}
HEIGHT = 900

_AXE_SCRIPT = Axe().axe_script
#: Only the violations come back (the passes and the inapplicable rules stay in the page).
_AXE_RUN = "() => axe.run(document, {resultTypes: ['violations']}).then((r) => r.violations)"
#: Chart.js and the other scripts answer a resize in a ResizeObserver and then an animation frame:
#: three frames later the page is laid out for the new width.
SETTLED = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(r))))"
_NAV_LINKS = "() => Array.from(document.querySelectorAll('nav.usa-nav a.usa-nav-link'), (a) => a.getAttribute('href'))"
#: Each navigation link's box at 1280 px: {y, height}.
_NAV_BOXES = (
    "() => Array.from(document.querySelectorAll('nav.usa-nav a.usa-nav-link'), (a) => {"
    " const r = a.getBoundingClientRect(); return {y: r.y, height: r.height}; })"
)


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page as it is now, every impact (injected once per document)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_AXE_SCRIPT)
    return page.evaluate(_AXE_RUN)


def describe(violations: list[dict]) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in violations]


@dataclass
class _Wanted:
    widths: set[int] = field(default_factory=set)
    layout: bool = False


#: (role, path) -> what the collected tests check of it: filled as the test modules are imported.
WANTED: dict[tuple[str, str], _Wanted] = {}


def want(role: str, path: str, widths, *, layout: bool) -> pytest.MarkDecorator:
    """Records that a test checks ``path`` as ``role`` at ``widths`` (and its layout, if ``layout``):
    returns the mark that sends every test of that page and role to the same worker."""
    wanted = WANTED.setdefault((role, path), _Wanted())
    wanted.widths.update(widths)
    wanted.layout = wanted.layout or layout
    return group(role, path)


def group(role: str, path: str) -> pytest.MarkDecorator:
    return pytest.mark.xdist_group(f"walk {role} {path}")


@dataclass
class Visit:
    status: int
    #: The navigation's links (their href, in order), read at 1280 px.
    navigation: list[str]
    #: The navigation links' boxes ({y, height}), read at 1280 px.
    navigation_boxes: list[dict]
    #: width -> layout problems (only when a layout test asked for the page).
    layout: dict[int, list[str]]
    #: width -> axe-core's violations, every impact; each test picks the impacts it asserts on.
    axe: dict[int, list[dict]]


class Walk:
    """The worker's visits, made on first use: ``walk.visit(role, path)``."""

    def __init__(self, page_for):
        self._page_for = page_for
        self._visits: dict[tuple[str, str], Visit] = {}

    def visit(self, role: str, path: str) -> Visit:
        """The visit of ``path`` as ``role``, made by the first test that asks (a visit that
        raised, e.g. a time-out, is not kept: the next test of the page tries again)."""
        key = (role, path)
        if key not in self._visits:
            self._visits[key] = self._make(role, path)
        return self._visits[key]

    def _make(self, role: str, path: str) -> Visit:
        wanted = WANTED.get((role, path)) or _Wanted({1280})
        widths = sorted(wanted.widths | {1280}, reverse=True)
        page = self._page_for(role)
        page.set_viewport_size({"width": widths[0], "height": HEIGHT})
        response = page.goto(path)
        visit = Visit(response.status, page.evaluate(_NAV_LINKS), page.evaluate(_NAV_BOXES), {}, {})
        if response.status >= 400:
            return visit
        for width in widths:
            if width != widths[0]:
                page.set_viewport_size({"width": width, "height": HEIGHT})
                page.evaluate(SETTLED)
            if wanted.layout:
                visit.layout[width] = layout_problems(page)
            visit.axe[width] = axe_violations(page)
        return visit
