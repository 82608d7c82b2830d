"""Account administration (AC-2), the password rule (IA-5) and one-time reset links."""

import re
import socket
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.auth.models import PasswordResetToken, User
from app.auth.passwords import password_problem
from app.timeutil import utcnow
from tests.factories import PASSWORD

NEW_PASSWORD = "plum tractor oboe lantern 42"
_LINK_RE = re.compile(r'id="reset-link"[^>]*value="([^"]+)"')


def actions(db):
    return [e.action for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]


def sign_in(client, email, password=PASSWORD):
    return client.post_form("/sign-in", {"email": email, "password": password}, token_from="/sign-in")


# --- the password rule (its cases without an app: tests/unit/test_passwords.py) ------------


def test_users_create_applies_the_password_rule(app, db):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "a@example.gov", "--name", "A", "--role", "admin", "--password-stdin"],
        input="passwordpassword\n",
    )
    assert result.exit_code != 0 and "commonly used" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_unicode_passwords_match_whatever_the_keyboard_composed(app, make, db):
    user = make.user()
    user.set_password("Cafe\u0301 au lait sans sucre")  # e + combining accent
    assert user.check_password("Caf\u00e9 au lait sans sucre")  # precomposed é


# --- admin pages ------------------------------------------------------------------


def test_admin_creates_an_account_and_its_owner_sets_a_password_by_link(client, login_as, make, db, app):
    login_as("admin")
    office = make.office("ICE", name="Immigration and Customs Enforcement")
    db.session.commit()
    response = client.post_form(
        "/accounts/new",
        {"email": "New.Person@Example.gov", "name": "New Person", "role": "manager", "office_id": str(office.id)},
        token_from="/accounts/new",
    )
    assert response.status_code == 200
    link = _LINK_RE.search(response.get_data(as_text=True)).group(1)
    user = db.session.scalar(sa.select(User).where(User.email == "new.person@example.gov"))
    assert user.role == "manager" and user.office_id == office.id
    assert not user.check_password("") and not user.check_password(PASSWORD)
    token = link.rsplit("/", 1)[1]
    assert token not in "".join(e.after for e in db.session.scalars(sa.select(AuditEvent)))
    stored = db.session.scalar(sa.select(PasswordResetToken).where(PasswordResetToken.user_id == user.id))
    assert stored.token_hash != token  # only the hash is kept

    visitor = app.test_client()
    path = "/reset-password/" + token
    assert visitor.get(path).status_code == 200
    weak = visitor.post_form(path, {"password": "short", "confirm": "short"}, token_from=path)
    assert weak.status_code == 400 and "at least 15" in weak.get_data(as_text=True)
    done = visitor.post_form(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, token_from=path)
    assert done.status_code == 302
    assert visitor.get(path).status_code == 404  # single use
    assert sign_in(visitor, "new.person@example.gov", NEW_PASSWORD).status_code == 302
    assert {"user.create", "user.reset_link", "auth.password_change"} <= set(actions(db))


def test_an_expired_reset_link_does_not_work(client, make, db, app):
    from app.auth.services import issue_reset_token

    user = make.user()
    with app.test_request_context():
        token = issue_reset_token(user, None)
    db.session.commit()
    assert client.get(f"/reset-password/{token}").status_code == 200
    reset = db.session.scalar(sa.select(PasswordResetToken))
    reset.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(f"/reset-password/{token}").status_code == 404
    assert client.get("/reset-password/not-a-token").status_code == 404


def test_a_newer_link_cancels_the_older_one(client, login_as, make, db):
    login_as("admin")
    user = make.user()
    db.session.commit()
    links = []
    for _ in range(2):
        page = client.post_form(f"/accounts/{user.id}/reset-link", token_from=f"/accounts/{user.id}")
        links.append(_LINK_RE.search(page.get_data(as_text=True)).group(1).split("/reset-password/")[1])
    assert client.get(f"/reset-password/{links[0]}").status_code == 404
    assert client.get(f"/reset-password/{links[1]}").status_code == 200


def test_a_password_reset_ends_every_session_of_the_user(app, make, db):
    from app.auth.services import issue_reset_token

    user = make.user()
    db.session.commit()
    victim = app.test_client()
    assert sign_in(victim, user.email).status_code == 302
    with app.test_request_context():
        token = issue_reset_token(user, None)
    db.session.commit()
    path = f"/reset-password/{token}"
    app.test_client().post_form(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, token_from=path)
    assert victim.get("/").status_code == 302


