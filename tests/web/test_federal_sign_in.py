"""Federal sign-in over HTTP: the routes' rules with SSO on, password sign-in off, break-glass,
the pending second step, key resets by administrators. The browser journeys are in tests/e2e."""

import json
import re

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.auth.mfa import relying_party
from app.auth.models import RecoveryCode, SecurityKey
from app.reminders.models import OutboxMessage
from tests.factories import PASSWORD
from tests.web.test_access import _routes

SSO = {
    "OIDC_ISSUER": "https://idp.example.gov",
    "OIDC_CLIENT_ID": "tracker",
    "OIDC_CLIENT_SECRET": "s",
    "OIDC_PROVIDER_NAME": "Agency ID",
}
#: The new endpoints an anonymous visitor may reach with success.
PUBLIC = {"auth.sign_in_page", "auth.break_glass_page", "health.healthz", "health.readyz", "health.metrics", "static"}


def _last_after(db, action) -> dict:
    db.session.expire_all()
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc()).limit(1)
    ).one()
    return json.loads(event.after or "{}")


def _add_key(db, user, name="Key", credential_id="cred-1"):
    key = SecurityKey(
        user_id=user.id, name=name, credential_id=credential_id, public_key=b"\x01", sign_count=0, transports="usb"
    )
    db.session.add(key)
    db.session.commit()
    return key


def _password(client, email, path="/sign-in", token_from=None):
    return client.post_form(path, {"email": email, "password": PASSWORD}, token_from=token_from or path)


def test_no_new_route_serves_an_anonymous_visitor_with_sso_on(app):
    app.config.update(SSO)
    client = app.test_client()
    served = []
    for endpoint, method, url in _routes(app):
        if endpoint == "auth.oidc_start":
            continue  # it redirects to the provider, whose discovery document this test cannot fetch
        response = client.open(url, method=method)
        if 200 <= response.status_code < 300 and endpoint not in PUBLIC:
            served.append((endpoint, method, url))
    assert served == []


def test_a_callback_without_a_started_sign_in_is_refused_and_audited(app, client, db):
    app.config.update(SSO)
    response = client.get("/sign-in/oidc/callback?code=abc&state=xyz")
    assert response.status_code == 400
    assert "Sign-in with Agency ID did not succeed" in response.get_data(as_text=True)
    details = _last_after(db, "auth.sign_in_failed")
    assert details["method"] == "oidc" and details["provider"] == "Agency ID" and details["reason"] == "protocol"


def test_sso_routes_are_absent_when_sso_is_off(client):
    assert client.get("/sign-in/oidc").status_code == 404
    assert client.get("/sign-in/oidc/callback?code=a&state=b").status_code == 404
    assert "Sign in with" not in client.get("/sign-in").get_data(as_text=True)


def test_the_sign_in_page_offers_the_provider_above_the_password_form(app, client):
    app.config.update(SSO)
    page = client.get("/sign-in").get_data(as_text=True)
    assert page.index("Sign in with Agency ID") < page.index('name="password"')


def test_password_sign_in_off_refuses_passwords_but_not_break_glass(app, client, make, db):
    app.config.update(SSO, PASSWORD_SIGN_IN=False)
    staff = make.user("action_office")
    admin = make.user("admin", email="root@example.gov")
    db.session.commit()
    assert 'name="password"' not in client.get("/sign-in").get_data(as_text=True)
    refused = _password(client, staff.email, token_from="/sign-in/break-glass")
    assert refused.status_code == 403 and "turned off" in refused.get_data(as_text=True)
    assert _last_after(db, "auth.sign_in_failed") == {"method": "password", "reason": "password sign-in is off"}

    # Not yet marked: the break-glass page gives the one refusal.
    assert _password(client, admin.email, "/sign-in/break-glass").status_code == 400
    result = app.test_cli_runner().invoke(args=["users", "break-glass", staff.email])
    assert result.exit_code != 0 and "only administrators" in result.output
    result = app.test_cli_runner().invoke(args=["users", "break-glass", "root@example.gov"])
    assert result.exit_code == 0, result.output
    assert _password(client, staff.email, "/sign-in/break-glass").status_code == 400
    response = _password(client, admin.email, "/sign-in/break-glass")
    assert response.status_code == 302
    assert _last_after(db, "auth.sign_in") == {"method": "break_glass"}
    assert _last_after(db, "user.break_glass") == {"break_glass": True}


