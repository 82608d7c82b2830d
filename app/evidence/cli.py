"""``flask --app wsgi evidence verify``: re-hash every stored file; report (and with ``--clean``
remove) partial uploads and stored files that belong to no record."""

import sys

import click
from flask.cli import AppGroup

from app import audit
from app.evidence import extract, services
from app.evidence.storage import STALE_SECONDS, get_storage
from app.extensions import db

evidence_cli = AppGroup("evidence", help="Evidence files.")


def _age(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{int(seconds // 60)} min"


def _ages(storage, keys):
    """Each stored file of ``keys`` with its age (one removed meanwhile is passed over)."""
    for key in keys:
        try:
            yield key, storage.age(key)
        except FileNotFoundError:
            continue


def _sweep(files, heading: str, folder: str, notes: tuple[str, str], remove=None) -> list[str]:
    """Name each (name, age) of ``files`` with its age and ``notes`` (why an old one is left over,
    why a young one is kept); ``remove`` (with --clean) those older than an hour. The names removed."""
    removed = []
    for name, age in files:
        stale = age >= STALE_SECONDS
        path = folder + name
        click.echo(f"{heading}: {path}, {_age(age)} old " + (notes[0] if stale else notes[1]))
        if remove is not None and stale:
            click.echo(f"  removing {path}")
            remove(name)
            removed.append(name)
    return removed


@evidence_cli.command("verify")
@click.option(
    "--clean", is_flag=True, help="Remove partial uploads and stored files without a record, once older than an hour."
)
def verify(clean):
    """Re-hash every stored evidence file; exit 1 naming each missing or altered one."""
    storage = get_storage()
    check = services.verify_all(storage)
    db.session.commit()
    for p in check.problem_list:
        click.echo(
            f"{p['problem'].upper()}: {p['storage_key']} ({p['filename']}, evidence item {p['item_id']}, "
            f"version record {p['version_id']})",
            err=True,
        )
    removed = {
        "partial": _sweep(
            storage.partial_files(),
            "partial upload",
            ".incoming/",
            ("(an upload cut off by a crash)", "(may be an upload still running; kept)"),
            storage.remove_partial if clean else None,
        ),
        "unrecorded": _sweep(
            _ages(storage, check.unrecorded),
            "stored but belongs to no record",
            "",
            ("(an upload interrupted before its commit)", "(may be committed now; kept)"),
            storage.remove_unrecorded if clean else None,
        ),
    }
    if removed["partial"] or removed["unrecorded"]:
        audit.record("evidence.clean", after=removed)
        db.session.commit()
        click.echo(
            f"removed {len(removed['partial'])} partial upload(s) and {len(removed['unrecorded'])} "
            "file(s) without a record"
        )
    if check.problem_list:
        click.echo(
            f"evidence check failed: {len(check.problem_list)} of {check.checked} files missing or altered", err=True
        )
        sys.exit(1)
    click.echo(f"evidence intact: {check.checked} files match their records")


@evidence_cli.command("index-text")
def index_text():
    """Read the words of every evidence file not yet read (files uploaded before search read
    inside files, or whose reading was interrupted), for search."""
    done = extract.index_versions(extract.unindexed_version_ids())
    click.echo(f"text recorded for {done} evidence files")
