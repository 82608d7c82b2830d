"""Full-page screenshots of the tracker's pages, per role and width, for a person to look at.

    .venv/bin/python scripts/screenshots.py [--out /tmp/shots/look1] [--only WORD ...]

Migrates a fresh SQLite database, seeds the demo (``flask seed-demo``; password from
DEMO_PASSWORD, else the suite's), sends the plan as the layout test's site
does (tests/e2e/layout.py; the office sends the closure request itself, through the confirmation
step, once the steps before sending are shot), serves it on a free port and shoots each page in headless Chromium
at 1280, 1024 and 390 px. Each shot's layout problems (tests/e2e/layout.py) are printed beside
its file name; the shots are what a person reads.
"""

import argparse
import logging
import os
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.serving import make_server  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, _config_for, _migrate  # noqa: E402
from tests.e2e.layout import layout_problems, send_plan_and_closure_request, sign_in  # noqa: E402
from tests.factories import PASSWORD  # noqa: E402

USERS = {
    "action_office": "policy@example.gov",
    "oig_reviewer": "oig@example.gov",
    "manager": "manager@example.gov",
    "admin": "admin@example.gov",
}
ROLES = tuple(USERS)
WIDTHS = (1280, 1024, 390)


def _invalid_update(page):
    """The milestone update form with 150 %: the error summary must be in view, with focus."""
    page.get_by_label("Percent complete").fill("150")
    page.get_by_label("Note", exact=True).fill("Half the fields are defined.")
    with page.expect_navigation():
        page.get_by_role("button", name="Post update").click()


def _confirm_closure(page):
    """The closure request's second step: what will be sent and the acknowledgements."""
    page.get_by_label("Cover narrative").fill("Data collected and reported; see the package.")
    with page.expect_navigation():
        page.get_by_role("button", name="Review what will be sent").click()