def test_change_own_password_keeps_this_session_and_ends_the_others(app, client, login_as, db):
    user = login_as("manager")
    other_device = app.test_client()
    assert sign_in(other_device, user.email).status_code == 302
    wrong = client.post_form(
        "/account/password",
        {"current": "not my password at all", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        token_from="/account/password",
    )
    assert wrong.status_code == 400 and "current password is not correct" in wrong.get_data(as_text=True)
    ok = client.post_form(
        "/account/password",
        {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        token_from="/account/password",
    )
    assert ok.status_code == 302
    assert client.get("/").status_code == 200
    assert other_device.get("/").status_code == 302
    assert sign_in(app.test_client(), user.email, NEW_PASSWORD).status_code == 302


def test_deactivation_ends_the_sessions_and_blocks_sign_in(app, client, login_as, make, db):
    login_as("admin")
    user = make.user("action_office")
    db.session.commit()
    theirs = app.test_client()
    assert sign_in(theirs, user.email).status_code == 302
    response = client.post_form(f"/accounts/{user.id}/deactivate", token_from=f"/accounts/{user.id}")
    assert response.status_code == 302
    assert theirs.get("/").status_code == 302
    assert sign_in(app.test_client(), user.email).status_code == 400
    assert client.post_form(f"/accounts/{user.id}/reactivate", token_from=f"/accounts/{user.id}").status_code == 302
    assert sign_in(app.test_client(), user.email).status_code == 302
    assert actions(db).count("user.deactivate") == 1 and "user.reactivate" in actions(db)


def test_admin_changes_role_and_office_and_the_user_is_signed_out(app, client, login_as, make, db):
    login_as("admin")
    user = make.user("action_office")
    ice = make.office("ICE")
    db.session.commit()
    theirs = app.test_client()
    sign_in(theirs, user.email)
    response = client.post_form(
        f"/accounts/{user.id}",
        {"name": "Renamed", "role": "manager", "office_id": str(ice.id)},
        token_from=f"/accounts/{user.id}",
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.name, user.role, user.office_id) == ("Renamed", "manager", ice.id)
    assert theirs.get("/").status_code == 302
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.update")).one()
    assert {c[0] for c in event.changes()} == {"name", "role", "office_id"}
    assert "password" not in event.before + event.after


def test_invalid_account_forms_change_nothing(client, login_as, make, db):
    admin = login_as("admin")
    make.user(email="taken@example.gov")
    db.session.commit()
    count = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    for data in (
        {"email": "taken@example.gov", "name": "X", "role": "admin", "office_id": ""},
        {"email": "not an email", "name": "X", "role": "admin", "office_id": ""},
        {"email": "a@example.gov", "name": "X", "role": "king", "office_id": ""},
        {"email": "a@example.gov", "name": "X", "role": "manager", "office_id": ""},
        {"email": "a@example.gov", "name": "X", "role": "manager", "office_id": "99999"},
        {"email": "a@example.gov", "name": "   ", "role": "admin", "office_id": ""},
    ):
        response = client.post_form("/accounts/new", data, token_from="/accounts/new")
        assert response.status_code == 400, data
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == count
    assert (
        client.post_form(
            f"/accounts/{admin.id}", {"name": "Me", "role": "manager", "office_id": ""}, token_from="/accounts"
        ).status_code
        == 400
    )
    assert client.post_form(f"/accounts/{admin.id}/deactivate", token_from="/accounts").status_code == 409
    assert client.get("/accounts/99999").status_code == 404


def test_only_admins_reach_the_account_pages(client, login_as, make, db):
    user = login_as("manager")
    for url in ("/accounts", "/accounts/new", f"/accounts/{user.id}"):
        assert client.get(url).status_code == 403
    assert client.post_form(f"/accounts/{user.id}/reset-link").status_code == 403
    assert "access.denied" in actions(db)


def test_account_list_shows_state(client, login_as, make, db):
    login_as("admin")
    make.user(name="Locked Person", locked_until=utcnow() + timedelta(minutes=5))
    make.user(name="Gone Person", is_active_account=False)
    db.session.commit()
    page = client.get("/accounts").get_data(as_text=True)
    assert "Locked" in page and "Deactivated" in page and "Active" in page


# --- idle deactivation ------------------------------------------------------------


def test_accounts_idle_for_90_days_are_deactivated_by_the_command(app, make, db):
    now = utcnow()
    idle = make.user(last_login_at=now - timedelta(days=91))
    recent = make.user(last_login_at=now - timedelta(days=89))
    never_old = make.user(created_at=now - timedelta(days=120))
    never_new = make.user(created_at=now - timedelta(days=10))
    reactivated = make.user(last_login_at=now - timedelta(days=200), active_changed_at=now - timedelta(days=1))
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["accounts", "deactivate-idle"])
    assert result.exit_code == 0, result.output
    assert "2 idle account(s) deactivated" in result.output
    for user in (idle, recent, never_old, never_new, reactivated):
        db.session.refresh(user)
    assert [idle.is_active, recent.is_active, never_old.is_active, never_new.is_active, reactivated.is_active] == [
        False,
        True,
        False,
        True,
        True,
    ]
    assert "0 idle account(s)" in runner.invoke(args=["accounts", "deactivate-idle"]).output  # safe to rerun
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "user.deactivate")).all()
    assert len(events) == 2 and all("no sign-in for 90 days" in e.after for e in events)


