"""A restore given a bad backup says why in one line, exits non-zero and leaves the instance as it was."""

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db as _db
from tests.conftest import PG_URL

SQLITE = not PG_URL


@pytest.fixture
def backup(app, db, demo, tmp_path) -> Path:
    """A JSON-lines backup of the demo with one evidence file (the format both databases share)."""
    evidence = Path(app.config["EVIDENCE_DIR"])
    (evidence / "ab").mkdir(parents=True, exist_ok=True)
    (evidence / "ab" / "charter.pdf").write_bytes(b"%PDF-1.4 charter")
    target = tmp_path / "backup"
    result = app.test_cli_runner().invoke(args=["backup", "create", str(target), "--format", "json"])
    assert result.exit_code == 0, result.output
    return target


def _manifest(backup: Path) -> dict:
    return json.loads((backup / "manifest.json").read_text())


def _write_manifest(backup: Path, manifest: dict) -> None:
    (backup / "manifest.json").write_text(json.dumps(manifest))


def _rehash(backup: Path, name: str) -> None:
    """The manifest made to agree with an edited file: a backup edited with care, or made by a faulty version."""
    manifest = _manifest(backup)
    manifest["files"][name] = hashlib.sha256((backup / name).read_bytes()).hexdigest()
    _write_manifest(backup, manifest)


def _edit_rows(backup: Path, table: str, edit: Callable[[list[dict]], list[dict]]) -> None:
    name = f"database/{table}.jsonl"
    path = backup / name
    rows = edit([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()])
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    _rehash(backup, name)
    manifest = _manifest(backup)
    manifest["database"]["row_counts"][table] = len(rows)
    _write_manifest(backup, manifest)


def _state(app) -> tuple:
    """What a failed restore must leave as it found: every table's count, the schema revision, the evidence files."""
    with app.app_context():
        _db.session.remove()
        counts = {
            t.name: _db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in _db.metadata.sorted_tables
        }
        revision = _db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
        _db.session.remove()
    evidence = Path(app.config["EVIDENCE_DIR"])
    files = sorted(p.relative_to(evidence).as_posix() for p in evidence.rglob("*") if p.is_file())
    return counts, revision, files


