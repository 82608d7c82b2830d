"""Single sign-on in Chromium against a real OpenID Connect provider on loopback (tests/oidc_provider.py)."""

import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from joserfc.jwk import RSAKey

from app.audit import AuditEvent
from app.auth.models import ExternalIdentity
from tests.oidc_provider import OIDCProvider

PROVIDER = "Test Agency ID"
PIV = "http://idmanagement.gov/ns/assurance/aal/3?hspd12=true"
REFUSAL = f"Sign-in with {PROVIDER} did not succeed"


@pytest.fixture
def provider():
    provider = OIDCProvider().start()
    yield provider
    provider.stop()


def _configure(app, provider, live_server, **config):
    app.config.update(
        OIDC_ISSUER=provider.issuer,
        OIDC_CLIENT_ID="tracker",
        OIDC_PROVIDER_NAME=PROVIDER,
        OIDC_SCOPES="openid email",
        OIDC_ACR_VALUES=PIV,
        **config,
    )
    app.extensions.pop("tracker_oidc", None)


@pytest.fixture
def sso(app, provider, live_server):
    provider.register_client(
        "tracker", secret="a-client-secret", redirect_uris=[live_server + "/sign-in/oidc/callback"]
    )
    _configure(app, provider, live_server, OIDC_CLIENT_SECRET="a-client-secret", OIDC_PRIVATE_KEY_FILE=None)
    return provider


def _audits(db, action):
    db.session.expire_all()
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def _last(db, action) -> dict:
    """The ``after`` details of the last audit event of this kind."""
    return json.loads(_audits(db, action)[-1].after or "{}")


def _click_sso(page):
    with page.expect_navigation(url=re.compile(r".*/(?!sign-in/oidc/callback).*")):
        page.get_by_role("link", name=f"Sign in with {PROVIDER}").click()


def test_first_sign_in_links_by_verified_email_and_later_ones_by_subject(page, sso, make, db):
    person = make.user("oig_reviewer", email="reviewer@oig.example.gov", name="Rita Reviewer")
    db.session.commit()
    sso.person = {"sub": "idp-0001", "email": "Reviewer@OIG.example.gov", "email_verified": True}

    page.goto("/sign-in")
    button = page.get_by_role("link", name=f"Sign in with {PROVIDER}")
    password = page.get_by_label("Password")
    assert button.bounding_box()["y"] < password.bounding_box()["y"], "the agency's button is above the form"
    _click_sso(page)
    page.wait_for_url(re.compile(r".*/$"))
    assert "Rita Reviewer" in page.locator(".app-userbar").inner_text()

    request = sso.authorize_requests[-1]
    assert request["response_type"] == "code" and request["code_challenge_method"] == "S256"
    assert len(request["code_challenge"]) >= 43 and request["state"] and request["nonce"]
    assert request["acr_values"] == PIV and "openid" in request["scope"].split()
    assert sso.token_requests[-1]["authorization"], "client_secret_basic"

    identity = db.session.scalar(sa.select(ExternalIdentity))
    assert (identity.user_id, identity.issuer, identity.subject) == (person.id, sso.issuer, "idp-0001")
    assert _audits(db, "auth.sso_link")[-1].object_id == person.id
    signed_in = _last(db, "auth.sign_in")
    assert signed_in["method"] == "oidc" and signed_in["provider"] == PROVIDER

    # Sign-out ends the session here and at the provider (RP-initiated logout).
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/sign-in.*"))
    end = sso.end_session_requests[-1]
    assert end["id_token_hint"] and end["post_logout_redirect_uri"].endswith("/sign-in")
    assert page.goto("/").url.endswith("/sign-in?next=%2F")

    # The provider now gives another email for the same subject: the link by subject holds.
    sso.person = {"sub": "idp-0001", "email": "rita.new-name@oig.example.gov", "email_verified": True}
    page.goto("/sign-in")
    _click_sso(page)
    page.wait_for_url(re.compile(r".*/$"))
    assert "Rita Reviewer" in page.locator(".app-userbar").inner_text()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExternalIdentity)) == 1


