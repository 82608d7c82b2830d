import sqlalchemy as sa

from app.audit import AuditEvent
from app.auth.models import User
from app.milestones.models import Milestone
from app.recommendations.models import LineOfEffort, Recommendation
from app.reports.models import Report


def _counts(db):
    return {
        m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (User, Report, Recommendation, LineOfEffort, Milestone, AuditEvent)
    }


def test_seed_demo_twice_changes_nothing(app, db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "a demo password of some length")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    after_first = _counts(db)
    assert after_first["User"] == 4 and after_first["Milestone"] == 12 and after_first["LineOfEffort"] == 3
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert _counts(db) == after_first


def test_seed_demo_without_password_prints_a_generated_one_once(app, db, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    line = [text for text in first.output.splitlines() if text.startswith("Demo password")][0]
    password = line.rsplit(": ", 1)[1]
    user = db.session.scalar(sa.select(User).where(User.email == "policy@example.gov"))
    assert user.check_password(password)
    assert "Demo password" not in runner.invoke(args=["seed-demo"]).output


def test_users_create_reads_the_password_from_stdin(app, db, make):
    make.office("DHS-PLCY")
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            "new@example.gov",
            "--name",
            "New Person",
            "--role",
            "manager",
            "--office",
            "DHS-PLCY",
            "--password-stdin",
        ],
        input="a long enough passphrase\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "new@example.gov"))
    assert user.role == "manager" and user.office.code == "DHS-PLCY"
    assert user.check_password("a long enough passphrase")


def test_users_create_refuses_bad_input(app, db):
    runner = app.test_cli_runner()
    bad_role = runner.invoke(
        args=["users", "create", "--email", "a@example.gov", "--name", "A", "--role", "king", "--password-stdin"],
        input="a long enough passphrase\n",
    )
    assert bad_role.exit_code != 0
    bad_office = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "a@example.gov",
            "--name",
            "A",
            "--role",
            "manager",
            "--office",
            "NOPE",
            "--password-stdin",
        ],
        input="a long enough passphrase\n",
    )
    assert bad_office.exit_code != 0 and "no office" in bad_office.output
    short = runner.invoke(
        args=["users", "create", "--email", "a@example.gov", "--name", "A", "--role", "admin", "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code != 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_audit_verify_passes_on_an_untouched_chain(app, demo):
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
