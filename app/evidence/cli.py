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
    removed: dict[str, list[str]] = {"partial": [], "unrecorded": []}
    for name, age in storage.partial_files():
        stale = age >= STALE_SECONDS
        click.echo(
            f"partial upload: .incoming/{name}, {_age(age)} old "
            + ("(an upload cut off by a crash)" if stale else "(may be an upload still running; kept)")
        )
        if clean and stale:
            click.echo(f"  removing .incoming/{name}")
            storage.remove_partial(name)
            removed["partial"].append(name)
    for key in check.unrecorded:
        try:
            age = storage.age(key)
        except FileNotFoundError:
            continue
        stale = age >= STALE_SECONDS
        click.echo(
            f"stored but belongs to no record: {key}, {_age(age)} old "
            + ("(an upload interrupted before its commit)" if stale else "(may be committed now; kept)")
        )
        if clean and stale:
            click.echo(f"  removing {key}")
            storage.remove_unrecorded(key)
            removed["unrecorded"].append(key)
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
