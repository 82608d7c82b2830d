import pytest

from app.audit import AuditEvent
from tests.factories import PASSWORD


def sign_in(client, email, password=PASSWORD):
    return client.post_form("/sign-in", {"email": email, "password": password}, token_from="/sign-in")


def test_sign_in_with_good_credentials_opens_the_dashboard(client, make, db):
    user = make.user("manager", name="Priya Raman")
    db.session.commit()
    response = sign_in(client, user.email)
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Priya Raman" in page and "Manager" in page and "Sign out" in page


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make, db):
    user = make.user()
    db.session.commit()
    wrong_password = sign_in(client, user.email, "not the password at all")
    unknown_email = sign_in(client, "nobody@example.gov")
    assert wrong_password.status_code == unknown_email.status_code == 400
    message = "The email address or password is not correct."
    assert message in wrong_password.get_data(as_text=True)
    assert message in unknown_email.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out


def test_sign_in_is_case_insensitive_on_email(client, make, db):
    make.user(email="Mixed.Case@example.gov")
    db.session.commit()
    assert sign_in(client, "mixed.case@EXAMPLE.gov").status_code == 302


def test_inactive_account_cannot_sign_in(client, make, db):
    user = make.user(is_active_account=False)
    db.session.commit()
    assert sign_in(client, user.email).status_code == 400


def test_sign_out_ends_the_session_and_a_replayed_cookie_is_refused(client, login_as, app):
    login_as("action_office")
    cookie = client.get_cookie("session").value
    assert client.get("/").status_code == 200
    response = client.post_form("/sign-out")
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    # An attacker who copied the cookie before sign-out replays it.
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    response = replay.get("/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_post_without_csrf_token_is_refused(client, login_as):
    login_as("action_office")
    response = client.post("/sign-out")
    assert response.status_code == 400
    assert client.get("/").status_code == 200  # still signed in: the refused request did nothing


def test_sign_in_form_without_csrf_is_refused(client, make, db):
    user = make.user()
    db.session.commit()
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "target,expected",
    [
        ("/recommendations/1", "/recommendations/1"),
        ("https://evil.example.com/", "/"),
        ("//evil.example.com/", "/"),
    ],
)
def test_sign_in_returns_only_to_local_pages(client, make, db, target, expected):
    user = make.user()
    db.session.commit()
    token = client.csrf_token("/sign-in")
    response = client.post(
        f"/sign-in?next={target}", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == expected


def test_sign_in_and_failures_are_audited(client, make, db):
    user = make.user()
    db.session.commit()
    sign_in(client, user.email, "wrong password here")
    sign_in(client, user.email)
    actions = [e.action for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-2:] == ["auth.sign_in_failed", "auth.sign_in"]
    failed = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed")).one()
    assert "wrong password" not in failed.after  # secrets never reach the audit trail


def test_idle_session_expires(client, login_as, app):
    login_as("manager")
    with client.session_transaction() as session:
        session["seen_at"] -= 31 * 60
    assert client.get("/").status_code == 302


def test_healthz_says_the_database_answered(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_passwords_are_hashed_with_a_modern_kdf(app, make):
    from config import Config

    user = make.user()
    assert user.password_hash.startswith("pbkdf2:sha256:")
    assert PASSWORD not in user.password_hash
    assert int(Config.PASSWORD_HASH_METHOD.rsplit(":", 1)[1]) >= 600_000
