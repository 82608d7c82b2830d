"""Several hosts on one PostgreSQL database: two gunicorn servers, two schedulers, one evidence folder.

Started as real processes, as in production (gunicorn.conf.py, ``flask scheduler``), with short
election intervals; gunicorn's master imports the app's modules before it forks its workers
(``tests.workers gunicorn``), each worker builds its own app. Runs against TEST_DATABASE_URL's server, or PostgreSQL on 127.0.0.1.
"""

import email
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from app import create_app
from app.extensions import db
from app.recommendations.models import LineOfEffort
from app.reminders.models import OutboxMessage, SchedulerLease
from app.timeutil import today
from config import TestConfig
from tests.factories import PASSWORD, Factory

ROOT = Path(__file__).resolve().parents[2]
SERVER_URL = os.environ.get("TEST_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: The writers write at least this long, and in any case until the standby has taken over and sent.
WRITE_SECONDS = float(os.environ.get("CLUSTER_WRITE_SECONDS", "3"))
WRITERS = 8
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')


class Recorder:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def keys(self) -> list[tuple[str, str]]:
        return [(m["X-Tracker-Key"], m["To"]) for m in list(self.messages)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def cluster_db():
    """A fresh database on the PostgreSQL server, migrated by `flask db upgrade` as a deploy does."""
    base = sa.make_url(SERVER_URL)
    name = f"tracker_cluster_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Cluster:
    def __init__(self, url: str, tmp: Path, smtp_port: int):
        self.tmp = tmp
        self.env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": "cluster-test-" + uuid.uuid4().hex,
            "EVIDENCE_DIR": str(tmp / "evidence"),
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(smtp_port),
            "BASE_URL": "https://tracker.example.gov",
            "WEB_CONCURRENCY": "2",
            "SCHEDULER_LEASE_SECONDS": "6",
            "SCHEDULER_POLL_SECONDS": "1",
            "REMINDERS_DELIVER_SECONDS": "2",
            "REMINDERS_CLAIM_LEASE_SECONDS": "5",
            # The schedulers write audit checkpoints: into this run's folder, never instance/.
            "AUDIT_CHECKPOINT_FILE": str(tmp / "audit-checkpoints.jsonl"),
            "AUDIT_CHECKPOINT_KEY": "cluster-checkpoint-" + uuid.uuid4().hex,
            "FLASK_APP": "wsgi",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.processes: list[subprocess.Popen] = []
        self.bin = Path(sys.executable).parent

    def _start(self, args: list[str], log: str, **env) -> subprocess.Popen:
        out = open(self.tmp / log, "wb")  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen(args, cwd=ROOT, env={**self.env, **env}, stdout=out, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.bin / "flask"), "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def server(self, n: int) -> None:
        self._start(
            # `gunicorn ARGS`, its master importing the app's modules before it forks (tests/workers.py)
            [
                sys.executable,
                "-m",
                "tests.workers",
                "gunicorn",
                "-c",
                "gunicorn.conf.py",
                "-b",
                "127.0.0.1:0",
                "wsgi:app",
            ],
            f"gunicorn-{n}.log",
            PROMETHEUS_MULTIPROC_DIR=str(self.tmp / f"metrics-{n}"),
        )

    def address(self, n: int) -> str:
        """The server's address, once it listens (started with port 0, it says which in its log)."""
        found = _wait(
            lambda: re.search(
                r"Listening at: (http://127\.0\.0\.1:\d+)", (self.tmp / f"gunicorn-{n}.log").read_text(errors="replace")
            ),
            60,
            f"gunicorn {n}",
        )
        return found.group(1)

    def scheduler(self, n: int) -> subprocess.Popen:
        return self._start([str(self.bin / "flask"), "--app", "wsgi", "scheduler"], f"scheduler-{n}.log")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def _sign_in(base: str, email_address: str) -> requests.Session:
    session = requests.Session()
    token = _CSRF.search(session.get(f"{base}/sign-in").text).group(1)
    response = session.post(
        f"{base}/sign-in",
        data={"csrf_token": token, "email": email_address, "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    return session


def test_two_servers_and_two_schedulers_on_one_database(cluster_db, tmp_path):
    smtp = Recorder()
    controller = Controller(smtp, hostname="127.0.0.1", port=_free_port())
    controller.start()
    cluster = Cluster(cluster_db, tmp_path, controller.port)
    try:
        _run(cluster, cluster_db, tmp_path, smtp)
    finally:
        cluster.stop()
        controller.stop()


def _run(cluster: Cluster, url: str, tmp_path: Path, smtp: Recorder) -> None:
    upgraded = cluster.flask("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        EVIDENCE_DIR = str(tmp_path / "evidence")

    app = create_app(Config)
    with app.app_context():
        make = Factory()
        office = make.office("DHS-PLCY")
        line = make.line(make.recommendation(office=office, status="resolved_open"))
        writers = [make.user("action_office", office=office) for _ in range(WRITERS)]
        for user in writers[:4]:  # each owner gets a "due in 7 days" reminder from the first leader's run
            make.milestone(line, owner_id=user.id, due=today() + timedelta(days=7))
        targets = [
            (user.email, make.milestone(line, owner_id=user.id, due=today() + timedelta(days=60)).id)
            for user in writers
        ]
        db.session.commit()
        line_id, last_owner = line.id, writers[7].id
        first_email, first_name, last_email = writers[0].email, writers[0].name, writers[7].email

    cluster.server(1)
    cluster.server(2)
    schedulers = {p.pid: p for p in (cluster.scheduler(1), cluster.scheduler(2))}
    servers = [cluster.address(1), cluster.address(2)]  # all four start side by side

    # A session made on one server works on the other (one SECRET_KEY, one database).
    session = _sign_in(servers[0], first_email)
    page = session.get(f"{servers[1]}/my-work", allow_redirects=False)
    assert page.status_code == 200 and first_name in page.text

    def lease() -> SchedulerLease | None:
        with app.app_context():
            row = db.session.get(SchedulerLease, "scheduler")
            db.session.remove()
            return row if row is not None and row.pid in schedulers else None

    def outbox() -> list:
        with app.app_context():
            rows = db.session.execute(sa.select(OutboxMessage.state, OutboxMessage.to_address)).all()
            db.session.remove()
            return rows

    first = _wait(lease, 30, "a scheduler leader")
    _wait(
        lambda: len(smtp.messages) >= 4 and all(state == "sent" for state, _ in outbox()),
        30,
        "the first leader's daily reminders",
    )

    # Writers: 8 threads, each its own session and milestone, alternating between the servers.
    statuses: Counter = Counter()
    errors: list[str] = []
    started_at = time.monotonic()
    handed_over = threading.Event()  # set once the new leader has sent: the writes span the hand-over

    def writing() -> bool:  # two minutes at most, should the hand-over never come (the test fails then)
        elapsed = time.monotonic() - started_at
        return elapsed < WRITE_SECONDS or (not handed_over.is_set() and elapsed < 120)

    def write(n: int, address: str, milestone_id: int) -> None:
        try:
            http = _sign_in(servers[n % 2], address)
            page = http.get(f"{servers[n % 2]}/milestones/{milestone_id}").text
            i = 0
            while i == 0 or writing():  # at least one write each, even if the hand-over came first
                base = servers[(n + i) % 2]
                response = http.post(
                    f"{base}/milestones/{milestone_id}",
                    data={
                        "action": "update",
                        "csrf_token": _CSRF.search(page).group(1),
                        "version": _VERSION.search(page).group(1),
                        "noted_on": today().isoformat(),
                        "status": "in_progress",
                        "percent_complete": i % 100,
                        "note": f"Update {i} from writer {n}",
                    },
                )
                statuses[response.status_code] += 1
                page = response.text
                i += 1
        except Exception as exc:  # a dead thread must fail the test, not hide
            errors.append(f"writer {n}: {exc!r}")

    threads = [threading.Thread(target=write, args=(n, address, mid)) for n, (address, mid) in enumerate(targets)]
    for thread in threads:
        thread.start()

    # Meanwhile: a new reminder becomes due, then the leader dies without a word.
    with app.app_context():
        make.milestone(
            db.session.get(LineOfEffort, line_id),
            owner_id=last_owner,
            due=today() + timedelta(days=14),
            title="After the hand-over",
        )
        db.session.commit()
    killed_at = time.monotonic()
    schedulers[first.pid].send_signal(signal.SIGKILL)
    schedulers[first.pid].wait()
    second = _wait(lambda: (row := lease()) and row.pid != first.pid and row, 60, "the standby to lead")
    took = time.monotonic() - killed_at
    assert took < 60
    _wait(
        lambda: len(smtp.messages) >= 5 and all(state == "sent" for state, _ in outbox()),
        30,
        "the new leader's reminders",
    )
    handed_over.set()
    for thread in threads:
        thread.join(timeout=WRITE_SECONDS + 30)
    wrote_for = time.monotonic() - started_at
    assert not errors, errors
    assert not [code for code in statuses if code >= 500], statuses
    assert statuses[200] > 0 and set(statuses) == {200}, statuses  # each POST redirects to the page

    # Exactly once: every outbox row was sent, and the SMTP server saw each key once.
    keys = smtp.keys()
    assert len(keys) == len(set(keys)) == len(outbox()), keys
    assert any(m["To"] == last_email and "14" in m["X-Tracker-Key"] for m in smtp.messages)
    assert second.pid != first.pid

    verified = cluster.flask("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "audit chain intact" in verified.stdout
    with app.app_context():
        db.engine.dispose()
    durations = sorted(
        line["duration_ms"]
        for n in (1, 2)
        for line in _log_lines(tmp_path / f"gunicorn-{n}.log")
        if line.get("endpoint") == "milestones.show" and line.get("method") == "POST"
    )
    print(
        f"\n{sum(statuses.values())} milestone updates in {wrote_for:.0f} s "
        f"(server time p50 {durations[len(durations) // 2]} ms, max {durations[-1]} ms); "
        f"leader {first.host}:{first.pid} killed, {second.pid} led after {took:.1f} s"
    )


def _log_lines(path: Path) -> list[dict]:
    import json

    return [json.loads(line) for line in path.read_text(errors="replace").splitlines() if line.startswith("{")]
