"""Full-page screenshots of the sign-in, queue, notification, search, report, account, outbox, import,
export, integrity and error pages, per role, at 1280, 1024 and 390 px, for a person to look at.

    .venv/bin/python scripts/screenshots_look2.py [OUT_DIR] [NAME_FILTER]

Runs the app on a fresh SQLite copy of the OIG-15-85 demo (migrated, seeded, a plan accepted and a
closure request waiting), serves it on a loopback port and drives Chromium ($CHROMIUM, else chromium-headless-shell). The first role
that may see a page is shot at every width, the others at 390 px. Layout problems found by
tests/e2e/layout.py are printed beside each file name.
"""

import logging
import os
import sys
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "Correct-Horse-Battery-42!"
USERS = {
    "action_office": "policy@example.gov",
    "oig_reviewer": "oig@example.gov",
    "manager": "manager@example.gov",
    "admin": "admin@example.gov",
}
KEYS_USER = "keys@example.gov"
WIDTHS = (1280, 1024, 390)
ALL = tuple(USERS)
#: name -> (path, roles in the order they are shot)
PAGES = {
    "home": ("/", ALL),
    "queue": ("/queue", ("oig_reviewer", "action_office", "manager")),
    "notifications": ("/notifications", ALL),
    "preferences": ("/reminders/preferences", ALL),
    "reminder-settings": ("/reminders/settings", ("admin",)),
    "search": ("/search/?q=data", ALL),
    "search-milestones": ("/search/?q=data&kind=milestones", ("action_office",)),
    "search-evidence": ("/search/?q=data&kind=evidence", ("oig_reviewer",)),
    "search-empty": ("/search/?q=zzzqqq", ("oig_reviewer",)),
    "search-blank": ("/search/", ("oig_reviewer",)),
    "calendar": ("/calendar/", ALL),
    "password": ("/account/password", ("action_office",)),
    "reports": ("/reports/", ("oig_reviewer", "admin")),
    "report": ("/reports/1", ("oig_reviewer", "admin", "action_office", "manager")),
    "report-new": ("/reports/new", ("oig_reviewer", "admin")),
    "report-edit": ("/reports/1/edit", ("oig_reviewer",)),
    "recommendation-new": ("/reports/1/recommendations/new", ("oig_reviewer",)),
    "recommendation-edit": ("/reports/recommendations/1/edit", ("oig_reviewer",)),
    "semiannual": ("/exports/semiannual", ALL),
    "exports": ("/exports/", ALL),
    "accounts": ("/accounts", ("admin",)),
    "account-new": ("/accounts/new", ("admin",)),
    "account-edit": ("/accounts/2", ("admin",)),
    "outbox": ("/reminders/outbox", ("admin",)),
    "outbox-message": ("/reminders/outbox/1", ("admin",)),
    "imports": ("/imports/", ("oig_reviewer", "admin")),
    "security-keys": ("/account/security-keys", ("admin", "action_office")),
    "integrity": ("/evidence/integrity", ("admin",)),
    "attention": ("/evidence/attention", ("action_office", "manager")),
    "awaiting": ("/submissions/awaiting", ("oig_reviewer",)),
    "error-404": ("/reports/99999", ("oig_reviewer", "action_office")),
    "error-403": ("/accounts", ("action_office", "oig_reviewer")),
}


def build_app(workdir: Path):
    os.environ.update(
        DATABASE_URL=f"sqlite:///{workdir / 'demo.db'}",
        SECRET_KEY="look2-" * 8,
        EVIDENCE_DIR=str(workdir / "evidence"),
        OIDC_ISSUER="https://login.example.gov",
        OIDC_CLIENT_ID="tracker",
        OIDC_PROVIDER_NAME="your DHS account",
        SIGN_IN_ADDRESS_LIMIT="6",
    )
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from app import create_app
    from app.auth.models import SecurityKey, User
    from app.demo import seed_demo
    from app.evidence import extract
    from app.extensions import db
    from app.recommendations.models import Recommendation
    from app.submissions import services
    from app.submissions.package import readiness_for
    from app.timeutil import today

    app = create_app()
    logging.getLogger("app.requests").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with app.app_context():
        upgrade()
        seed_demo(PASSWORD, today())
        extract.index_versions(extract.unindexed_version_ids())
        rec = db.session.get(Recommendation, 1)
        office = db.session.scalar(sa.select(User).where(User.email == USERS["action_office"]))
        oig = db.session.scalar(sa.select(User).where(User.email == USERS["oig_reviewer"]))
        services.submit(rec, "plan", "Three lines of effort with milestones.", office)
        plan = db.session.scalar(sa.select(services.Submission).order_by(services.Submission.id.desc()))
        services.decide(plan, "accepted", "The plan answers the recommendation.", oig)
        services.submit(
            rec,
            "closure_request",
            "Data collected and reported.",
            office,
            acknowledgements={i.key: "Tracked in the next plan." for i in readiness_for(rec)},
        )
        keys = User(email=KEYS_USER, name="Kim Keys", role="action_office", office_id=office.office_id)
        keys.set_password(PASSWORD)
        db.session.add(keys)
        db.session.flush()
        db.session.add(SecurityKey(user_id=keys.id, name="YubiKey 5C", credential_id="look2-fake", public_key=b"x"))
        db.session.commit()
    return app