def test_password_sign_in_off_without_sso_changes_nothing(app, client, make, db):
    app.config["PASSWORD_SIGN_IN"] = False
    user = make.user()
    db.session.commit()
    assert _password(client, user.email).status_code == 302


def test_password_sign_ins_are_audited_with_their_method(client, make, db):
    user = make.user()
    db.session.commit()
    client.post_form("/sign-in", {"email": user.email, "password": "wrong password entirely"}, token_from="/sign-in")
    assert _last_after(db, "auth.sign_in_failed") == {"email": user.email, "method": "password"}
    _password(client, user.email)
    assert _last_after(db, "auth.sign_in") == {"method": "password"}


def test_the_pending_second_step_grants_nothing_and_expires(app, client, make, db):
    user = make.user()
    db.session.commit()
    _add_key(db, user)
    response = _password(client, user.email)
    assert response.headers["Location"] == "/sign-in/security-key"
    assert _last_after(db, "auth.mfa_asked") == {"method": "password"}
    for url in ("/", "/account/security-keys", "/recommendations/1"):
        assert client.get(url).headers["Location"].startswith("/sign-in"), url
    assert client.get("/sign-in/security-key").status_code == 200
    with client.session_transaction() as session:
        session["mfa_pending"] = session["mfa_pending"] | {"at": session["mfa_pending"]["at"] - 6 * 60}
    assert client.get("/sign-in/security-key").headers["Location"] == "/sign-in"
    options = client.post("/sign-in/security-key/options", headers={"X-CSRFToken": client.csrf_token("/sign-in")})
    assert options.status_code == 409


def test_an_answer_from_a_key_that_is_not_the_users_is_refused_and_audited(client, make, db):
    user = make.user()
    other = make.user()
    db.session.commit()
    _add_key(db, user, credential_id="mine")
    _add_key(db, other, credential_id="theirs")
    _password(client, user.email)
    token = client.csrf_token("/sign-in/security-key")
    options = client.post("/sign-in/security-key/options", headers={"X-CSRFToken": token}).get_json()
    assert [c["id"] for c in options["allowCredentials"]] == ["mine"]
    assert options["rpId"] == "127.0.0.1" or options["rpId"]  # from BASE_URL or the request
    forged = {
        "id": "theirs",
        "rawId": "theirs",
        "type": "public-key",
        "response": {"clientDataJSON": "e30", "authenticatorData": "AA", "signature": "AA"},
    }
    response = client.post("/sign-in/security-key", data={"csrf_token": token, "credential": json.dumps(forged)})
    assert response.status_code == 400
    assert response.get_json()["error"] == "This security key is not registered to your account."
    assert _last_after(db, "auth.mfa_failed")["factor"] == "security_key"
    assert client.get("/").status_code == 302
    for junk in ("not json", "[]", "{" * 5):
        client.post("/sign-in/security-key/options", headers={"X-CSRFToken": token})
        answer = client.post("/sign-in/security-key", data={"csrf_token": token, "credential": junk})
        assert answer.status_code == 400


def test_an_administrator_resets_a_persons_keys_and_they_are_told(client, login_as, make, db):
    person = make.user("oig_reviewer", email="lost.key@example.gov")
    db.session.commit()
    _add_key(db, person, "Blue key", "k1")
    _add_key(db, person, "Phone", "k2")
    db.session.add(RecoveryCode(user_id=person.id, code_hash="0" * 64))
    db.session.commit()
    token_before = person.session_token
    admin = login_as("admin")
    page = client.get(f"/accounts/{person.id}").get_data(as_text=True)
    assert "2 security keys (Blue key, Phone)" in page
    response = client.post_form(f"/accounts/{person.id}/reset-keys", token_from=f"/accounts/{person.id}")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SecurityKey)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    assert person.session_token != token_before, "the person's sessions end"
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "auth.keys_reset")).one()
    assert event.actor_id == admin.id and event.object_id == person.id
    assert json.loads(event.before) == {"keys": ["Blue key", "Phone"], "recovery_codes": 1}
    message = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "account.keys_reset")).one()
    assert message.to_address == "lost.key@example.gov" and message.recipient_id == person.id
    assert "removed every security key" in message.body_text and admin.name in message.body_text
    assert message.state == "stored"  # no MAIL_SERVER in tests: kept in the outbox for admins to read


