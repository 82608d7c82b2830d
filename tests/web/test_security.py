"""Security properties of EVERY route, found by walking ``app.url_map``: routes added later are covered.

CSRF (SC-23), session replay, lockout across processes (AC-7), one answer for every sign-in
failure, response headers, inert XSS and SQL-looking input (SI-10), office scoping (AC-3).
The browser half (no script runs from stored payloads, no CSP error) is tests/e2e/test_security_browser.py.
"""

import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.auth.models import User
from app.timeutil import utcnow
from tests.factories import PASSWORD

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
#: Endpoints reachable without signing in; everything else must refuse an anonymous visitor.
PUBLIC = {
    "auth.sign_in_page",
    "auth.break_glass_page",
    "auth.reset_password_page",
    "health.healthz",
    "health.readyz",
    "health.metrics",
    "static",
}  # metrics: loopback (METRICS_ALLOW) or a bearer token only
#: Views exempt from CSRF because they take no cookie-authenticated state change. None today.
CSRF_EXEMPT: set[str] = set()
#: Endpoints whose ids are not office-scoped (administration of accounts is admin-only anyway).
NOT_OFFICE_SCOPED: set[str] = set()
#: The API takes a bearer token, never the session cookie, so CSRF cannot apply; its office
#: scoping is tested with tokens in tests/web/test_api.py.
TOKEN_AUTHENTICATED = ("api.",)
ROOT = Path(__file__).resolve().parents[2]
REQUIRED_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options")


def url_for_rule(rule, value="1") -> str:
    """The rule's URL with every argument set to ``value``: the demo's first object of each kind."""
    if rule.endpoint == "static":
        return "/static/css/app.css"
    url = re.sub(r"<any\(([^,)]+)[^>]*>", lambda m: m.group(1).strip(), rule.rule)
    return re.sub(r"<[^>]+>", value, url)


def routes(app, methods):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted((rule.methods or set()) & methods):
            yield rule, method, url_for_rule(rule)


def sign_in(client, email, password=PASSWORD, **kw):
    return client.post_form("/sign-in", {"email": email, "password": password}, token_from="/sign-in", **kw)


