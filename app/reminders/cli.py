"""``flask --app wsgi reminders run`` and ``flask --app wsgi scheduler``."""

import logging
import signal
import threading
from contextlib import contextmanager
from datetime import date, datetime

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from app.extensions import db
from app.timeutil import today
from app.reminders.services import run_daily
from app import audit
from app.reminders.send import deliver_pending, requeue_stored
from app.evidence.services import clean_partial_uploads
from app.evidence.storage import get_storage
from app.accounts.services import run_idle_deactivation
from app.metrics.services import check_all
from app.notifications.services import write_daily_summaries
from app.checkpoints import write_checkpoint
from app.reminders.leader import Elector, setting
from app.health.observe import JsonFormatter

log = logging.getLogger(__name__)
reminders_cli = AppGroup("reminders", help="Reminders and digests.")

#: A run delayed by less than this still happens (once, with coalesce); a scheduler down for a
#: whole day catches up at its next start instead, which runs the daily job immediately.
MISFIRE_GRACE_SECONDS = 6 * 3600


def _parse_day(_ctx, _param, value):
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use YYYY-MM-DD") from None


@reminders_cli.command("run")
@click.option("--today", "on", callback=_parse_day, help="Run as if today were YYYY-MM-DD.")
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send and record nothing.")
def run_command(on, dry_run):
    """Run the daily job once: decide what is due, record it, send it; prints each message."""
    on = on or today()
    results = run_daily(on, dry_run=dry_run)
    for state, to_address, subject in results:
        click.echo(f"{state:<10} {to_address:<40} {subject}")
    verb = "would send" if dry_run else "finished"
    click.echo(f"{on.isoformat()}: {len(results)} message{'s' if len(results) != 1 else ''} {verb}")


@reminders_cli.command("send-stored")
def send_stored_command():
    """Send the messages stored while no mail server was configured (MAIL_SERVER must be set now)."""
    if not current_app.config.get("MAIL_SERVER"):
        raise click.ClickException("MAIL_SERVER is not set: the stored messages would only be stored again")
    count = requeue_stored()
    audit.record("reminder.send_stored", after={"requeued": count})
    db.session.commit()
    for state, to_address, subject in deliver_pending():
        click.echo(f"{state:<10} {to_address:<40} {subject}")
    click.echo(f"{count} stored message{'s' if count != 1 else ''} queued for sending")


def daily_job(app: Flask) -> None:
    with app.app_context():
        try:
            results = run_daily(today(), wait=False)
            log.info("reminders: %d messages finished", len(results))
        finally:
            db.session.remove()


def clean_uploads(app: Flask) -> None:
    """Partial upload files older than an hour: left by a server killed mid-upload."""
    with app.app_context():
        try:
            clean_partial_uploads(get_storage())
        except OSError:
            log.exception("cleaning partial uploads failed")


@contextmanager
def _caught(app: Flask, job: str):
    """A job in the app's context whose failure is rolled back and logged ("<job> failed"), not
    raised into the scheduler: its next run tries again."""
    with app.app_context():
        try:
            yield
        except Exception:
            db.session.rollback()
            log.exception("%s failed", job)
        finally:
            db.session.remove()


def housekeeping_job(app: Flask) -> None:
    """Daily checks of other domains: partial uploads older than an hour go; missing metric readings
    raise flags; idle accounts end; SQLite refreshes its planner statistics."""
    with _caught(app, "housekeeping"):
        clean_uploads(app)
        flags = check_all(today())
        db.session.commit()
        deactivated = run_idle_deactivation()
        log.info("housekeeping: %s metric flags checked, %s idle accounts deactivated", flags, deactivated)
        if db.engine.dialect.name == "sqlite":  # PostgreSQL's autovacuum keeps its own statistics
            db.session.execute(sa.text("PRAGMA optimize"))
            db.session.commit()


def summary_job(app: Flask) -> None:
    """The daily summary of the notifications each person takes once a day."""
    with _caught(app, "daily summaries"):
        written = write_daily_summaries(today())
        db.session.commit()
        log.info("notifications: %d daily summaries written", written)
        deliver_pending(wait=False)


def deliver_job(app: Flask) -> None:
    with app.app_context():
        try:
            deliver_pending(wait=False)
        finally:
            db.session.remove()


def checkpoint_job(app: Flask) -> None:
    """The audit chain's head, signed, to the checkpoint file and the log (app/checkpoints.py)."""
    with _caught(app, "audit checkpoint"):
        write_checkpoint()


def build_scheduler(app: Flask):
    """The jobs, in a background scheduler: only the elected leader starts it (see run_scheduler)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler()
    common = {
        "args": [app],
        "coalesce": True,
        "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        "max_instances": 1,
        "replace_existing": True,
    }
    # The daily jobs, each also once at start-up: a scheduler that was down catches up once; the
    # keys make it harmless.
    for job, job_id in (
        (daily_job, "reminders.daily"),
        (housekeeping_job, "housekeeping.daily"),
        (summary_job, "notifications.daily_summary"),
    ):
        scheduler.add_job(
            job,
            "cron",
            hour=app.config.get("REMINDERS_DAILY_HOUR", 6),
            minute=0,
            id=job_id,
            next_run_time=datetime.now().astimezone(),
            **common,
        )
    # Every minute by default: an event's email leaves within a minute of the commit that recorded it.
    scheduler.add_job(
        deliver_job,
        "interval",
        seconds=app.config.get("REMINDERS_DELIVER_SECONDS") or 60,
        id="reminders.deliver",
        **common,
    )
    scheduler.add_job(
        checkpoint_job,
        "interval",
        minutes=app.config.get("AUDIT_CHECKPOINT_MINUTES", 60),
        id="audit.checkpoint",
        next_run_time=datetime.now().astimezone(),
        **common,
    )
    return scheduler


def run_scheduler(app: Flask, stop: threading.Event) -> None:
    """Poll the election until ``stop``: run the jobs while this process leads, idle while it stands by."""
    elector = Elector(app)
    poll = setting(app, "SCHEDULER_POLL_SECONDS")
    scheduler = None
    try:
        while not stop.is_set():
            leader = elector.step()
            if leader and scheduler is None:
                scheduler = build_scheduler(app)
                scheduler.start()
            elif not leader and scheduler is not None:
                scheduler.shutdown(wait=False)
                scheduler = None
            stop.wait(poll)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        elector.release()


@click.command("scheduler")
def scheduler_command():
    """Run the scheduler here: every host may; the database elects one leader, the others stand by."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("LOG_JSON"):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=logging.INFO, handlers=[handler])
    else:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    clean_uploads(app)  # once at start, here rather than in every web worker's create_app
    stop = threading.Event()

    def _stop(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(
        f"scheduler started: leader election every {setting(app, 'SCHEDULER_POLL_SECONDS'):g} s; "
        "the leader runs the daily reminders and summaries, sends pending mail and writes audit checkpoints"
    )
    run_scheduler(app, stop)