def add_key_to(app, email: str) -> None:
    """A key row for an account already signed in (the key page then lists it)."""
    import sqlalchemy as sa

    from app.auth.models import SecurityKey, User
    from app.extensions import db

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        db.session.add(
            SecurityKey(user_id=user.id, name="Desk key (USB-C)", credential_id=f"k-{email}", public_key=b"x")
        )
        db.session.commit()


def main() -> None:
    from playwright.sync_api import sync_playwright

    from tests.e2e.layout import layout_problems

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/shots/look2")
    only = sys.argv[2] if len(sys.argv) > 2 else ""
    out.mkdir(parents=True, exist_ok=True)
    app = build_app(Path(tempfile.mkdtemp(prefix="look2-")))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"

    def shoot(page, name, width):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(150)
        problems = layout_problems(page)
        page.screenshot(path=str(out / f"{name}-{width}.png"), full_page=True)
        print(f"{name}-{width}.png", "; ".join(problems) if problems else "")

    def wanted(name):
        return not only or only in name

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium-headless-shell"),
            args=["--no-sandbox", "--disable-gpu"],
        )
        anon = browser.new_context(base_url=base).new_page()
        if wanted("sign-in"):
            anon.goto("/sign-in")
            for w in WIDTHS:
                shoot(anon, "sign-in", w)
            anon.get_by_label("Email address").fill("nobody@example.gov")
            anon.get_by_label("Password").fill("wrong")
            anon.get_by_role("button", name="Sign in").click()
            for w in WIDTHS:
                shoot(anon, "sign-in-failed", w)
            anon.goto("/sign-in/break-glass")
            for w in WIDTHS:
                shoot(anon, "sign-in-break-glass", w)
            anon.goto("/sign-in")
            anon.get_by_label("Email address").fill(KEYS_USER)
            anon.get_by_label("Password").fill(PASSWORD)
            anon.get_by_role("button", name="Sign in").click()
            anon.wait_for_url("**/security-key")
            for w in WIDTHS:
                shoot(anon, "sign-in-security-key", w)
            code = anon.get_by_label("Recovery code", exact=False)
            if code.count():
                code.fill("abcd-efgh")
                anon.get_by_role("button", name="Sign in with a recovery code").click()
                for w in WIDTHS:
                    shoot(anon, "sign-in-recovery-code-wrong", w)
            anon.goto("/reset-password/not-a-token")
            for w in WIDTHS:
                shoot(anon, "reset-invalid", w)

        pages = {}
        for role, email in USERS.items():
            page = browser.new_context(base_url=base).new_page()
            page.goto("/sign-in")
            page.get_by_label("Email address").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            with page.expect_navigation():
                page.get_by_role("button", name="Sign in").click()
            pages[role] = page
        add_key_to(app, USERS["admin"])

        for name, (path, roles) in PAGES.items():
            if not wanted(name):
                continue
            for i, role in enumerate(roles):
                page = pages[role]
                response = page.goto(path)
                if response.status >= 400 and not name.startswith("error"):
                    print(f"{name} {role}: {response.status}")
                    continue
                for w in WIDTHS if i == 0 else (390,):
                    shoot(page, f"{name}-{role}", w)

        if wanted("error-409"):
            oig = pages["oig_reviewer"]
            other = oig.context.new_page()
            oig.goto("/reports/1/edit")
            other.goto("/reports/1/edit")
            other.get_by_label("Title").fill("DHS Missing Data Needed to Strengthen Its Immigration Enforcement")
            other.get_by_label("Reason").fill("The title as printed.")
            other.get_by_role("button", name="Save correction").click()
            oig.get_by_label("Title").fill("DHS Missing Data (edited in another tab)")
            oig.get_by_label("Reason").fill("A shorter title.")
            oig.get_by_role("button", name="Save correction").click()
            for w in WIDTHS:
                shoot(oig, "error-409-oig_reviewer", w)
        if wanted("header-search"):
            page = pages["action_office"]
            page.goto("/")
            for w in WIDTHS:
                page.set_viewport_size({"width": w, "height": 900})
                if w == 390:
                    page.locator("button.usa-menu-btn").click()
                    page.wait_for_timeout(500)
                page.screenshot(path=str(out / f"header-search-{w}.png"))
        if wanted("integrity-checked"):
            page = pages["admin"]
            page.goto("/evidence/integrity")
            page.get_by_role("button", name="Check every file now").click()
            page.wait_for_load_state()
            for w in WIDTHS:
                shoot(page, "integrity-checked-admin", w)
        if wanted("calendar-feed"):
            page = pages["manager"]
            page.goto("/calendar/")
            page.get_by_role("button", name="Create a feed address").click()
            page.wait_for_load_state()
            page.get_by_label("Token name", exact=False).fill("Nightly report script")
            page.get_by_role("button", name="Create a token").click()
            page.wait_for_load_state()
            for w in WIDTHS:
                shoot(page, "calendar-feed-manager", w)
        if wanted("recovery-codes"):
            page = pages["admin"]
            page.goto("/account/security-keys")
            button = page.get_by_role("button", name="recovery codes")
            if button.count():
                button.first.click()
                for w in WIDTHS:
                    shoot(page, "recovery-codes-admin", w)
        if wanted("error-429"):
            for _ in range(8):
                anon.goto("/sign-in")
                anon.get_by_label("Email address").fill("nobody@example.gov")
                anon.get_by_label("Password").fill("wrong")
                anon.get_by_role("button", name="Sign in").click()
            for w in WIDTHS:
                shoot(anon, "error-429", w)
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
