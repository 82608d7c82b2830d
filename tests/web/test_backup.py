"""Backup then restore onto a fresh, empty instance: every table's rows and every evidence file come back."""

import hashlib
import json
import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db as _db
from tests.conftest import PG_URL
from tests.factories import PASSWORD

SQLITE = not PG_URL


def table_counts(db) -> dict[str, int]:
    return {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def evidence_hashes(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in directory.rglob("*")
        if p.is_file()
    }


def assert_fresh_statistics(db) -> None:
    """A bulk load ended with fresh planner statistics: VACUUM (ANALYZE) on PostgreSQL (both
    stamps set on a table it loaded), ANALYZE on SQLite."""
    if db.engine.dialect.name == "postgresql":
        vacuumed, analyzed = db.session.execute(
            sa.text("SELECT last_vacuum, last_analyze FROM pg_stat_user_tables WHERE relname = 'milestones'")
        ).one()
        assert vacuumed is not None and analyzed is not None
    else:
        assert db.session.scalar(sa.text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'milestones'")) > 0


def assert_counters_rebuilt(db) -> None:
    """The dashboards' counters (made by migrations, left out of a backup) were filled again by
    their triggers as the recommendations came back: each equals a count of them."""
    totals: dict[tuple[int, str], int] = {}
    for office, status, n in db.session.execute(sa.text(_BY_OFFICE_STATUS)):
        totals[office, status] = n
        totals[0, status] = totals.get((0, status), 0) + n
    kept = sa.text("SELECT office_id, status, recommendations FROM recommendation_totals WHERE recommendations <> 0")
    days = sa.text("SELECT office_id, status, sum(recommendations) FROM recommendation_days GROUP BY office_id, status")
    assert totals and {(o, s): n for o, s, n in db.session.execute(kept)} == totals
    assert {(o, s): n for o, s, n in db.session.execute(days) if n} == totals


_BY_OFFICE_STATUS = "SELECT action_office_id, status, count(*) FROM recommendations GROUP BY action_office_id, status"


def _with_evidence(app, make, db):
    evidence = Path(app.config["EVIDENCE_DIR"])
    (evidence / "ab" / "cd").mkdir(parents=True)
    (evidence / "ab" / "cd" / "charter.pdf").write_bytes(b"%PDF-1.4 signed charter\x00\xff" * 500)
    (evidence / "standard-v1.docx").write_bytes(os.urandom(200_000))
    make.user("manager", name="Zoë Ünicode 東京")
    db.session.commit()


@pytest.mark.parametrize("fmt", ["auto", "json"] if SQLITE else ["auto"])
def test_backup_then_restore_brings_every_row_and_file_back(app, db, demo, make, fresh_instance, tmp_path, fmt):
    _with_evidence(app, make, db)
    counts, hashes = table_counts(db), evidence_hashes(Path(app.config["EVIDENCE_DIR"]))
    assert (
        counts["users"] >= 5 and counts["audit_events"] > 0 and {"ab/cd/charter.pdf", "standard-v1.docx"} <= set(hashes)
    )

    backup = tmp_path / "backup"
    result = app.test_cli_runner().invoke(args=["backup", "create", str(backup), "--format", fmt])
    assert result.exit_code == 0, result.output
    manifest = json.loads((backup / "manifest.json").read_text())
    assert set(manifest["files"]) == {
        p.relative_to(backup).as_posix() for p in backup.rglob("*") if p.is_file() and p.name != "manifest.json"
    }
    assert not list(backup.glob("*-wal")) and not list(backup.glob("*-shm"))
    assert manifest["database"]["row_counts"] == counts
    assert manifest["database"]["format"] == ("sqlite" if SQLITE and fmt == "auto" else "json")
    assert {
        name[len("evidence/") :]: h for name, h in manifest["files"].items() if name.startswith("evidence/")
    } == hashes

    with fresh_instance.app_context():
        assert sum(table_counts(_db).values()) == 0
        result = fresh_instance.test_cli_runner().invoke(args=["backup", "restore", str(backup)])
        assert result.exit_code == 0, result.output
        _db.session.remove()
        assert table_counts(_db) == counts
        assert evidence_hashes(Path(fresh_instance.config["EVIDENCE_DIR"])) == hashes
        assert_fresh_statistics(_db)  # the restore ended with VACUUM (ANALYZE) / ANALYZE
        assert_counters_rebuilt(_db)
        verify = fresh_instance.test_cli_runner().invoke(args=["audit", "verify"])
        assert verify.exit_code == 0 and "intact" in verify.output, verify.output
        # The restored instance works: new rows get new ids, sign-in works.
        client = fresh_instance.test_client()
        token_page = client.get("/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', token_page).group(1)
        response = client.post(
            "/sign-in", data={"email": "policy@example.gov", "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302


def test_restore_refuses_a_tampered_backup_and_a_non_empty_instance(app, db, demo, make, tmp_path):
    _with_evidence(app, make, db)
    backup = tmp_path / "backup"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", "create", str(backup)]).exit_code == 0
    assert "not empty" in runner.invoke(args=["backup", "create", str(backup)]).output

    not_empty = runner.invoke(args=["backup", "restore", str(backup)])
    assert not_empty.exit_code != 0 and "not empty" in not_empty.output

    (backup / "evidence" / "standard-v1.docx").write_bytes(b"swapped")
    tampered = runner.invoke(args=["backup", "restore", str(backup)])
    assert tampered.exit_code != 0 and "SHA-256" in tampered.output


def test_backup_files_are_private(app, db, demo, make, tmp_path):
    _with_evidence(app, make, db)
    backup = tmp_path / "backup"
    assert app.test_cli_runner().invoke(args=["backup", "create", str(backup)]).exit_code == 0
    for path in [backup, *backup.rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, path