def audit_count(db, action=None):
    query = sa.select(sa.func.count()).select_from(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    return db.session.scalar(query)


# --- CSRF ---------------------------------------------------------------------------


def test_csrf_protection_is_on_in_the_configuration_under_test(app):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True


@pytest.mark.parametrize("signed_in", [True, False])
def test_every_mutating_route_refuses_a_request_without_a_csrf_token(app, client, login_as, demo, db, signed_in):
    if signed_in:
        login_as("admin")
    mutating = [
        (r, m, u)
        for r, m, u in routes(app, MUTATING)
        if r.endpoint not in CSRF_EXEMPT and not r.endpoint.startswith(TOKEN_AUTHENTICATED)
    ]
    assert mutating, "no mutating route found"
    before = audit_count(db)
    accepted = []
    for rule, method, url in mutating:
        response = client.open(url, method=method, data={"name": "x", "title": "x"})
        if response.status_code != 400 or "form expired" not in response.get_data(as_text=True):
            accepted.append((rule.endpoint, method, url, response.status_code))
    assert accepted == []
    assert audit_count(db) == before  # nothing happened
    if signed_in:
        assert client.get("/").status_code == 200


def test_a_csrf_token_from_another_session_is_refused(app, client, login_as, make, db):
    login_as("admin")
    attacker = app.test_client()
    foreign_token = attacker.csrf_token("/sign-in")
    target = make.user()
    db.session.commit()
    response = client.post(f"/accounts/{target.id}/deactivate", data={"csrf_token": foreign_token})
    assert response.status_code == 400
    db.session.refresh(target)
    assert target.is_active


# --- sessions -----------------------------------------------------------------------


def test_a_cookie_replayed_after_sign_out_is_refused(app, client, login_as):
    user = login_as("manager")
    token = client.csrf_token("/")
    stolen = client.get_cookie("session").value
    client.post_form("/sign-out")
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/").status_code == 302
    new = "an attacker's new password"
    response = replay.post(
        "/account/password", data={"csrf_token": token, "current": PASSWORD, "password": new, "confirm": new}
    )
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert not user.check_password(new)


def test_sign_in_starts_a_new_session(app, client, make, db):
    user = make.user()
    db.session.commit()
    client.get("/sign-in")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    sign_in(client, user.email)
    with client.session_transaction() as session:
        first_sid = session["sid"]
        assert "planted" not in session
    other = app.test_client()
    sign_in(other, user.email)
    with other.session_transaction() as session:
        assert session["sid"] != first_sid


@pytest.mark.parametrize("target", ["/\\evil.example.com", "https://evil.example.com", "//evil.example.com"])
def test_sign_in_never_redirects_off_site(client, make, db, target):
    user = make.user()
    db.session.commit()
    token = client.csrf_token("/sign-in")
    response = client.post(
        "/sign-in", query_string={"next": target}, data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/"


def test_absolute_session_limit(client, login_as):
    login_as("manager")
    with client.session_transaction() as session:
        session["signed_in_at"] -= 12 * 3600 + 1
    assert client.get("/").status_code == 302


def test_session_cookie_flags_and_hsts_over_https(client, make, db):
    user = make.user()
    db.session.commit()
    https = "https://localhost"
    page = client.get("/sign-in", base_url=https).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/sign-in",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
        base_url=https,
        headers={"Referer": https + "/sign-in"},
    )
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    plain = client.get("/sign-in")
    assert "Strict-Transport-Security" not in plain.headers


# --- lockout ------------------------------------------------------------------------


def test_five_failures_lock_the_account_for_fifteen_minutes(app, client, make, db):
    user = make.user()
    db.session.commit()
    for _ in range(5):
        assert sign_in(client, user.email, "wrong password attempt").status_code == 400
    db.session.refresh(user)
    assert user.is_locked(utcnow())
    locked = sign_in(client, user.email)  # the right password no longer works
    assert locked.status_code == 400 and "not correct" in locked.get_data(as_text=True)
    assert audit_count(db, "auth.lock") == 1
    lock = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "auth.lock")).one()
    assert lock.ip == "127.0.0.1" and lock.object_id == user.id  # AU-3: who, and from where
    user.locked_until = utcnow() - timedelta(seconds=1)  # fifteen minutes later
    db.session.commit()
    assert sign_in(client, user.email).status_code == 302
    assert audit_count(db, "auth.unlock") == 1
    assert "wrong password attempt" not in "".join(
        e.before + e.after for e in db.session.scalars(sa.select(AuditEvent))
    )


def test_failures_older_than_the_window_do_not_count(client, make, db):
    user = make.user()
    db.session.commit()
    for _ in range(4):
        sign_in(client, user.email, "wrong password attempt")
    user.first_failed_at = utcnow() - timedelta(minutes=16)
    db.session.commit()
    sign_in(client, user.email, "wrong password attempt")
    db.session.refresh(user)
    assert not user.is_locked(utcnow()) and user.failed_sign_ins == 1


def test_an_admin_unlocks_an_account(client, login_as, make, db):
    login_as("admin")
    user = make.user(locked_until=utcnow() + timedelta(minutes=10), failed_sign_ins=0)
    db.session.commit()
    assert client.post_form(f"/accounts/{user.id}/unlock", token_from=f"/accounts/{user.id}").status_code == 302
    db.session.refresh(user)
    assert user.locked_until is None
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "auth.unlock")).one()
    assert "administrator" in event.after


