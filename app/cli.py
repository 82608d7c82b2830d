"""Command-line entry points: ``flask --app wsgi <command>``."""

import os
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from app import audit
from app.auth.models import ROLES, User
from app.auth.passwords import password_problem
from app.evidence import extract
from app.extensions import db
from app.offices.models import Office
from app.reminders.cli import reminders_cli, scheduler_command
from app.timeutil import today
from app.demo import seed_demo
from app.checkpoints import checkpoint_path, read_checkpoints, write_checkpoint
from app.accounts.services import deactivate_idle_accounts
from app.health.checks import deploy_problems
from app.api.cli import tokens_cli
from app.backup.cli import backup_cli
from app.evidence.cli import evidence_cli
from app.metrics.cli import metrics_cli

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--office", "office_code", default=None, help="Office code, e.g. DHS-PLCY.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(email, name, role, office_code, password_stdin):
    """Create a user; the password is asked for (or read from stdin)."""
    email = email.strip().lower()
    if db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email)):
        raise click.ClickException(f"a user with email {email} already exists")
    office = None
    if office_code:
        office = db.session.scalar(sa.select(Office).where(Office.code == office_code))
        if office is None:
            raise click.ClickException(f"no office with code {office_code}")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise click.ClickException(problem)
    user = User(email=email, name=name, role=role, office_id=office.id if office else None)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", user, after={"email": email, "role": role, "office": office_code})
    db.session.commit()
    click.echo(f"created {role} {email}")


@users_cli.command("break-glass")
@click.argument("email")
@click.option("--off", is_flag=True, help="Take the permission away again.")
def break_glass(email, off):
    """Let an administrator sign in with a password at /sign-in/break-glass while PASSWORD_SIGN_IN is off."""
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user with email {email}")
    if not off and user.role != "admin":
        raise click.ClickException("only administrators may hold a break-glass account")
    before = user.break_glass
    user.break_glass = not off
    audit.record("user.break_glass", user, before={"break_glass": before}, after={"break_glass": user.break_glass})
    db.session.commit()
    if off:
        click.echo(f"{user.email} can no longer use the break-glass sign-in")
    else:
        click.echo(
            f"{user.email} may sign in at /sign-in/break-glass with the account's password "
            "(and security key, if it has one)"
        )


@click.command("seed-demo")
def seed_demo_command():
    """Load the OIG-15-85 demo (idempotent)."""
    password = os.environ.get("DEMO_PASSWORD") or None
    generated = seed_demo(password, today())
    db.session.commit()
    extract.index_versions(extract.unindexed_version_ids())  # the demo's files, for search
    if generated:
        secret_file = Path(current_app.instance_path) / "demo-password.txt"
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(generated + "\n")
        click.echo("Demo users: policy@example.gov, oig@example.gov, manager@example.gov, admin@example.gov")
        click.echo(f"Demo password (shown once; also kept in {secret_file}): {generated}")
    else:
        click.echo("Demo data is loaded.")


audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
def audit_verify():
    """Walk the hash chain and check it against every checkpoint; exit 1 naming what is wrong."""
    checkpoints, problems = read_checkpoints()
    for problem in problems:
        click.echo(f"audit checkpoint refused: {problem}", err=True)
    broken = audit.verify_chain(checkpoints=checkpoints)
    if broken:
        event_id, why = broken
        row = db.session.execute(
            sa.select(audit.AuditEvent.action, audit.time_column(db.engine.dialect.name)).where(
                audit.AuditEvent.id == event_id
            )
        ).first()
        where = f", {row.action}, recorded {str(row.occurred_at)[:19]}" if row else ""
        click.echo(f"audit chain broken at event {event_id} (audit_events row id={event_id}{where}): {why}", err=True)
    if broken or problems:
        sys.exit(1)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(audit.AuditEvent))
    against = (
        f", agrees with {len(checkpoints)} checkpoint{'s' if len(checkpoints) != 1 else ''}"
        if checkpoints
        else f" (no checkpoints yet in {checkpoint_path()})"
    )
    click.echo(f"audit chain intact: {count} events{against}")


@audit_cli.command("checkpoint")
def audit_checkpoint():
    """Append the chain's head, signed, to the checkpoint file (the scheduler does this hourly)."""
    checkpoint = write_checkpoint()
    click.echo(
        f"checkpoint: event {checkpoint.event_id}, hash {checkpoint.hash}, at {checkpoint.at} -> {checkpoint_path()}"
    )


accounts_cli = AppGroup("accounts", help="Account housekeeping.")


@accounts_cli.command("deactivate-idle")
def deactivate_idle_command():
    """Deactivate accounts with no sign-in for IDLE_DEACTIVATION_DAYS (90) days."""
    users = deactivate_idle_accounts()
    db.session.commit()
    for user in users:
        click.echo(f"deactivated {user.email}")
    click.echo(f"{len(users)} idle account(s) deactivated")


@click.command("check")
def check_command():
    """Deploy check: exit 1 listing every unsafe or missing production setting, 0 when there is none."""
    problems = deploy_problems(current_app)
    for problem in problems:
        click.echo(f"- {problem}")
    if problems:
        click.echo(f"{len(problems)} problem{'s' if len(problems) != 1 else ''}: not ready for production", err=True)
        sys.exit(1)
    click.echo("no problems found: the settings are fit for production")


def register(app: Flask) -> None:
    app.cli.add_command(metrics_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(accounts_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(check_command)
    app.cli.add_command(audit_cli)
    app.cli.add_command(evidence_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(tokens_cli)