def _refused(app, backup: Path, *words: str) -> str:
    """Restores ``backup`` onto ``app``: refused, in one line naming ``words``, with nothing changed."""
    before = _state(app)
    assert sum(before[0].values()) == 0 and not before[2]
    with app.app_context():  # the CLI runs on the current app: the test's own one is pushed too
        result = app.test_cli_runner().invoke(args=["backup", "restore", str(backup)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    message = result.output.strip()
    assert message.startswith("Error: ") and "\n" not in message, message
    for word in words:
        assert word in message, message
    assert _state(app) == before
    return message


def _sqlite_file_made_elsewhere(backup: Path, tmp_path: Path) -> Path:
    """On PostgreSQL, which makes no SQLite file: a SQLite-file backup as a SQLite instance of the
    same version would have written it (its evidence and manifest, a database file)."""
    target = tmp_path / "from-sqlite"
    shutil.copytree(backup, target)
    shutil.rmtree(target / "database")
    copy = sqlite3.connect(target / "database.sqlite3")
    with copy:
        copy.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    copy.close()
    manifest = _manifest(target)
    manifest["database"]["format"] = "sqlite"
    manifest["files"] = {name: sha for name, sha in manifest["files"].items() if not name.startswith("database/")}
    _write_manifest(target, manifest)
    _rehash(target, "database.sqlite3")
    return target


@pytest.fixture
def sqlite_file_backup(app, db, demo, backup, tmp_path) -> Path:
    """A SQLite-file backup of the demo: made here on SQLite, on PostgreSQL as a SQLite instance
    would have written it (which a PostgreSQL instance refuses, sound or not)."""
    if not SQLITE:
        return _sqlite_file_made_elsewhere(backup, tmp_path)
    target = tmp_path / "backup-file"
    assert app.test_cli_runner().invoke(args=["backup", "create", str(target)]).exit_code == 0
    return target


ONLY_ONTO_SQLITE = "onto a SQLite instance"


def _restores(app, backup: Path) -> None:
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", "restore", str(backup)])
    assert result.exit_code == 0, result.output


# --- not a backup ---------------------------------------------------------------------


def test_a_directory_that_is_not_a_backup_is_refused(fresh_instance, tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    _refused(fresh_instance, tmp_path / "photos", "no manifest.json")


def test_a_file_instead_of_a_directory_is_refused(fresh_instance, tmp_path):
    (tmp_path / "backup.tar").write_bytes(b"not a directory")
    with fresh_instance.app_context():
        result = fresh_instance.test_cli_runner().invoke(args=["backup", "restore", str(tmp_path / "backup.tar")])
    assert result.exit_code == 2 and "is a file" in result.output, result.output


@pytest.mark.parametrize(
    "text",
    [
        b"{ truncated",
        b"\xff\xfe not text",
        b"[1, 2, 3]",
        b'{"format_version": 1}',
        b'{"format_version": 1, "files": [], "database": {}}',
        b'{"format_version": 1, "created_at": "x", "files": {}, "database": {"format": "xml", "row_counts": {}}}',
    ],
    ids=["truncated-json", "not-utf8", "a-list", "no-files", "wrong-shapes", "unknown-format"],
)
def test_a_manifest_that_cannot_be_read_is_refused(fresh_instance, tmp_path, text):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "manifest.json").write_bytes(text)
    _refused(fresh_instance, tmp_path / "b", "manifest")


def test_a_backup_of_an_unknown_format_version_is_refused(backup, fresh_instance):
    manifest = _manifest(backup)
    manifest["format_version"] = 2
    _write_manifest(backup, manifest)
    _refused(fresh_instance, backup, "unknown backup format 2")


# --- truncated or corrupted -----------------------------------------------------------


def test_a_truncated_table_file_is_refused_by_its_hash(backup, fresh_instance):
    path = backup / "database" / "users.jsonl"
    path.write_bytes(path.read_bytes()[:100])
    _refused(fresh_instance, backup, "database/users.jsonl", "SHA-256")


def test_a_missing_table_file_is_refused(backup, fresh_instance):
    (backup / "database" / "users.jsonl").unlink()
    manifest = _manifest(backup)
    del manifest["files"]["database/users.jsonl"]
    _write_manifest(backup, manifest)
    _refused(fresh_instance, backup, "users.jsonl")


@pytest.mark.parametrize(
    "garbage",
    [b'{"id": 1, "na', b"\xff\xfe\n", b"[1, 2]\n", b'{"no_such_column": 1}\n'],
    ids=["cut-line", "not-utf8", "not-an-object", "unknown-column"],
)
def test_a_corrupted_line_whose_hash_matches_is_refused(backup, fresh_instance, garbage):
    path = backup / "database" / "offices.jsonl"
    path.write_bytes(path.read_bytes() + garbage)
    _rehash(backup, "database/offices.jsonl")
    _refused(fresh_instance, backup, "offices.jsonl")


def test_a_value_of_the_wrong_kind_is_refused(backup, fresh_instance):
    def bad_date(rows):
        rows[0]["current_due_on"] = "the 31st of Febtober"
        return rows

    _edit_rows(backup, "milestones", bad_date)
    _refused(fresh_instance, backup, "milestones.jsonl")


def test_an_unsafe_path_in_the_manifest_changes_nothing(backup, fresh_instance):
    manifest = _manifest(backup)
    manifest["files"]["evidence/../database/users.jsonl"] = manifest["files"]["database/users.jsonl"]
    _write_manifest(backup, manifest)
    _refused(fresh_instance, backup, "unsafe path")


def test_row_counts_that_differ_from_the_manifest_change_nothing(backup, fresh_instance):
    manifest = _manifest(backup)
    manifest["database"]["row_counts"]["users"] += 1
    _write_manifest(backup, manifest)
    _refused(fresh_instance, backup, "row count", "users")


def test_a_corrupted_sqlite_file_whose_hash_matches_is_refused(sqlite_file_backup, fresh_instance):
    target = sqlite_file_backup
    if not SQLITE:
        _refused(fresh_instance, target, ONLY_ONTO_SQLITE)
        return
    (target / "database.sqlite3").write_bytes(b"SQLite format 3\x00" + b"\x00" * 4000)
    _rehash(target, "database.sqlite3")
    _refused(fresh_instance, target, "database.sqlite3")


# --- another schema -------------------------------------------------------------------


@pytest.mark.parametrize("revision", ["0001_older", "9999_newer"])
def test_a_backup_of_another_migration_head_is_refused(backup, fresh_instance, revision):
    manifest = _manifest(backup)
    manifest["database"]["alembic_revision"] = revision
    _write_manifest(backup, manifest)
    _refused(fresh_instance, backup, revision)


@pytest.mark.parametrize("revision", ["0001_older", "9999_newer"])
def test_a_sqlite_file_of_another_migration_head_is_refused(sqlite_file_backup, fresh_instance, revision):
    target = sqlite_file_backup
    if not SQLITE:
        _refused(fresh_instance, target, ONLY_ONTO_SQLITE)
        return
    copy = sqlite3.connect(target / "database.sqlite3")
    with copy:
        copy.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    copy.close()
    manifest = _manifest(target)
    manifest["database"]["alembic_revision"] = revision
    _write_manifest(target, manifest)
    _rehash(target, "database.sqlite3")
    _refused(fresh_instance, target, revision)


# --- rows the schema refuses ----------------------------------------------------------


def test_duplicate_ids_are_refused(backup, fresh_instance):
    _edit_rows(backup, "offices", lambda rows: rows + [rows[0]])
    _refused(fresh_instance, backup, "offices.jsonl")


def test_a_foreign_key_to_a_missing_row_is_refused(backup, fresh_instance):
    def orphan(rows):
        rows[0]["line_of_effort_id"] = 999_999
        return rows

    _edit_rows(backup, "milestones", orphan)
    _refused(fresh_instance, backup, "milestones.jsonl")


@pytest.mark.parametrize("value", ["x" * 201, "Zoë\x00"], ids=["too-long", "nul"])
def test_a_string_postgresql_refuses_is_refused(backup, fresh_instance, value):
    def bad_name(rows):
        rows[0]["name"] = value
        return rows

    _edit_rows(backup, "users", bad_name)
    if SQLITE:  # SQLite keeps a string of any length, and NUL: the row is restored as it was
        _restores(fresh_instance, backup)
        with fresh_instance.app_context():
            assert value in _db.session.scalars(sa.text("SELECT name FROM users")).all()
        return
    _refused(fresh_instance, backup, "users.jsonl")


def test_a_broken_audit_chain_is_refused(backup, fresh_instance):
    def alter(rows):
        rows[1]["after"] = json.dumps({"rewritten": True})
        return rows

    _edit_rows(backup, "audit_events", alter)
    _refused(fresh_instance, backup, "audit chain", "event")


# --- the instance ---------------------------------------------------------------------


def test_a_non_empty_instance_is_refused(backup, app):
    before = _state(app)
    result = app.test_cli_runner().invoke(args=["backup", "restore", str(backup)])
    assert result.exit_code == 1 and "not empty" in result.output, result.output
    assert _state(app) == before


def test_a_refused_restore_can_be_followed_by_a_good_one(backup, fresh_instance, tmp_path):
    good = tmp_path / "good"
    shutil.copytree(backup, good)
    manifest = _manifest(backup)
    manifest["database"]["row_counts"]["users"] += 1
    _write_manifest(backup, manifest)
    _refused(fresh_instance, backup, "row count")
    _restores(fresh_instance, good)
    assert _state(fresh_instance)[0] == _manifest(good)["database"]["row_counts"]


def test_a_sqlite_file_with_an_orphan_row_is_refused(sqlite_file_backup, fresh_instance):
    target = sqlite_file_backup
    if not SQLITE:
        _refused(fresh_instance, target, ONLY_ONTO_SQLITE)
        return
    copy = sqlite3.connect(target / "database.sqlite3")  # foreign keys are off on a plain connection
    with copy:
        copy.execute("UPDATE milestones SET line_of_effort_id = 999999 WHERE id = (SELECT min(id) FROM milestones)")
    copy.close()
    _rehash(target, "database.sqlite3")
    _refused(fresh_instance, target, "milestones", "missing lines_of_effort")
