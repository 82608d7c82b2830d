"""Security keys and passkeys in Chromium, with its virtual authenticator (DevTools WebAuthn domain).

A relying party id must be a host name, so these pages are served at ``localhost`` and BASE_URL says so.
"""

import json
import re

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.auth.models import RecoveryCode, SecurityKey
from tests.factories import PASSWORD


@pytest.fixture
def site(app, live_server):
    base = live_server.replace("127.0.0.1", "localhost")
    app.config["BASE_URL"] = base
    return base


@pytest.fixture
def kpage(browser, site):
    context = browser.new_context(base_url=site)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.console_errors = []
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    page.cdp = context.new_cdp_session(page)
    page.cdp.send("WebAuthn.enable")
    yield page
    context.close()


def add_authenticator(page) -> str:
    return page.cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )["authenticatorId"]


def remove_authenticator(page, authenticator_id: str) -> list[dict]:
    """Unplug the key; returns its credentials, private keys included, to plug them in again later."""
    credentials = page.cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    page.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator_id})
    return credentials


def plug_in(page, credentials: list[dict]) -> str:
    authenticator = add_authenticator(page)
    for credential in credentials:
        page.cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": credential})
    return authenticator


def password_step(page, email: str):
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in", exact=True).click()


def add_key(page, name: str):
    page.goto("/account/security-keys")
    page.get_by_label("Name of the key").fill(name)
    with page.expect_navigation():
        page.get_by_role("button", name="Add a security key").click()
    assert f"“{name}” is added" in page.locator(".usa-alert--success").inner_text()


def use_key(page, *, expect_success: bool = True):
    button = page.get_by_role("button", name="Use your security key")
    if expect_success:
        with page.expect_navigation():
            button.click()
    else:
        button.click()


def sign_out(page):
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()


def audit_after(db, action) -> list[dict]:
    db.session.expire_all()
    return [
        json.loads(e.after or "{}")
        for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    ]


def test_register_a_key_and_sign_in_with_it(kpage, make, db):
    page = kpage
    user = make.user("action_office", email="staff@example.gov", name="Sam Staff")
    db.session.commit()
    add_authenticator(page)
    password_step(page, user.email)
    assert page.url.endswith("/")  # no key yet: the password alone signs in
    add_key(page, "Blue key")
    assert page.get_by_role("heading", name="Blue key").is_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="Make recovery codes").click()
    codes = page.locator(".app-recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"[A-Z2-9]{4}(-[A-Z2-9]{4}){3}", c) for c in codes)
    stored = db.session.scalars(sa.select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored), "codes are stored hashed"
    sign_out(page)

    password_step(page, user.email)
    assert "/sign-in/security-key" in page.url
    assert page.goto("/").url.endswith("/sign-in?next=%2F"), "the pending sign-in grants nothing"
    page.goto("/sign-in/security-key")
    use_key(page)
    assert "Sam Staff" in page.locator(".app-userbar").inner_text()
    assert audit_after(db, "auth.mfa_verified")[-1] == {
        "method": "password",
        "factor": "security_key",
        "key": "Blue key",
    }
    key = db.session.scalar(sa.select(SecurityKey))
    assert key.last_used_at is not None
    assert page.console_errors == []


def test_a_key_needs_a_name_and_can_be_renamed(kpage, make, db):
    page = kpage
    user = make.user("manager", email="boss@example.gov")
    db.session.commit()
    add_authenticator(page)
    password_step(page, user.email)
    page.goto("/account/security-keys")
    page.get_by_role("button", name="Add a security key").click()
    assert page.locator("#name-error").inner_text() == "Give the key a name."
    assert page.get_by_label("Name of the key").get_attribute("aria-invalid") == "true"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SecurityKey)) == 0
    add_key(page, "Laptop passkey")
    page.get_by_label("New name for Laptop passkey").fill("   ")
    with page.expect_navigation():
        page.get_by_role("button", name="Rename").click()
    assert "Give the key a name." in page.locator(".usa-error-message").first.inner_text()
    assert page.url.endswith("/account/security-keys")  # the refused name comes back at the page's address
    page.wait_for_function("document.activeElement.classList.contains('app-error-summary')")
    assert "Give the key a name." in page.locator(".app-error-summary").inner_text()
    page.get_by_label("New name for Laptop passkey").fill("Work laptop")
    with page.expect_navigation():
        page.get_by_role("button", name="Rename").click()
    assert page.get_by_role("heading", name="Work laptop").is_visible()