def _fail_in_another_process(url: str, email: str, n: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.workers", "sign-in-failures", url, email, str(n)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_the_lockout_counter_holds_across_processes(app, client, make, db):
    user = make.user()
    db.session.commit()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    for _ in range(2):
        sign_in(client, user.email, "wrong password attempt")
    # Two more processes, each its own app and connection pool, fail at the same time.
    workers = [_fail_in_another_process(url, user.email, 2), _fail_in_another_process(url, user.email, 2)]
    for worker in workers:
        output = worker.communicate(timeout=60)[0].decode()
        assert worker.returncode == 0, output
    db.session.expire_all()
    db.session.refresh(user)
    assert user.is_locked(utcnow())
    assert audit_count(db, "auth.lock") == 1  # locked once, not once per process
    assert sign_in(client, user.email).status_code == 400


def test_one_answer_for_unknown_email_wrong_password_locked_and_deactivated(client, make, db):
    known = make.user()
    locked = make.user(locked_until=utcnow() + timedelta(minutes=10))
    inactive = make.user(is_active_account=False)
    db.session.commit()

    def body(email, password):
        response = sign_in(client, email, password)
        assert response.status_code == 400
        return re.sub(r'value="[^"]*"', "", response.get_data(as_text=True).replace(email, "EMAIL"))

    answers = {
        body("nobody@example.gov", PASSWORD),
        body(known.email, "a wrong password here"),
        body(locked.email, PASSWORD),
        body(inactive.email, PASSWORD),
    }
    assert len(answers) == 1


def test_unknown_email_takes_as_long_as_a_wrong_password(app, client, make, db):
    """Both pay for one password hash; without the dummy hash an unknown email would answer ~10x faster."""
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:300000"
    user = make.user()
    db.session.commit()
    token = client.csrf_token("/sign-in")

    def timed(email):
        start = time.perf_counter()
        client.post("/sign-in", data={"email": email, "password": "a wrong password", "csrf_token": token})
        return time.perf_counter() - start

    timed("warm@example.gov")
    unknown, wrong = [], []
    for _ in range(4):  # interleaved, so that load on the machine falls on both alike
        unknown.append(timed("nobody@example.gov"))
        wrong.append(timed(user.email))
    # The fastest run of each: load only ever adds time.
    assert 0.33 < min(unknown) / min(wrong) < 3, (unknown, wrong)


# --- headers ------------------------------------------------------------------------


def assert_security_headers(response, where):
    missing = [h for h in REQUIRED_HEADERS if h not in response.headers]
    assert not missing, f"{where}: missing {missing}"
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
    if "sandbox" in csp:
        # A preview shown in a sandboxed frame of our own page: no script at all, framed by us only.
        assert "frame-ancestors 'self'" in csp and "script-src 'none'" in csp, where
    else:
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, where
    assert "object-src 'none'" in csp, where
    assert response.headers["X-Content-Type-Options"] == "nosniff", where


def test_headers_on_every_page_for_every_role(app, client, make, demo, db):
    from app.auth.models import ROLES

    for role in ROLES:
        user = make.user(role)
        db.session.commit()
        signed = app.test_client()
        sign_in(signed, user.email)
        for rule, method, url in routes(app, {"GET"}):
            response = signed.get(url)
            assert_security_headers(response, f"{url} as {role} ({response.status_code})")
            if rule.endpoint != "static":
                assert response.headers["Cache-Control"] == "no-store", url


def test_headers_on_errors_and_anonymous_answers(app, client, login_as):
    from app.permissions import roles

    @app.route("/boom-for-headers")
    @roles("admin")
    def boom():
        raise RuntimeError("boom")

    for response, where in [
        (client.get("/no-such-page"), "404"),
        (client.get("/"), "redirect"),
        (client.post("/sign-out"), "CSRF 400"),
        (client.get("/static/css/app.css"), "static"),
        (client.get("/healthz"), "json"),
    ]:
        assert_security_headers(response, where)
    login_as("manager")
    assert_security_headers(client.get("/accounts"), "403")
    client.post_form("/sign-out")
    login_as("admin")
    crash = client.get("/boom-for-headers")
    assert crash.status_code == 500
    assert_security_headers(crash, "500")
    assert "boom" not in crash.get_data(as_text=True) and "Traceback" not in crash.get_data(as_text=True)


def test_headers_on_downloads(app, client, login_as, tmp_path):
    from flask import send_file

    from app.permissions import roles

    payload = tmp_path / "evidence.html"
    payload.write_text("<script>alert(1)</script>")

    @app.route("/download-for-test")
    @roles("admin")
    def download():
        return send_file(payload, as_attachment=True, download_name="evidence.html")

    login_as("admin")
    response = client.get("/download-for-test")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert_security_headers(response, "download")
    assert response.headers["Cache-Control"] == "no-store"


def test_templates_have_no_inline_script_style_or_handlers():
    """The CSP refuses them; this says where, before a browser does."""
    offenders = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for pattern in (
            r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>",
            r"<style\b",
            r"\sstyle=",
            r"\son[a-z]+=",
            r"javascript:",
        ):
            for match in re.finditer(pattern, text, re.IGNORECASE):
                offenders.append(f"{path.relative_to(ROOT)}: {match.group(0)}")
    assert offenders == []


def test_debug_is_off_in_the_production_configuration(monkeypatch, tmp_path):
    from app import create_app
    from config import Config

    monkeypatch.setenv("FLASK_DEBUG", "1")

    class Production(Config):
        SECRET_KEY = "x" * 32
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path}/prod.db"
        EVIDENCE_DIR = str(tmp_path / "evidence")

    assert Config.DEBUG is False and not getattr(Config, "TESTING", False)
    assert create_app(Production).debug is False


