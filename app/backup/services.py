"""Create and restore backups. See app/backup/__init__.py and the README for the format."""

import base64
import hashlib
import json
import os
import shutil
import sqlite3
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from app.dbtypes import refresh_statistics
from app.extensions import db
from app.timeutil import utcnow

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
JSON_DIR = "database"
EVIDENCE = "evidence"
FORMAT_VERSION = 1
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _tables() -> list[sa.Table]:
    return list(db.metadata.sorted_tables)


def row_counts(connection) -> dict[str, int]:
    return {t.name: connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in _tables()}


def _alembic_revision(connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _evidence_dir() -> Path:
    return Path(current_app.config["EVIDENCE_DIR"])


def _new_backup_dir(target: Path) -> None:
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: a backup goes into a new directory")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)


# --- create -------------------------------------------------------------------------


def create_backup(target: Path, fmt: str = "auto") -> dict:
    """Write a consistent snapshot of the database, then the evidence files, then the manifest.

    The database goes first: evidence files are never changed or deleted (a new version is a new
    file), so every file the snapshot refers to already exists when the files are copied after it.
    """
    target = Path(target)
    dialect = db.engine.dialect.name
    if fmt == "auto":
        fmt = "sqlite" if dialect == "sqlite" else "json"
    if fmt == "sqlite" and dialect != "sqlite":
        raise BackupError("the sqlite format needs a SQLite database; use --format json")
    previous_umask = os.umask(0o077)  # every record is in there: readable by its owner only
    try:
        _new_backup_dir(target)
        db.session.remove()
        if fmt == "sqlite":
            counts, revision = _dump_sqlite(target / SQLITE_FILE)
        else:
            counts, revision = _dump_json(target / JSON_DIR)
        files = {}
        for path in sorted(p for p in target.rglob("*") if p.is_file()):
            files[path.relative_to(target).as_posix()] = sha256_file(path)
        files.update(_copy_evidence(_evidence_dir(), target / EVIDENCE))
        manifest = {
            "format_version": FORMAT_VERSION,
            "created_at": utcnow().isoformat(),
            "database": {"format": fmt, "dialect": dialect, "alembic_revision": revision, "row_counts": counts},
            "files": files,
        }
        (target / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    finally:
        os.umask(previous_umask)
    return manifest


def _dump_sqlite(destination: Path) -> tuple[dict, str | None]:
    # SQLite's online backup API copies a consistent image page by page, WAL included,
    # while the application keeps reading and writing.
    with db.engine.connect() as connection:
        source = connection.connection.driver_connection
        assert source is not None  # a live connection has its driver's
        copy = sqlite3.connect(destination)
        try:
            source.backup(copy)
            # A self-contained file: no -wal or -shm beside it whose bytes change when it is opened.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    engine = sa.create_engine(f"sqlite:///file:{destination}?mode=ro&uri=true", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return row_counts(connection), _alembic_revision(connection)
    finally:
        engine.dispose()


def _to_json(value):
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    return value


def _dump_json(directory: Path) -> tuple[dict, str | None]:
    directory.mkdir(mode=0o700)
    counts = {}
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # One snapshot for every table: rows written meanwhile are in no table or all of them.
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SET TRANSACTION READ ONLY"))
            revision = _alembic_revision(connection)
            for table in _tables():
                n = 0
                order = list(table.primary_key.columns) or list(table.columns)
                result = connection.execution_options(yield_per=1000).execute(sa.select(table).order_by(*order))
                with open(directory / f"{table.name}.jsonl", "w", encoding="utf-8") as f:
                    for row in result.mappings():
                        f.write(json.dumps({k: _to_json(v) for k, v in row.items()}, ensure_ascii=False))
                        f.write("\n")
                        n += 1
                counts[table.name] = n
    return counts, revision


def is_stored_file(relative: Path) -> bool:
    """A stored evidence file (``<2 hex>/<key>``), not the upload area (``.incoming/*.part``) or a stray dotfile."""
    return not any(part.startswith(".") for part in relative.parts) and relative.suffix != ".part"


def _copy_evidence(source: Path, destination: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    if not source.exists():
        return files
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source)
        if not is_stored_file(relative):
            continue  # the upload area: files being written, not evidence yet
        out = destination / relative
        out.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        digest = hashlib.sha256()
        try:
            with open(path, "rb") as f, open(out, "wb") as g:
                for chunk in iter(lambda: f.read(_CHUNK), b""):
                    digest.update(chunk)
                    g.write(chunk)
            stat = path.stat()
        except FileNotFoundError:
            # Unlinked while we listed: a file saved by an upload whose commit then failed, never a record.
            out.unlink(missing_ok=True)
            continue
        os.utime(out, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        files[f"{EVIDENCE}/{relative.as_posix()}"] = digest.hexdigest()
    return files


# --- restore ------------------------------------------------------------------------


def read_manifest(source: Path) -> dict:
    path = Path(source) / MANIFEST
    if not path.is_file():
        raise BackupError(f"{source} has no {MANIFEST}: not a backup made by this application")
    manifest = json.loads(path.read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"unknown backup format {manifest.get('format_version')!r}")
    return manifest


def verify_backup(source: Path, manifest: dict) -> None:
    """Every file the manifest lists is there with its SHA-256; nothing else is."""
    source = Path(source)
    listed = set(manifest["files"])
    present = {p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()} - {MANIFEST}
    if present - listed:
        raise BackupError(f"files not in the manifest: {sorted(present - listed)[:5]}")
    for name, expected in manifest["files"].items():
        path = source / name
        if not path.is_file():
            raise BackupError(f"{name} is missing from the backup")
        if sha256_file(path) != expected:
            raise BackupError(f"{name} does not match its SHA-256 in the manifest")


def _require_empty_instance() -> None:
    with db.engine.connect() as connection:
        inspector = sa.inspect(connection)
        nonempty = [
            t.name
            for t in _tables()
            if inspector.has_table(t.name)
            and connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        ]
    if nonempty:
        raise BackupError(
            f"the database is not empty ({', '.join(nonempty[:5])} have rows): restore onto a new, empty instance"
        )
    evidence = _evidence_dir()
    if evidence.exists() and any(p.is_file() for p in evidence.rglob("*")):
        raise BackupError(f"the evidence directory {evidence} is not empty")


def restore_backup(source: Path) -> dict:
    """Check the backup, then load it onto this (empty) instance. Returns the manifest."""
    source = Path(source)
    manifest = read_manifest(source)
    verify_backup(source, manifest)
    _require_empty_instance()
    db.session.remove()
    fmt = manifest["database"]["format"]
    if fmt == "sqlite":
        _restore_sqlite(source / SQLITE_FILE)
    else:
        _restore_json(source / JSON_DIR, manifest)
    _restore_evidence(source / EVIDENCE, manifest)
    refresh_statistics()  # a restored database is not slow until autovacuum comes by
    with db.engine.connect() as connection:
        counts = row_counts(connection)
    if counts != manifest["database"]["row_counts"]:
        raise BackupError(f"row counts after restore differ from the manifest: {counts}")
    return manifest


def _restore_sqlite(backup_file: Path) -> None:
    if db.engine.dialect.name != "sqlite":
        raise BackupError("this backup is a SQLite file; restore it onto a SQLite instance")
    db.engine.dispose()
    with db.engine.connect() as connection:
        target = connection.connection.driver_connection
        assert target is not None  # a live connection has its driver's
        source = sqlite3.connect(f"{backup_file.resolve().as_uri()}?mode=ro", uri=True)
        try:
            source.backup(target)
        finally:
            source.close()
    db.engine.dispose()


def _from_json(column: sa.Column):
    type_ = column.type
    if isinstance(type_, sa.types.TypeDecorator):
        type_ = type_.impl_instance
    try:
        kind = type_.python_type
    except NotImplementedError:  # a SQLAlchemy type with no Python equivalent: restored as stored
        return None
    if kind is datetime:
        return datetime.fromisoformat
    if kind is date:
        return date.fromisoformat
    if kind is time:
        return time.fromisoformat
    if kind is Decimal:
        return Decimal
    if kind is bytes:
        return base64.b64decode
    return None


def _restore_json(directory: Path, manifest: dict) -> None:
    with db.engine.begin() as connection:
        revision = _alembic_revision(connection)
        wanted = manifest["database"]["alembic_revision"]
        if revision != wanted:
            raise BackupError(
                f"the database schema is at {revision!r}, the backup at {wanted!r}: "
                "run `flask --app wsgi db upgrade` to the backup's revision first"
            )
        for table in _tables():
            converters = {c.name: f for c in table.columns if (f := _from_json(c)) is not None}
            batch = []
            with open(directory / f"{table.name}.jsonl", encoding="utf-8") as f:
                for line in f:
                    row = json.loads(line)
                    for name, convert in converters.items():
                        if row.get(name) is not None:
                            row[name] = convert(row[name])
                    batch.append(row)
                    if len(batch) == 1000:
                        connection.execute(table.insert(), batch)
                        batch = []
            if batch:
                connection.execute(table.insert(), batch)
        if connection.dialect.name == "postgresql":
            _reset_sequences(connection)


def _reset_sequences(connection) -> None:
    """Rows came with their ids: move each id sequence past the largest one."""
    for table in _tables():
        for column in table.primary_key.columns:
            if not column.autoincrement or not isinstance(column.type, sa.Integer):
                continue
            highest = connection.execute(sa.select(sa.func.max(column))).scalar()
            if highest is None:
                continue
            connection.execute(
                sa.text("SELECT setval(pg_get_serial_sequence(:table, :column), :value)"),
                {"table": table.name, "column": column.name, "value": highest},
            )


def _restore_evidence(directory: Path, manifest: dict) -> None:
    target = _evidence_dir()
    for name in manifest["files"]:
        if not name.startswith(EVIDENCE + "/"):
            continue
        relative = Path(name).relative_to(EVIDENCE)
        if relative.is_absolute() or ".." in relative.parts:
            raise BackupError(f"unsafe path in the manifest: {name}")
        if not is_stored_file(relative):
            continue  # a half-written upload carried by a backup made before they were left out
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(directory / relative, out)
        if sha256_file(out) != manifest["files"][name]:
            raise BackupError(f"{out} does not match its SHA-256 after copying")
