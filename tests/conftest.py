"""The harness every test uses.

Each test gets its own database, cloned from one migrated template: a file copy on
SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL (set ``TEST_DATABASE_URL`` to
a server URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test). The schema
always comes from the Alembic migrations, so the suite tests them too.
"""
import contextvars
import itertools
import os
import re
import shutil
import threading
import uuid

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db as _db
from config import TestConfig
from tests.factories import PASSWORD, Factory

PG_URL = os.environ.get("TEST_DATABASE_URL")
_counter = itertools.count()
_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class TrackerClient(FlaskClient):
    """A test client that knows how to send forms the way a browser does, CSRF token included.

    Each request runs in an empty context, so it pushes its own app context: its own ``g``
    and database session, as in production, not the ones the test itself holds open.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)

    def csrf_token(self, path: str = "/") -> str:
        page = self.get(path).get_data(as_text=True)
        match = _CSRF_RE.search(page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post_form(self, url: str, data: dict | None = None, *, token_from: str = "/", **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token(token_from))
        return self.post(url, data=data, **kw)


def _config_for(url: str, tmp_path) -> type:
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        EVIDENCE_DIR = str(tmp_path / "evidence")
        AUDIT_CHECKPOINT_FILE = str(tmp_path / "audit-checkpoints.jsonl")
        AUDIT_CHECKPOINT_KEY = "test-checkpoint-key"

    return Config


def _migrate(url: str, tmp_path) -> None:
    from flask_migrate import upgrade

    app = create_app(_config_for(url, tmp_path))
    with app.app_context():
        upgrade(directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
        _db.engine.dispose()


def _admin_engine():
    return sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """A migrated, empty database to clone for each test; yields a function making a clone's URL."""
    tmp = tmp_path_factory.mktemp("db")
    if PG_URL:
        base = sa.make_url(PG_URL)
        template = f"tracker_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        engine = _admin_engine()
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{template}"'))
        _migrate(base.set(database=template).render_as_string(hide_password=False), tmp)
        created = []

        def clone() -> str:
            name = f"{template}_{next(_counter)}"
            with engine.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
            created.append(name)
            return base.set(database=name).render_as_string(hide_password=False)

        def drop(url: str) -> None:
            name = sa.make_url(url).database
            with engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

        yield clone, drop
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
        engine.dispose()
    else:
        template = tmp / "template.db"
        _migrate(f"sqlite:///{template}", tmp)

        def clone() -> str:
            target = tmp / f"test-{next(_counter)}.db"
            shutil.copyfile(template, target)
            return f"sqlite:///{target}"

        def drop(url: str) -> None:
            path = sa.make_url(url).database
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)

        yield clone, drop


@pytest.fixture
def app(database_template, tmp_path):
    clone, drop = database_template
    url = clone()
    app = create_app(_config_for(url, tmp_path))
    app.test_client_class = TrackerClient
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()
    drop(url)


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(app):
    return Factory()


@pytest.fixture
def login_as(app, client, make, db):
    """``login_as("manager")`` signs ``client`` in as a new user of that role (or ``user=``)."""

    def login(role: str = "action_office", *, user=None, **kw):
        user = user or make.user(role, **kw)
        db.session.commit()
        response = client.post_form("/sign-in", {"email": user.email, "password": PASSWORD},
                                    token_from="/sign-in")
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return login


@pytest.fixture
def demo(app, db):
    """The OIG-15-85 demo, with every demo user's password set to ``PASSWORD``."""
    from app.demo import seed_demo
    from app.timeutil import today

    seed_demo(PASSWORD, today())
    db.session.commit()


# --- the browser -----------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The test's app served on a free loopback port, in a thread of this process."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    yield page
    context.close()


@pytest.fixture
def sign_in(page):
    def sign_in(email: str, password: str = PASSWORD):
        page.goto("/sign-in")
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Password").fill(password)
        # Wait for the navigation the click starts (a failed sign-in shows the form again);
        # wait_for_load_state() could return before it began, on the sign-in page still.
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        assert "/sign-in" not in page.url, "sign-in failed"

    return sign_in