def test_the_scheduled_job_entry_point_commits(app, make, db):
    from app.accounts.services import run_idle_deactivation

    make.user(last_login_at=utcnow() - timedelta(days=100))
    db.session.commit()
    assert run_idle_deactivation() == 1
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.is_active_account.is_(False))) == 1


def test_the_password_link_is_mailed_to_its_owner_when_mail_is_configured(database_template, tmp_path, caplog):
    """A real SMTP server (aiosmtpd) on a free port receives the link; the admin page shows it too."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    from app import create_app
    from app.extensions import db
    from tests.conftest import TrackerClient, _config_for
    from tests.factories import Factory

    received = []

    class Inbox(Message):
        def handle_message(self, message):
            received.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(Inbox(), hostname="127.0.0.1", port=port)
    smtp.start()
    clone, drop = database_template
    url = clone()
    try:

        class MailConfig(_config_for(url, tmp_path)):
            MAIL_SERVER = "127.0.0.1"
            MAIL_PORT = port

        app = create_app(MailConfig)
        app.test_client_class = TrackerClient
        with app.app_context():
            admin = Factory().user("admin")
            db.session.commit()
            client = app.test_client()
            client.post_form("/sign-in", {"email": admin.email, "password": PASSWORD}, token_from="/sign-in")
            page = client.post_form(
                "/accounts/new",
                {"email": "mailed@example.gov", "name": "Mailed Person", "role": "admin", "office_id": ""},
                token_from="/accounts/new",
            )
            assert "It was also emailed to mailed@example.gov" in page.get_data(as_text=True)
            link = _LINK_RE.search(page.get_data(as_text=True)).group(1)
            db.session.remove()
            db.engine.dispose()
    finally:
        smtp.stop()
        drop(url)
    assert len(received) == 1 and received[0]["To"] == "mailed@example.gov"
    assert link in received[0].get_payload(decode=True).decode()
    assert link.rsplit("/", 1)[1] not in caplog.text  # the secret reaches the mailbox, not the log


@pytest.mark.parametrize(
    "password",
    [
        "Password1234567!",
        "iloveyouiloveyou1",
        "PASSWORD!!2026xyz".replace("xyz", "!!!"),
        "Sunshine2024!!!!",
        "qwertyuiop123456",
        "!!Football!!1987",
        "monkeymonkeymonkey7",
    ],
)
def test_breached_passwords_dressed_up_are_refused(password):
    assert "commonly used" in password_problem(password)


@pytest.mark.parametrize(
    "password, email, name",
    [
        ("Whitfield2026!!!!!", "dana.whitfield@example.gov", "Dana Whitfield"),
        ("dana.whitfield1234", "dana.whitfield@example.gov", "Dana Whitfield"),
        ("CorrectiveActionTracker1!", "", ""),
        ("trackertrackertracker!", "", ""),
    ],
)
def test_the_users_own_name_email_and_the_sites_name_are_refused_dressed_up(password, email, name):
    assert "your email address, your name or the name of this site" in password_problem(
        password, email=email, name=name
    )


def test_changing_the_password_to_the_current_one_is_refused(client, db, login_as):
    from tests.factories import PASSWORD

    user = login_as("action_office")
    before = user.password_hash
    response = client.post_form(
        "/account/password",
        {"current": PASSWORD, "password": PASSWORD, "confirm": PASSWORD},
        token_from="/account/password",
    )
    assert response.status_code == 400
    assert "The new password must differ from your current one." in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == before
