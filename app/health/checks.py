"""What /readyz and ``flask check`` look at: each probe returns plain values, the callers decide.

``deploy_problems`` is the list ``flask check`` prints (like Django's ``check --deploy``): settings
that work on a developer's machine and are wrong, or unsafe, for people's real records.
"""

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app

from app.extensions import db
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from app.reminders.leader import current_lease, heartbeat_age, setting, scheduler_hosts

#: The default BASE_URL in config.py: fine for a laptop, wrong in every email a server sends.
DEV_BASE_URL = "http://127.0.0.1:5000"


@dataclass
class Probe:
    ok: bool
    detail: str


def migrations_dir(app: Flask) -> str:
    return str(Path(app.root_path).parent / "migrations")


@lru_cache(maxsize=4)
def _script_heads(directory: str) -> tuple[str, ...]:
    config = AlembicConfig()
    config.set_main_option("script_location", directory)
    return tuple(sorted(ScriptDirectory.from_config(config).get_heads()))


def database() -> Probe:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return Probe(True, "reachable")
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        return Probe(False, f"unreachable: {type(exc).__name__}")


def migrations() -> Probe:
    heads = _script_heads(migrations_dir(current_app))
    try:
        current = tuple(sorted(db.session.scalars(sa.text("SELECT version_num FROM alembic_version"))))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        current = ()
    if current == heads:
        return Probe(True, f"at head {', '.join(heads)}")
    shown = ", ".join(current) or "none"
    return Probe(False, f"database at {shown}, code at {', '.join(heads)}: run `flask --app wsgi db upgrade`")


def evidence_dir() -> Probe:
    path = Path(current_app.config["EVIDENCE_DIR"])
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{secrets.token_hex(8)}"
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        probe.unlink()
        return Probe(True, f"{path} writable")
    except OSError as exc:
        return Probe(False, f"{path} not writable: {exc.strerror or exc}")


def scheduler() -> tuple[Probe, dict]:
    """Whether a leader wrote its heartbeat lately; with the leader's host, pid and heartbeat age."""
    try:
        lease = current_lease()
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return Probe(False, "unknown: the database did not answer"), {}
    if lease is None:
        return Probe(False, "no scheduler has ever run: start `flask --app wsgi scheduler`"), {}
    age = heartbeat_age(lease) or 0.0
    info = {"leader_host": lease.host, "leader_pid": lease.pid, "heartbeat_age_seconds": round(age, 1)}
    if age > stale_after(current_app):
        return Probe(False, f"not running: last heartbeat {age:.0f} s ago, from {lease.host} pid {lease.pid}"), info
    return Probe(True, f"leader {lease.host} pid {lease.pid}, heartbeat {age:.0f} s ago"), info


def stale_after(app: Flask) -> float:
    """A heartbeat older than this means no leader: a standby would have taken over by then."""
    return max(90.0, 2 * setting(app, "SCHEDULER_LEASE_SECONDS") + 2 * setting(app, "SCHEDULER_POLL_SECONDS"))


def _several_hosts(app: Flask) -> str | None:
    """Why we think several hosts run this app, or None: the TRACKER_HOSTS setting, or scheduler processes
    seen on more than one host in the last day (every host may start ``flask scheduler``)."""
    declared = int(app.config.get("TRACKER_HOSTS") or 1)
    if declared > 1:
        return f"TRACKER_HOSTS={declared}"
    try:
        hosts = scheduler_hosts()
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return None
    if len(hosts) > 1:
        return f"schedulers ran on {len(hosts)} hosts in the last day ({', '.join(hosts)})"
    return None


def deploy_problems(app: Flask) -> list[str]:
    """Each unsafe or missing production setting, as a sentence saying what to do."""
    config = app.config
    problems = []
    if config.get("SECRET_KEY_GENERATED"):
        problems.append(
            "SECRET_KEY is generated into this host's instance folder: set SECRET_KEY (the same "
            "on every host), or sessions made on one host fail on the others"
        )
    if not config.get("BASE_URL") or config["BASE_URL"] == DEV_BASE_URL:
        problems.append(f"BASE_URL is unset: links in emails point at {DEV_BASE_URL}")
    elif not config["BASE_URL"].startswith("https://"):
        problems.append(f"BASE_URL {config['BASE_URL']} is not https: links in emails go out in clear")
    if not config.get("MAIL_SERVER"):
        problems.append("MAIL_SERVER is unset: reminders are stored in the outbox, never sent")
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append("SESSION_COOKIE_SECURE is off: the session cookie would travel over plain HTTP")
    if not config.get("MFA_REQUIRED_ROLES") and not config.get("OIDC_ISSUER"):
        problems.append(
            "MFA_REQUIRED_ROLES is empty and single sign-on (OIDC_ISSUER) is off: passwords alone protect every account"
        )
    if db.engine.dialect.name == "sqlite":
        why = _several_hosts(app)
        if why:
            problems.append(
                f"SQLite with several hosts ({why}): each host would keep its own database; "
                "set DATABASE_URL to PostgreSQL"
            )
    probe = database()
    if not probe.ok:
        problems.append(f"database {probe.detail}")
        return problems
    for name, probe in (("evidence directory", evidence_dir()), ("migrations", migrations())):
        if not probe.ok:
            problems.append(f"{name}: {probe.detail}")
    probe, _ = scheduler()
    if not probe.ok:
        problems.append(f"scheduler {probe.detail}")
    return problems
