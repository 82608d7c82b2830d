"""The site both walks read (tests/e2e/walk.py), once per worker."""

import pytest

from app.extensions import db as _db
from tests.conftest import _serve, _test_app
from tests.e2e.layout import send_plan_and_closure_request
from tests.e2e.walk import USERS, Walk


@pytest.fixture(scope="session")
def walk_site(database_template, demo_template, tmp_path_factory):
    """The OIG-15-85 demo with the plan accepted and a closure request awaiting OIG, served once
    per worker: yields ``(app, url)``. Only read (the layout module's own tests add an API token)."""
    tmp = tmp_path_factory.mktemp("walk-site")
    url = demo_template(tmp)
    app = _test_app(url, tmp)
    with app.app_context():
        send_plan_and_closure_request(1, USERS["action_office"], USERS["oig_reviewer"])
        _db.session.remove()
    with _serve(app) as base:
        yield app, base
    with app.app_context():
        _db.engine.dispose()
    database_template[1](url)


@pytest.fixture(scope="session")
def walk_pages(browser, walk_site):
    """``walk_pages(role)``: a page on ``walk_site`` signed in as that role's demo user, one per
    role and worker. Signed in with the session cookie of a sign-in made by the test client (the
    sign-in form is tested in test_sign_in.py and test_auth.py)."""
    app, base = walk_site
    pages: dict = {}

    def page_for(role: str):
        if role not in pages:
            client = app.test_client()
            response = client.sign_in(USERS[role])
            assert response.status_code == 302, response.get_data(as_text=True)
            cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
            context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
            context.set_default_timeout(10_000)
            context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base}])
            pages[role] = context.new_page()
        return pages[role]

    yield page_for
    for page in pages.values():
        page.context.close()


@pytest.fixture(scope="session")
def walk(walk_pages):
    """The worker's visits of the walked pages (``walk.visit(role, path)``)."""
    return Walk(walk_pages)
