"""``flask --app wsgi metrics import FILE`` and ``metrics check``."""

import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.auth.models import User
from app.extensions import db
from app.metrics.csv_import import apply_import
from app.metrics.reading_rules import check_readings_csv
from app.metrics.services import check_all, metrics_in_scope
from app.timeutil import today

metrics_cli = AppGroup("metrics", help="Metric readings and flags.")


@metrics_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--recommendation",
    "recommendation_id",
    type=int,
    default=None,
    help="Only metrics of this recommendation may be named (default: all).",
)
@click.option("--user", "email", default=None, help="Record the readings as entered by this user.")
def import_command(file, recommendation_id, email):
    """Import readings from a CSV file (period,component,metric,value,note): all rows or none."""
    actor = None
    if email:
        actor = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
        if actor is None:
            raise click.ClickException(f"no user with email {email}")
    check = check_readings_csv(file.read(), metrics_in_scope(recommendation_id), today())
    if not check.ok:
        for line, problem in check.problems:
            click.echo(f"line {line}: {problem}" if line else f"file: {problem}", err=True)
        click.echo("nothing was imported", err=True)
        sys.exit(1)
    counts = apply_import(check, today(), actor=actor)
    db.session.commit()
    click.echo(
        f"imported {len(check.rows)} rows: {counts['created']} new, {counts['corrected']} corrected, "
        f"{counts['unchanged']} unchanged"
    )


@metrics_cli.command("check")
def check_command():
    """Raise flags for readings off target or missing when due (safe to run twice)."""
    raised = check_all(today())
    db.session.commit()
    click.echo(f"{raised} flags raised")