# --- hostile input ------------------------------------------------------------------

SQL_LIKE = "Robert'); DROP TABLE users;-- \" OR 1=1 --"
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_sql_looking_input_is_stored_and_shown_as_text(app, client, login_as, make, db):
    login_as("admin")
    response = client.post_form(
        "/accounts/new",
        {"email": "bobby@example.gov", "name": SQL_LIKE, "role": "admin", "office_id": ""},
        token_from="/accounts/new",
    )
    assert response.status_code == 200
    user = db.session.scalar(sa.select(User).where(User.email == "bobby@example.gov"))
    assert user.name == SQL_LIKE
    page = client.get("/accounts").get_data(as_text=True)
    assert "Robert&#39;); DROP TABLE users;-- &#34; OR 1=1 --" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2
    for email in ("' OR '1'='1", "admin@example.gov' --", "x@x'; DELETE FROM users; --"):
        assert sign_in(app.test_client(), email, "' OR '1'='1' --").status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2


def test_xss_payloads_are_escaped_in_the_html(client, login_as, make, db):
    login_as("admin")
    office = make.office("XSS", name=XSS)
    make.user("manager", office=office, name=XSS)
    db.session.commit()
    for url in ("/accounts", "/accounts/2"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


HOSTILE_VALUES = [SQL_LIKE, XSS, "x" * 20000, "-1", "1e309", "../../../../etc/passwd", "\u202e\ufeff𝕏"]
_FIELD_RE = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')


def test_hostile_input_on_every_form_never_gives_a_server_error(app, client, login_as, demo, db):
    login_as("admin")
    token = client.csrf_token("/")
    failures = []
    for rule, method, url in routes(app, MUTATING):
        page = client.get(url)
        names = (
            set(_FIELD_RE.findall(page.get_data(as_text=True))) - {"csrf_token"} if page.status_code == 200 else set()
        )
        names |= {"name", "title", "description", "email", "id"}
        for value in HOSTILE_VALUES:
            response = client.open(url, method=method, data={"csrf_token": token, **{n: value for n in names}})
            if response.status_code >= 500:
                failures.append((rule.endpoint, url, value[:30], response.status_code))
    assert failures == []


def test_nul_characters_are_refused_not_crashed_on(client, make, db):
    user = make.user()
    db.session.commit()
    response = sign_in(client, user.email + "\x00", "pass\x00word")
    assert response.status_code == 400
    assert client.get("/sign-in?next=/\x00").status_code == 400


# --- office scoping -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["action_office", "manager"])
def test_ids_of_another_offices_objects_give_403_or_404(app, client, login_as, make, demo, db, role):
    """The demo's objects (id 1 of every kind) belong to DHS-PLCY; a user of another office asks for them."""
    login_as(role, office=make.office("OTHER-OFFICE"))
    token = client.csrf_token("/")
    leaked = []
    for rule, method, url in routes(app, {"GET"} | MUTATING):
        if (
            not rule.arguments
            or rule.endpoint in PUBLIC | NOT_OFFICE_SCOPED
            or rule.endpoint.startswith(TOKEN_AUTHENTICATED)
        ):
            continue
        data = {"csrf_token": token} if method != "GET" else None
        response = client.open(url, method=method, data=data)
        allowed = {403, 404} if method == "GET" else {400, 403, 404, 409}
        if response.status_code not in allowed:
            leaked.append((rule.endpoint, method, url, response.status_code))
    assert leaked == []


def test_no_route_serves_an_anonymous_visitor_but_the_public_ones(app):
    client = app.test_client()
    served = []
    for rule, method, url in routes(app, {"GET"} | MUTATING):
        response = client.open(url, method=method)
        if response.status_code < 300 and rule.endpoint not in PUBLIC:
            served.append((rule.endpoint, method, url))
    assert served == []