def test_a_key_that_is_not_registered_does_not_sign_in(kpage, make, db):
    page = kpage
    user = make.user("action_office", email="staff@example.gov")
    db.session.commit()
    first = add_authenticator(page)
    password_step(page, user.email)
    add_key(page, "Registered key")
    sign_out(page)
    remove_authenticator(page, first)
    add_authenticator(page)  # another key, never registered here

    password_step(page, user.email)
    use_key(page, expect_success=False)
    alert = page.locator("[data-webauthn-status]")
    alert.locator("text=did not sign you in").wait_for()
    assert page.get_by_role("alert").filter(has_text="did not sign you in").is_visible()
    assert page.get_by_role("button", name="Use your security key").is_enabled()
    assert page.goto("/").url.endswith("/sign-in?next=%2F")
    failures = audit_after(db, "auth.mfa_failed")
    assert failures and failures[-1]["factor"] == "security_key"


def test_a_removed_key_no_longer_signs_in(kpage, make, db):
    page = kpage
    user = make.user("action_office", email="staff@example.gov")
    db.session.commit()
    a = add_authenticator(page)
    password_step(page, user.email)
    add_key(page, "Key A")
    key_a = remove_authenticator(page, a)
    b = add_authenticator(page)
    add_key(page, "Key B")
    key_b = remove_authenticator(page, b)
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Remove Key A").click()
    assert "“Key A” is removed" in page.locator(".usa-alert--success").inner_text()
    assert audit_after(db, "auth.key_remove")
    sign_out(page)

    only_a = plug_in(page, key_a)
    password_step(page, user.email)
    use_key(page, expect_success=False)
    page.locator("[data-webauthn-status]").locator("text=did not sign you in").wait_for()
    assert page.locator(".app-userbar").count() == 0
    remove_authenticator(page, only_a)
    plug_in(page, key_b)
    use_key(page)
    assert page.locator(".app-userbar").count() == 1


def test_a_recovery_code_works_once(kpage, make, db):
    page = kpage
    user = make.user("action_office", email="staff@example.gov")
    db.session.commit()
    authenticator = add_authenticator(page)
    password_step(page, user.email)
    add_key(page, "Only key")
    with page.expect_navigation():
        page.get_by_role("button", name="Make recovery codes").click()
    codes = page.locator(".app-recovery-codes code").all_inner_texts()
    sign_out(page)
    remove_authenticator(page, authenticator)  # the key is lost

    password_step(page, user.email)
    page.get_by_label("Recovery code").fill(codes[0].lower())
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in with a recovery code").click()
    assert "9 codes are left" in page.locator(".usa-alert--warning").inner_text()
    sign_out(page)

    password_step(page, user.email)
    page.get_by_label("Recovery code").fill(codes[0])
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in with a recovery code").click()
    assert "not one of your unused recovery codes" in page.locator(".usa-error-message").inner_text()
    assert page.url.endswith("/sign-in/security-key")  # the wrong code comes back at the page's address
    summary = page.locator(".app-error-summary")  # the USWDS summary at the top, focused, linking to the field
    summary.wait_for()
    page.wait_for_function("document.activeElement.classList.contains('app-error-summary')")
    field_id = page.get_by_label("Recovery code").get_attribute("id")
    assert summary.locator(f'a[href="#{field_id}"]').inner_text().startswith("Recovery code:")
    assert page.get_by_label("Recovery code").get_attribute("aria-invalid") == "true"
    assert page.locator(".app-userbar").count() == 0
    assert audit_after(db, "auth.mfa_failed")[-1]["factor"] == "recovery_code"
    page.get_by_label("Recovery code").fill(codes[1])
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in with a recovery code").click()
    assert page.locator(".app-userbar").count() == 1


