from pathlib import Path

import click
from flask.cli import AppGroup

from app.backup.services import BackupError, create_backup, restore_backup

backup_cli = AppGroup("backup", help="Back up and restore the database and evidence files.")


@backup_cli.command("create")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "sqlite", "json"]),
    default="auto",
    help="auto: a SQLite file for SQLite, JSON lines per table for PostgreSQL.",
)
def create_command(directory: Path, fmt: str):
    """Write a consistent snapshot into DIRECTORY (new or empty)."""
    try:
        manifest = create_backup(directory, fmt)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    rows = sum(manifest["database"]["row_counts"].values())
    evidence = sum(1 for name in manifest["files"] if name.startswith("evidence/"))
    click.echo(
        f"backup written to {directory}: {rows} rows in {len(manifest['database']['row_counts'])} "
        f"tables ({manifest['database']['format']}), {evidence} evidence files"
    )


@backup_cli.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(directory: Path):
    """Check DIRECTORY against its manifest, then load it onto this empty instance."""
    try:
        manifest = restore_backup(directory)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"restored the backup of {manifest['created_at']}: every file matched its SHA-256, every table its row count"
    )