def _confirm_missing(page):
    """The second step again, sent without the acknowledgements: the error summary."""
    _confirm_closure(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Send to OIG").click()


def _send_closure(page):
    """The office sends the closure request, each open item acknowledged (the submission page shows)."""
    _confirm_closure(page)
    boxes = page.locator("textarea[name^=ack-]")
    for i in range(boxes.count()):
        boxes.nth(i).fill("Tracked in the next plan; OIG agreed at the exit conference.")
    with page.expect_navigation():
        page.get_by_role("button", name="Send to OIG").click()


def _invalid_costs(page):
    """The recommendation's correction with unsupported costs in tenths of a cent: the error by the field."""
    page.get_by_label("Questioned costs (USD)").fill("5000")
    page.get_by_label("Of which unsupported costs (USD)").fill("10.005")
    page.get_by_label("Reason for the correction").fill("Unsupported amount mistyped.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save correction").click()


def _new_token(page):
    """A new API token: the page it redirects to shows the secret once."""
    page.get_by_label("Token name (what it is for)").fill("Nightly report script")
    with page.expect_navigation():
        page.get_by_role("button", name="Create a token").click()


CLOSURE = "/recommendations/1/submissions/new/closure_request"
#: Shot by the office while it may still request closure; the last one sends it (submission 2).
BEFORE_CLOSURE = [
    ("submission-new", CLOSURE, None),
    ("submission-confirm", CLOSURE, _confirm_closure),
    ("submission-unacknowledged", CLOSURE, _confirm_missing),
]
#: (name, path, roles that see it, then what to do on the page before the shot).
PAGES = [
    ("dashboard", "/", ROLES, None),
    ("dashboard-filtered", "/?status=open&priority=yes&sort=oldest", ROLES, None),
    ("dashboard-empty", "/?report=NO-SUCH-REPORT", ("action_office",), None),
    ("recommendation", "/recommendations/1", ROLES, None),
    ("timeline", "/recommendations/1/timeline", ROLES, None),
    ("line-new", "/recommendations/1/lines/new", ("action_office",), None),
    ("line-edit", "/lines/1/edit", ("action_office",), None),
    ("milestone", "/milestones/6", ROLES, None),
    ("milestone-invalid-update", "/milestones/6", ("action_office",), _invalid_update),
    ("milestone-edit", "/milestones/6/edit", ("action_office",), None),
    ("milestone-new", "/lines/1/milestones/new", ("action_office",), None),
    ("metrics", "/recommendations/1/metrics", ROLES, None),
    ("metric-new", "/recommendations/1/metrics/new", ("action_office",), None),
    *[(f"metric-{i}", f"/metrics/{i}", ROLES, None) for i in range(1, 13)],
    ("reading-new", "/metrics/5/readings/new", ("action_office",), None),
    ("metric-import", "/recommendations/1/metrics/import", ("action_office",), None),
    ("loop", "/recommendations/1/loop", ROLES, None),
    ("flags", "/recommendations/1/flags", ROLES, None),
    ("evidence", "/recommendations/1/evidence", ROLES, None),
    ("milestone-evidence", "/milestones/6/evidence", ROLES, None),
    ("evidence-item", "/evidence/1", ROLES, None),
    ("evidence-attention", "/evidence/attention", ("action_office", "manager"), None),
    ("closure-package", "/recommendations/1/closure-package", ROLES, None),
    ("submissions-awaiting", "/submissions/awaiting", ("oig_reviewer",), None),
    ("submission-plan", "/submissions/1", ROLES, None),
    ("submission-closure", "/submissions/2", ROLES, None),
    # The closure request's address once one is with OIG: the state, no form.
    ("submission-not-now", CLOSURE, ("action_office",), None),
    ("history", "/recommendations/1/history", ROLES, None),
    ("recommendation-correct", "/reports/recommendations/1/edit", ("oig_reviewer", "admin"), None),
    ("recommendation-correct-invalid", "/reports/recommendations/1/edit", ("oig_reviewer",), _invalid_costs),
    ("my-work", "/my-work", ("action_office", "manager", "admin"), None),
    ("semiannual", "/exports/semiannual", ROLES, None),
    ("calendar-new-token", "/calendar/", ROLES, _new_token),
]


#: The milestone page with more than a page of updates and of history (its pagers), shot last.
LONG_HISTORY = [
    ("milestone-long-history", "/milestones/6", ROLES),
    ("milestone-long-history-page-2", "/milestones/6?updates_page=2&history_page=2", ("action_office",)),
]


def add_long_history(milestone_id: int, email: str, count: int = 24) -> None:
    """``count`` more status updates on the milestone (each audited, as the page posts them): more than a
    page of updates and of history, so that the milestone page shows its pagers. Shot after every other page."""
    import sqlalchemy as sa

    from app.auth.models import User
    from app.milestones import services
    from app.milestones.models import Milestone
    from app.timeutil import today

    author = db.session.scalar(sa.select(User).where(User.email == email))
    milestone = db.session.get(Milestone, milestone_id)
    for i in range(count):
        services.post_update(
            milestone,
            noted_on=today(),
            note=f"Weekly check-in {i + 1}: field definitions reviewed with the components.",
            status="in_progress",
            percent=min(95, milestone.percent_complete + 1),
            actor=author,
        )
    db.session.commit()
    db.session.remove()


def serve(workdir: Path, password: str):
    url = f"sqlite:///{workdir / 'demo.db'}"
    _migrate(url, workdir)
    app = create_app(_config_for(url, workdir))
    with app.app_context():
        from app.demo import seed_demo
        from app.timeutil import today

        seed_demo(password, today())
        send_plan_and_closure_request(1, USERS["action_office"], USERS["oig_reviewer"], closure_request=False)
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="/tmp/shots/look1")
    parser.add_argument("--only", nargs="*", default=(), help="shoot the pages whose name contains a word")
    parser.add_argument("--roles", nargs="*", default=ROLES)
    parser.add_argument("--widths", nargs="*", type=int, default=WIDTHS)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    password = os.environ.get("DEMO_PASSWORD") or PASSWORD
    from playwright.sync_api import sync_playwright

    def shoot(page, name, role, path, action):
        for width in args.widths:
            page.set_viewport_size({"width": width, "height": 900})
            response = page.goto(path)
            if action:
                action(page)
            file = out / f"{name}-{role}-{width}.png"
            page.screenshot(path=str(file), full_page=True)
            height = page.evaluate("document.documentElement.scrollHeight")
            problems = layout_problems(page)
            print(f"{file.name}: {response.status if response else '?'}, {height} px tall, at {page.url}", flush=True)
            for problem in problems:
                print(f"  {problem}", flush=True)

    def wanted(name):
        return not args.only or any(word in name for word in args.only)

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        base, app = serve(Path(tmp), password)
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        pages = {}
        for role in args.roles:
            context = browser.new_context(base_url=base)
            context.set_default_timeout(60_000)  # a loaded machine answers slowly
            pages[role] = context.new_page()
            sign_in(pages[role], USERS[role], password)
        office = pages.get("action_office") or pages.setdefault(
            "action_office", browser.new_context(base_url=base).new_page()
        )
        if "action_office" not in args.roles:
            sign_in(office, USERS["action_office"], password)
        for name, path, action in BEFORE_CLOSURE:
            if wanted(name) and "action_office" in args.roles:
                shoot(office, name, "action_office", path, action)
        office.goto(CLOSURE)
        _send_closure(office)
        for role in args.roles:
            for name, path, roles, action in PAGES:
                if role in roles and wanted(name):
                    shoot(pages[role], name, role, path, action)
        if any(wanted(name) for name, _, _ in LONG_HISTORY):
            with app.app_context():
                add_long_history(6, USERS["action_office"])
            for role in args.roles:
                for name, path, roles in LONG_HISTORY:
                    if role in roles and wanted(name):
                        shoot(pages[role], name, role, path, None)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
