"""The audit trail: a row altered or removed outside the app is named by `flask audit verify`."""
import pytest
import sqlalchemy as sa

from app.audit import AuditEvent, record


def _disable_guard(db, verb: str) -> None:
    """What an attacker with database access would do first: switch off the append-only trigger."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"))
    else:
        db.session.execute(sa.text(f"DROP TRIGGER audit_events_no_{verb}"))
    db.session.commit()


@pytest.fixture
def trail(db, make):
    rec = make.recommendation()
    events = [record("test.event", rec, after={"n": n}, recommendation_id=rec.id) for n in range(5)]
    db.session.commit()
    return [e.id for e in events]


def test_an_untouched_trail_verifies(app, trail):
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact: 5 events" in result.output


@pytest.mark.parametrize("column, value", [
    ("after", '{"n": 99}'),
    ("object_id", 424242),
    ("action", "test.innocent"),
])
def test_altering_a_row_makes_verify_fail_naming_that_row(app, db, trail, column, value):
    target = trail[2]
    _disable_guard(db, "update")
    db.session.execute(sa.text(f"UPDATE audit_events SET {column} = :v WHERE id = :id"), {"v": value, "id": target})
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"audit chain broken at event {target} (audit_events row id={target}, " in result.output
    assert "altered" in result.output


def test_removing_a_row_makes_verify_fail_naming_the_next_row(app, db, trail):
    _disable_guard(db, "delete")
    db.session.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": trail[1]})
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"audit chain broken at event {trail[2]} " in result.output and "removed" in result.output


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET after = '{}' WHERE action = 'recommendation.status'",
    "DELETE FROM audit_events WHERE action = 'recommendation.status'",
])
def test_the_database_refuses_to_rewrite_a_status_change(app, db, make, statement):
    from app.recommendations.services import change_status

    rec = make.recommendation()
    reviewer = make.user("oig_reviewer")
    with app.test_request_context():
        change_status(rec, "resolved_open", "Plan accepted", reviewer)
    db.session.commit()
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.text(statement))
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "recommendation.status")) == 1
