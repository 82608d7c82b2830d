"""``flask --app wsgi evidence verify``: re-hash every stored file."""
import sys

import click
from flask.cli import AppGroup

from app.evidence import extract, services
from app.evidence.storage import get_storage
from app.extensions import db

evidence_cli = AppGroup("evidence", help="Evidence files.")


@evidence_cli.command("verify")
def verify():
    """Re-hash every stored evidence file; exit 1 naming each missing or altered one."""
    check = services.verify_all(get_storage())
    db.session.commit()
    for p in check.problem_list:
        click.echo(f"{p['problem'].upper()}: {p['storage_key']} ({p['filename']}, evidence item {p['item_id']}, "
                   f"version record {p['version_id']})", err=True)
    for key in check.unrecorded:
        click.echo(f"note: {key} is stored but belongs to no record (an upload interrupted before its commit)")
    if check.problem_list:
        click.echo(f"evidence check failed: {len(check.problem_list)} of {check.checked} files missing or altered",
                   err=True)
        sys.exit(1)
    click.echo(f"evidence intact: {check.checked} files match their records")


@evidence_cli.command("index-text")
def index_text():
    """Read the words of every evidence file not yet read (files uploaded before search read
    inside files, or whose reading was interrupted), for search."""
    done = extract.index_versions(extract.unindexed_version_ids())
    click.echo(f"text recorded for {done} evidence files")
