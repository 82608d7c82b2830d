"""Create and restore backups. See app/backup/__init__.py and the README for the format."""

import base64
import hashlib
import json
import os
import shutil
import sqlite3
from datetime import date, datetime, time
from decimal import Decimal
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import sqlalchemy as sa
from flask import current_app

from app import audit
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
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:  # not JSON, or not UTF-8
        raise BackupError(f"{path} cannot be read ({_first_line(error)}): the manifest is damaged") from None
    if isinstance(manifest, dict) and manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"unknown backup format {manifest.get('format_version')!r}")
    problem = _manifest_problem(manifest)
    if problem:
        raise BackupError(f"{path} is not a backup manifest this application can read: {problem}")
    return manifest


def _manifest_problem(manifest) -> str | None:
    """Why ``manifest`` is not one ``create_backup`` writes, or None."""
    if not isinstance(manifest, dict):
        return "not a JSON object"
    files, database = manifest.get("files"), manifest.get("database")
    if not isinstance(manifest.get("created_at"), str):
        return "no created_at"
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        return "files is not a table of names and SHA-256s"
    if not isinstance(database, dict):
        return "no database section"
    if database.get("format") not in ("sqlite", "json"):
        return f"unknown database format {database.get('format')!r}"
    if not isinstance(database.get("alembic_revision", ""), str | None):
        return "the alembic revision is not a string"
    counts = database.get("row_counts")
    if not isinstance(counts, dict) or not all(type(n) is int for n in counts.values()):
        return "row_counts is not a table of counts"
    for name in files:
        parts = PurePosixPath(name).parts
        if not parts or name.startswith("/") or "\\" in name or any(p in (".", "..") for p in name.split("/")):
            return f"unsafe path {name!r}"
    return None


def _first_line(error: BaseException) -> str:
    """An error's message without a driver's detail lines or SQLAlchemy's statement dump."""
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error).strip()
    return text.splitlines()[0] if text else type(error).__name__


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
    if manifest["database"]["format"] == "sqlite":
        needed = [SQLITE_FILE]
    else:
        needed = [f"{JSON_DIR}/{t.name}.jsonl" for t in _tables()]
    missing = [name for name in needed if name not in listed]
    if missing:
        raise BackupError(f"the backup has no {', '.join(missing[:5])}: it is incomplete")


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
    """Check the backup, then load it onto this (empty) instance. Returns the manifest.

    All or nothing: the rows are loaded and checked (schema revision, row counts, foreign keys,
    the audit chain) and the evidence files copied before anything is kept; a backup refused at
    any step leaves the database and the evidence directory as they were.
    """
    source = Path(source)
    manifest = read_manifest(source)
    verify_backup(source, manifest)
    _require_empty_instance()
    db.session.remove()
    with db.engine.connect() as connection:
        revision = _alembic_revision(connection)
    wanted = manifest["database"]["alembic_revision"]
    if revision != wanted:
        raise BackupError(
            f"the database schema is at {revision!r}, the backup at {wanted!r}: "
            "restore it with the application version that made it, on an instance migrated to that revision"
        )
    if manifest["database"]["format"] == "sqlite":
        _restore_sqlite(source / SQLITE_FILE, manifest)
    else:
        _restore_json(source / JSON_DIR, manifest)
    refresh_statistics()  # a restored database is not slow until autovacuum comes by
    return manifest


def _check_restored(manifest: dict) -> None:
    """The loaded rows, seen through ``db.session`` before they are kept, are the backup's."""
    counts = row_counts(db.session.connection())
    expected = manifest["database"]["row_counts"]
    differ = sorted(name for name in counts.keys() | expected.keys() if counts.get(name) != expected.get(name))
    if differ:
        name = differ[0]
        raise BackupError(
            f"row counts differ from the manifest ({name}: {counts.get(name)} loaded, "
            f"{expected.get(name)} in the manifest{', and more' if len(differ) > 1 else ''})"
        )
    broken = audit.verify_chain()
    if broken:
        event_id, why = broken
        raise BackupError(f"the backup's audit chain is broken at event {event_id}: {why}")