def test_the_administrator_sees_the_link(page, sso, make, db):
    person = make.user("manager", email="boss@example.gov", name="Bo Boss")
    make.user("admin", email="admin@example.gov")
    db.session.commit()
    sso.person = {"sub": "boss-sub", "email": "boss@example.gov", "email_verified": True}
    page.goto("/sign-in")
    _click_sso(page)
    page.wait_for_url(re.compile(r".*/$"))
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    sso.person = {"sub": "admin-sub", "email": "admin@example.gov", "email_verified": True}
    page.goto("/sign-in")
    _click_sso(page)
    page.wait_for_url(re.compile(r".*/$"))
    page.goto(f"/accounts/{person.id}")
    assert f"to the account of boss@example.gov at {sso.issuer}" in page.locator("main").inner_text()


def test_a_second_identity_with_the_same_email_does_not_take_over_a_linked_account(page, sso, make, db):
    make.user("action_office", email="staff@example.gov")
    db.session.commit()
    sso.person = {"sub": "first", "email": "staff@example.gov", "email_verified": True}
    page.goto("/sign-in")
    _click_sso(page)
    page.wait_for_url(re.compile(r".*/$"))
    page.context.clear_cookies()
    sso.person = {"sub": "someone-else", "email": "staff@example.gov", "email_verified": True}
    page.goto("/sign-in")
    _click_sso(page)
    assert REFUSAL in page.locator(".usa-alert--error").inner_text()


@pytest.mark.parametrize("case", ["unknown", "deactivated", "unverified_email"])
def test_unknown_deactivated_and_unverified_people_get_the_one_refusal(page, sso, make, db, case):
    user = make.user("action_office", email="someone@example.gov")
    if case == "deactivated":
        user.is_active_account = False
    db.session.commit()
    sso.person = {
        "sub": "idp-x",
        "email": "nobody@example.gov" if case == "unknown" else "someone@example.gov",
        "email_verified": case != "unverified_email",
    }
    page.goto("/sign-in")
    _click_sso(page)
    assert "/sign-in/oidc/callback" in page.url
    assert REFUSAL in page.locator(".usa-alert--error").inner_text()
    assert page.locator(".app-userbar").count() == 0
    failed = _last(db, "auth.sign_in_failed")
    assert failed["method"] == "oidc" and failed["provider"] == PROVIDER
    assert (
        failed["reason"]
        == {
            "unknown": "no account with this email",
            "deactivated": "account deactivated",
            "unverified_email": "email not verified by the provider",
        }[case]
    )
    assert page.goto("/").url.endswith("/sign-in?next=%2F")


def test_a_deactivated_person_linked_before_is_refused(page, sso, make, db):
    user = make.user("manager", email="boss@example.gov")
    db.session.commit()
    sso.person = {"sub": "boss", "email": "boss@example.gov", "email_verified": True}
    page.goto("/sign-in")
    _click_sso(page)
    page.wait_for_url(re.compile(r".*/$"))
    page.context.clear_cookies()
    user.is_active_account = False
    db.session.commit()
    page.goto("/sign-in")
    _click_sso(page)
    assert REFUSAL in page.locator(".usa-alert--error").inner_text()
    assert _last(db, "auth.sign_in_failed")["reason"] == "account deactivated"


@pytest.mark.parametrize("misbehave", ["wrong_nonce", "expired", "wrong_key", "wrong_audience"])
def test_a_bad_id_token_is_refused(page, sso, make, db, misbehave):
    make.user("admin", email="admin@example.gov")
    db.session.commit()
    sso.person = {"sub": "adm", "email": "admin@example.gov", "email_verified": True}
    sso.misbehave = misbehave
    page.goto("/sign-in")
    _click_sso(page)
    assert REFUSAL in page.locator(".usa-alert--error").inner_text()
    assert page.locator(".app-userbar").count() == 0
    failed = _last(db, "auth.sign_in_failed")
    assert failed["reason"] == "protocol" and failed["method"] == "oidc"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExternalIdentity)) == 0