@pytest.mark.parametrize("role", ["action_office", "oig_reviewer", "manager"])
def test_only_administrators_reset_keys(client, login_as, make, db, role):
    person = make.user()
    db.session.commit()
    _add_key(db, person)
    login_as(role)
    response = client.post_form(f"/accounts/{person.id}/reset-keys", token_from="/")
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SecurityKey)) == 1


def test_nobody_renames_or_removes_anothers_key(client, login_as, make, db):
    owner = make.user()
    db.session.commit()
    key = _add_key(db, owner)
    login_as("admin")
    token = client.csrf_token("/account/security-keys")
    assert client.post(f"/account/security-keys/{key.id}/remove", data={"csrf_token": token}).status_code == 404
    assert (
        client.post(
            "/account/security-keys",
            data={
                "action": "rename",
                "key_id": key.id,
                f"key{key.id}-csrf_token": token,
                f"key{key.id}-name": "Mine now",
            },
        ).status_code
        == 404
    )


def test_recovery_codes_need_a_key_first(client, login_as):
    login_as()
    response = client.post_form("/account/recovery-codes", token_from="/account/security-keys")
    assert response.status_code == 302
    page = client.get("/account/security-keys").get_data(as_text=True)
    assert "Add a security key first" in page


def test_the_relying_party_is_a_host_name(app):
    app.config["BASE_URL"] = "https://tracker.agency.gov"
    with app.test_request_context("/", base_url="https://tracker.agency.gov"):
        assert relying_party() == ("tracker.agency.gov", "https://tracker.agency.gov")
    app.config["BASE_URL"] = "http://127.0.0.1:5000"
    with app.test_request_context("/", base_url="http://localhost:5000"):
        assert relying_party() == ("localhost", "http://localhost:5000")


def test_the_sign_out_form_may_continue_to_the_provider_only(app, client):
    csp = client.get("/sign-in").headers["Content-Security-Policy"]
    assert "form-action 'self';" in csp
    app.config.update(SSO)
    csp = client.get("/sign-in").headers["Content-Security-Policy"]
    assert re.search(r"form-action 'self' https://idp\.example\.gov;", csp)


def test_a_provider_that_cannot_be_reached_gives_a_clear_page(app, client, make, db):
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config.update(SSO, OIDC_ISSUER=f"http://127.0.0.1:{port}")
    response = client.get("/sign-in/oidc")
    assert response.status_code == 503
    assert "Agency ID cannot be reached right now" in response.get_data(as_text=True)
    assert _last_after(db, "auth.sign_in_failed")["reason"] == "provider unreachable"


def test_a_lockout_ends_the_pending_second_step(app, client, make, db):
    user = make.user()
    db.session.commit()
    _add_key(db, user)
    _password(client, user.email)
    token = client.csrf_token("/sign-in/security-key")
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        response = client.post(
            "/sign-in/security-key", data={"action": "recovery_code", "csrf_token": token, "code": "WRONG-CODE"}
        )
        assert response.status_code == 400 and "app-error-summary" in response.get_data(as_text=True)
    response = client.post(
        "/sign-in/security-key", data={"action": "recovery_code", "csrf_token": token, "code": "WRONG-CODE"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"
    assert client.get("/sign-in/security-key").headers["Location"] == "/sign-in"


def test_the_key_forms_answer_at_their_pages_address_only(client, db, login_as):
    """The rename and recovery-code forms post to the page they are on; their old addresses are gone."""
    user = login_as()
    key = _add_key(db, user)  # after the password: the session is whole
    token = client.csrf_token("/account/security-keys")
    gone = client.post(
        f"/account/security-keys/{key.id}/rename", data={f"key{key.id}-csrf_token": token, f"key{key.id}-name": "X"}
    )
    assert gone.status_code in (404, 405)
    refused = client.post(
        "/account/security-keys",
        data={"action": "rename", "key_id": key.id, f"key{key.id}-csrf_token": token, f"key{key.id}-name": "  "},
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "app-error-summary" in page and f'href="#key{key.id}-name"' in page
    assert client.post("/sign-in/recovery-code", data={"csrf_token": token, "code": "X"}).status_code in (404, 405)
