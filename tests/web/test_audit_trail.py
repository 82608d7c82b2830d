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


@pytest.mark.parametrize(
    "column, value",
    [
        ("after", '{"n": 99}'),
        ("object_id", 424242),
        ("action", "test.innocent"),
    ],
)
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


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET after = '{}' WHERE action = 'recommendation.status'",
        "DELETE FROM audit_events WHERE action = 'recommendation.status'",
    ],
)
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
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "recommendation.status")
        )
        == 1
    )


@pytest.mark.parametrize(
    "column, value",
    [
        ("occurred_at", "not a time"),
        ("occurred_at", "2026-13-45 99:99:99"),
        ("after", ""),
        ("ip", "10.9.8.7"),
        ("actor_id", None),
        ("recommendation_id", None),
        ("object_type", "user"),
        ("prev_hash", "f" * 64),
        ("hash", "e" * 64),
    ],
)
def test_any_altered_column_is_named_with_its_row(app, db, make, column, value):
    rec = make.recommendation()
    actor = make.user("admin")
    events = [record("test.event", rec, after={"n": n}, recommendation_id=rec.id, actor=actor) for n in range(5)]
    db.session.commit()
    target = events[2].id
    if column == "occurred_at" and db.engine.dialect.name == "postgresql":
        value = "1999-01-01 00:00:00+00"  # PostgreSQL refuses a time it cannot read; any other time will do
    _disable_guard(db, "update")
    db.session.execute(sa.text(f"UPDATE audit_events SET {column} = :v WHERE id = :id"), {"v": value, "id": target})
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    named = f"audit chain broken at event {target} (audit_events row id={target}"
    if column == "hash":  # the row's own hash no longer matches, so that row is named
        assert named in result.output
    else:
        assert named in result.output, result.output
    assert "altered" in result.output


# --- checkpoints ---------------------------------------------------------------------


def _events(db, make, n: int) -> list[int]:
    rec = make.recommendation()
    ids = [record("test.event", rec, after={"n": i}, recommendation_id=rec.id).id for i in range(n)]
    db.session.commit()
    return ids


def test_a_checkpoint_is_signed_appended_and_logged(app, db, make, caplog):
    ids = _events(db, make, 3)
    runner = app.test_cli_runner()
    with caplog.at_level("INFO", logger="app.checkpoints"):
        first = runner.invoke(args=["audit", "checkpoint"])
    assert first.exit_code == 0 and f"checkpoint: event {ids[-1]}" in first.output
    assert f'"id": {ids[-1]}' in caplog.text
    _events(db, make, 2)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    lines = open(app.config["AUDIT_CHECKPOINT_FILE"]).read().splitlines()
    assert len(lines) == 2 and f'"id": {ids[-1]}' in lines[0]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "agrees with 2 checkpoints" in result.output, result.output


def test_verify_names_the_missing_tail_after_truncation(app, db, make):
    ids = _events(db, make, 6)
    assert app.test_cli_runner().invoke(args=["audit", "checkpoint"]).exit_code == 0
    _disable_guard(db, "delete")
    db.session.execute(sa.text("DELETE FROM audit_events WHERE id >= :id"), {"id": ids[3]})
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"audit chain broken at event {ids[-1]}" in result.output
    assert f"the chain ends at event {ids[2]}" in result.output and "newest rows were removed" in result.output


def test_verify_names_a_chain_rebuilt_after_its_checkpoint(app, db, make):
    ids = _events(db, make, 4)
    assert app.test_cli_runner().invoke(args=["audit", "checkpoint"]).exit_code == 0
    # An attacker rewrites the newest row and recomputes its hash: the chain alone looks intact.
    _disable_guard(db, "update")
    event = db.session.get(AuditEvent, ids[-1])
    forged_after = '{"n": 42}'
    event_hash = AuditEvent(
        occurred_at=event.occurred_at,
        prev_hash=event.prev_hash,
        actor_id=event.actor_id,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        recommendation_id=event.recommendation_id,
        before=event.before,
        after=forged_after,
        ip=event.ip,
    ).compute_hash()
    db.session.execute(
        sa.text("UPDATE audit_events SET after = :a, hash = :h WHERE id = :id"),
        {"a": forged_after, "h": event_hash, "id": ids[-1]},
    )
    db.session.commit()
    db.session.expire_all()
    from app.audit import verify_chain

    assert verify_chain() is None  # without checkpoints nothing can tell
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"audit chain broken at event {ids[-1]}" in result.output and "differs from the checkpoint" in result.output


def test_verify_names_a_checkpoint_with_a_bad_signature(app, db, make):
    _events(db, make, 2)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    path = app.config["AUDIT_CHECKPOINT_FILE"]
    line = open(path).read().replace('"hash": "', '"hash": "0', 1)[:-1]
    with open(path, "a") as f:
        f.write(line.replace('"at": "', '"at": "x', 1) + "\n" + "not json\n")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "line 2 (checkpoint of x" in result.output and "bad signature" in result.output
    assert "line 3 cannot be read" in result.output


def test_a_checkpoint_under_another_key_is_refused(app, db, make):
    _events(db, make, 2)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    app.config["AUDIT_CHECKPOINT_KEY"] = "another key"
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "line 1 " in result.output and "bad signature" in result.output


def test_the_key_defaults_to_a_generated_file_under_instance(app, tmp_path, db, make):
    from app.checkpoints import checkpoint_key

    app.config["AUDIT_CHECKPOINT_KEY"] = None
    app.instance_path = str(tmp_path / "instance")
    (tmp_path / "instance").mkdir()
    key = checkpoint_key()
    assert len(key) == 64 and checkpoint_key() == key
    assert oct((tmp_path / "instance" / "audit_checkpoint_key").stat().st_mode & 0o777) == "0o600"


def test_the_scheduler_writes_a_checkpoint_at_start_and_every_hour(app, db, make):
    from app.reminders.cli import build_scheduler, checkpoint_job

    jobs = {job.id: job for job in build_scheduler(app).get_jobs()}
    job = jobs["audit.checkpoint"]
    assert job.trigger.interval.total_seconds() == 3600 and job.next_run_time is not None
    ids = _events(db, make, 1)
    checkpoint_job(app)
    assert f'"id": {ids[0]}' in open(app.config["AUDIT_CHECKPOINT_FILE"]).read()