def _consent_link(page, provider) -> str:
    """Start a sign-in and stop at the provider's consent page: the answer the browser would carry back."""
    provider.consent = True
    page.goto("/sign-in")
    page.get_by_role("link", name=f"Sign in with {PROVIDER}").click()
    page.wait_for_url(provider.issuer + "/authorize*")
    return page.locator("#continue").get_attribute("href")


def _with(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query)).geturl()


def test_a_replayed_code_is_refused(page, sso, make, db):
    make.user("action_office", email="staff@example.gov")
    db.session.commit()
    sso.person = {"sub": "staff", "email": "staff@example.gov", "email_verified": True}
    first = _consent_link(page, sso)
    page.goto(first)
    page.wait_for_url(re.compile(r".*/$"))
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()

    # A new sign-in carries the spent code back, with this session's own, valid state.
    second = _consent_link(page, sso)
    spent = parse_qs(urlsplit(first).query)["code"][0]
    page.goto(_with(second, code=spent))
    assert REFUSAL in page.locator(".usa-alert--error").inner_text()
    assert page.locator(".app-userbar").count() == 0
    failed = _last(db, "auth.sign_in_failed")
    assert failed["reason"] == "protocol" and "code already used" in failed["error"]
    # The first answer replayed as a whole fails too: its state was spent with it.
    page.goto(first)
    assert REFUSAL in page.locator(".usa-alert--error").inner_text()


def test_a_wrong_state_is_refused(page, sso, make, db):
    make.user("action_office", email="staff@example.gov")
    db.session.commit()
    sso.person = {"sub": "staff", "email": "staff@example.gov", "email_verified": True}
    answer = _consent_link(page, sso)
    page.goto(_with(answer, state="state-an-attacker-made"))
    assert REFUSAL in page.locator(".usa-alert--error").inner_text()
    assert page.locator(".app-userbar").count() == 0
    assert "MismatchingState" in _last(db, "auth.sign_in_failed")["error"]
    assert sso.token_requests == [], "the code is never exchanged when the state is wrong"


def test_private_key_jwt_as_login_gov_requires(page, app, provider, live_server, make, db, tmp_path):
    key = RSAKey.generate_key(2048, parameters={"kid": "tracker-1"})
    key_file = tmp_path / "tracker-oidc.pem"
    key_file.write_bytes(key.as_pem(private=True))
    provider.register_client(
        "tracker",
        public_jwk=key.as_dict(private=False),
        auth_method="private_key_jwt",
        redirect_uris=[live_server + "/sign-in/oidc/callback"],
    )
    _configure(app, provider, live_server, OIDC_CLIENT_SECRET=None, OIDC_PRIVATE_KEY_FILE=str(key_file))
    make.user("oig_reviewer", email="piv@example.gov", name="Pat PIV")
    db.session.commit()
    provider.person = {"sub": "login-gov-uuid", "email": "piv@example.gov", "email_verified": True}

    page.goto("/sign-in")
    _click_sso(page)
    page.wait_for_url(re.compile(r".*/$"))
    assert "Pat PIV" in page.locator(".app-userbar").inner_text()
    exchange = provider.token_requests[-1]
    assert exchange["client_auth"] == "ok" and not exchange["authorization"]
    assert exchange["form"]["client_assertion_type"].endswith("jwt-bearer")


def test_password_sign_in_off_hides_the_form(page, app, sso, make, db):
    app.config["PASSWORD_SIGN_IN"] = False
    make.user("action_office", email="staff@example.gov")
    db.session.commit()
    page.goto("/sign-in")
    assert page.get_by_role("link", name=f"Sign in with {PROVIDER}").is_visible()
    assert page.get_by_label("Password").count() == 0
    sso.person = {"sub": "s", "email": "staff@example.gov", "email_verified": True}
    _click_sso(page)
    page.wait_for_url(re.compile(r".*/$"))