def test_a_role_that_requires_a_key_registers_one_before_anything_else(kpage, app, make, db):
    page = kpage
    app.config["MFA_REQUIRED_ROLES"] = "oig_reviewer,admin"
    reviewer = make.user("oig_reviewer", email="oig@example.gov")
    db.session.commit()
    add_authenticator(page)
    password_step(page, reviewer.email)
    assert page.url.endswith("/account/security-keys")
    assert "Add a security key to continue" in page.locator(".usa-alert--warning").inner_text()
    for elsewhere in ("/", "/account/password", "/search/?q=x"):
        assert page.goto(elsewhere).url.endswith("/account/security-keys"), elsewhere
    assert audit_after(db, "auth.mfa_enrol_required")[-1] == {"role": "oig_reviewer"}

    add_key(page, "Reviewer key")
    assert page.goto("/").url.endswith("/")
    # The only key of a role that requires one cannot be removed.
    page.goto("/account/security-keys")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Remove Reviewer key").click()
    assert "requires a security key" in page.locator(".usa-alert--error").inner_text()
    sign_out(page)

    password_step(page, reviewer.email)
    assert "/sign-in/security-key" in page.url
    use_key(page)
    assert page.url.endswith("/")


WIDTHS = (1280, 1024, 390)


def _check_page(page, label: str, shots_dir):
    from tests.e2e.test_accessibility import assert_accessible

    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{label} scrolls sideways by {overflow}px at {width}px"
        if shots_dir:
            page.screenshot(path=f"{shots_dir}/{label}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert_accessible(page, label)


def test_the_new_pages_are_accessible_and_fit_every_width(kpage, app, make, db):
    """axe-core and no sideways scroll at 1280, 1024 and 390 px; SCREENSHOT_DIR keeps the pictures."""
    import os

    shots = os.environ.get("SCREENSHOT_DIR")
    page = kpage
    app.config.update(
        OIDC_ISSUER="https://idp.example.gov",
        OIDC_CLIENT_ID="tracker",
        OIDC_PROVIDER_NAME="Login.gov",
        MFA_REQUIRED_ROLES="oig_reviewer",
    )
    admin = make.user("admin", email="admin@example.gov", name="Ada Admin")
    reviewer = make.user("oig_reviewer", email="oig@example.gov", name="Rosa Reviewer-Montgomery")
    db.session.commit()
    first = add_authenticator(page)

    page.goto("/sign-in")
    _check_page(page, "sign-in-with-sso", shots)
    page.goto("/sign-in/break-glass")
    _check_page(page, "break-glass", shots)

    password_step(page, reviewer.email)
    _check_page(page, "security-keys-enrolment", shots)
    add_key(page, "YubiKey 5 NFC on my keyring")
    remove_authenticator(page, first)
    add_authenticator(page)
    add_key(page, "Work laptop passkey")
    _check_page(page, "security-keys", shots)
    with page.expect_navigation():
        page.get_by_role("button", name="Make recovery codes").click()
    _check_page(page, "recovery-codes", shots)
    sign_out(page)

    password_step(page, reviewer.email)
    _check_page(page, "security-key-step", shots)
    page.get_by_role("button", name="Sign in with a recovery code").click()
    page.wait_for_load_state()
    assert page.locator(".usa-error-message").is_visible()
    _check_page(page, "security-key-step-error", shots)
    use_key(page)

    sign_out(page)
    app.config["MFA_REQUIRED_ROLES"] = ""
    password_step(page, admin.email)
    page.goto(f"/accounts/{reviewer.id}")
    _check_page(page, "account-with-keys", shots)