def _restore_sqlite(backup_file: Path, manifest: dict) -> None:
    if db.engine.dialect.name != "sqlite":
        raise BackupError("this backup is a SQLite file; restore it onto a SQLite instance")
    try:
        source = sqlite3.connect(f"{backup_file.resolve().as_uri()}?mode=ro", uri=True)
        try:
            check = source.execute("PRAGMA quick_check").fetchall()
            revision = source.execute("SELECT version_num FROM alembic_version").fetchone()
            orphans = source.execute("PRAGMA foreign_key_check").fetchone()
        finally:
            source.close()
    except sqlite3.Error as error:
        raise BackupError(f"{SQLITE_FILE} is not a usable SQLite database: {error}") from None
    if check != [("ok",)]:
        raise BackupError(f"{SQLITE_FILE} is damaged: {check[0][0]}")
    wanted = manifest["database"]["alembic_revision"]
    if (revision[0] if revision else None) != wanted:
        raise BackupError(
            f"{SQLITE_FILE} is at schema revision {revision and revision[0]!r}, its manifest says {wanted!r}"
        )
    if orphans:
        raise BackupError(
            f"{SQLITE_FILE}: a row of {orphans[0]} (rowid {orphans[1]}) refers to a missing {orphans[2]} row"
        )
    db.engine.dispose()
    with db.engine.connect() as connection:
        target = connection.connection.driver_connection
        assert target is not None  # a live connection has its driver's
        # The empty instance, kept aside: put back if the restored copy is refused.
        saved = sqlite3.connect(":memory:")
        try:
            target.backup(saved)
            source = sqlite3.connect(f"{backup_file.resolve().as_uri()}?mode=ro", uri=True)
            try:
                source.backup(target)
            finally:
                source.close()
            db.engine.dispose()
            try:
                _check_restored(manifest)
                db.session.rollback()
                _restore_evidence(backup_file.parent / EVIDENCE, manifest)
            except BaseException:
                db.session.remove()
                db.engine.dispose()
                saved.backup(target)
                raise
        finally:
            saved.close()
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
        return lambda text: base64.b64decode(text, validate=True)
    return None


def _read_rows(path: Path, table: sa.Table) -> Iterator[tuple[int, dict]]:
    """``path``'s rows, converted for ``table``, with their line numbers; a line that is not one
    of ``table``'s rows raises BackupError naming it."""
    converters = {c.name: f for c in table.columns if (f := _from_json(c)) is not None}
    columns = {c.name for c in table.columns}
    required = {c.name for c in table.primary_key.columns}
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            where = f"{path.name} line {number}"
            try:
                row = json.loads(raw.decode("utf-8"))
                if not isinstance(row, dict):
                    raise BackupError(f"{where} is not a row (a JSON object)")
                unknown = set(row) - columns
                if unknown:
                    raise BackupError(f"{where} has columns {table.name} does not: {sorted(unknown)[:5]}")
                if required - set(row):
                    raise BackupError(f"{where} has no {', '.join(sorted(required - set(row)))}")
                for name, convert in converters.items():
                    if row.get(name) is not None:
                        row[name] = convert(row[name])
            except (ValueError, TypeError, ArithmeticError) as error:  # JSON, UTF-8, dates, base64, decimals
                raise BackupError(f"{where} cannot be read: {_first_line(error)}") from None
            yield number, row


def _restore_json(directory: Path, manifest: dict) -> None:
    connection = db.session.connection()
    try:
        for table in _tables():
            batch: list[dict] = []
            first = 1
            for number, row in _read_rows(directory / f"{table.name}.jsonl", table):
                batch.append(row)
                if len(batch) == 1000:
                    _insert(connection, table, batch, first, number)
                    batch, first = [], number + 1
            if batch:
                _insert(connection, table, batch, first, first + len(batch) - 1)
        if connection.dialect.name == "postgresql":
            _reset_sequences(connection)
        _check_restored(manifest)
        _restore_evidence(directory.parent / EVIDENCE, manifest)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def _insert(connection, table: sa.Table, rows: list[dict], first: int, last: int) -> None:
    try:
        connection.execute(table.insert(), rows)
    except sa.exc.SQLAlchemyError as error:  # a row the schema refuses: a duplicate, an orphan, too long, a NUL
        lines = f"line {first}" if first == last else f"lines {first}-{last}"
        raise BackupError(f"{table.name}.jsonl {lines} refused by the database: {_first_line(error)}") from None


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
    """Copy the evidence files; on any failure remove the ones copied (the directory had none)."""
    target = _evidence_dir()
    written: list[Path] = []
    try:
        for name in manifest["files"]:
            if not name.startswith(EVIDENCE + "/"):
                continue
            relative = Path(name).relative_to(EVIDENCE)
            if not is_stored_file(relative):
                continue  # a half-written upload carried by a backup made before they were left out
            out = target / relative
            out.parent.mkdir(parents=True, exist_ok=True)
            written.append(out)
            shutil.copy2(directory / relative, out)
            if sha256_file(out) != manifest["files"][name]:
                raise BackupError(f"{out} does not match its SHA-256 after copying")
    except BaseException as error:
        for path in written:
            path.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise BackupError(f"cannot copy the evidence files into {target}: {error}") from None
        raise
