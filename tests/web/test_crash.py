"""Killing the server in the middle of a request leaves the database consistent.

gunicorn serves ``tests.workers:slow_commit_app()`` on a free loopback port. A request writes
its rows, then pauses before the commit (a test hook on the session's flush); the test kills
the worker with SIGKILL at that moment, then checks the database: integrity, no half-written
rows, an intact audit chain, and a fresh worker that completes the same request.
"""

import http.client
import http.cookiejar
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.audit import verify_chain
from app.auth.models import User
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
NEW_PASSWORD = "velvet harbour compass 1987"

#: (what, path, form): requests that write several rows in one transaction. Each domain adds
#: its own (evidence upload, milestone save, submission) here.
WRITES = [
    (
        "account creation",
        "/accounts/new",
        {"email": "crash@example.gov", "name": "Crash Test", "role": "admin", "office_id": ""},
    ),
    ("password change", "/account/password", {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, path: str, data: dict | None = None, timeout: float = 30):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=timeout) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


@pytest.fixture
def server(app, tmp_path):
    port = _free_port()
    pause_file = tmp_path / "pause"
    env = dict(
        os.environ,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        PAUSE_FILE=str(pause_file),
        EVIDENCE_DIR=str(tmp_path / "evidence"),
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.workers",  # gunicorn, the app's modules imported before it forks (and forks again)
            "gunicorn",
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "--graceful-timeout",
            "2",
            "tests.workers:slow_commit_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    _wait_healthy(base, process)
    yield base, pause_file, process
    process.send_signal(signal.SIGQUIT)  # gunicorn's quick shutdown
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_healthy(base: str, process, timeout: float = 90) -> None:
    # Generous: gunicorn imports the whole app first, which takes a while on a busy machine.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        try:
            if Browser(base).request("/healthz", timeout=2) == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("gunicorn did not answer /healthz")


def _snapshot(db):
    db.session.expire_all()
    counts = {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in db.metadata.sorted_tables}
    hashes = db.session.scalars(sa.select(User.password_hash).order_by(User.id)).all()
    return counts, hashes


def test_killing_the_worker_mid_request_leaves_the_database_consistent(app, db, make, server):
    base, pause_file, gunicorn = server
    for n, (what, path, form) in enumerate(WRITES):
        email = f"admin-crash-{n}@example.gov"
        make.user("admin", email=email)
        db.session.commit()
        db.session.remove()
        browser = Browser(base)
        assert browser.request("/sign-in", {"email": email, "password": PASSWORD}) == 200, what
        before = _snapshot(db)
        db.session.remove()

        pause_file.write_text("")
        outcome = {}
        request = threading.Thread(target=lambda: outcome.update(status=_request_or_error(browser, path, form)))
        request.start()
        deadline = time.monotonic() + 20
        while not pause_file.read_text() and time.monotonic() < deadline:
            time.sleep(0.02)
        worker_pid = int(pause_file.read_text())
        assert worker_pid != gunicorn.pid  # the worker, not the master
        os.kill(worker_pid, signal.SIGKILL)
        request.join(timeout=20)
        pause_file.unlink()
        assert outcome["status"] == "connection lost", (what, outcome)

        # Nothing of the killed request is in the database, and the database is sound.
        assert _snapshot(db) == before, what
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
            assert db.session.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        assert verify_chain() is None, what
        db.session.remove()

        # The master started a new worker; the same request now goes through whole.
        _wait_healthy(base, gunicorn)
        assert browser.request(path, form) in (200, 302), what
        after = _snapshot(db)
        assert after != before, what
        assert after[0]["audit_events"] > before[0]["audit_events"], what
        assert verify_chain() is None, what
        db.session.remove()


def _request_or_error(browser: Browser, path: str, form: dict) -> object:
    try:
        return browser.request(path, form)
    except (urllib.error.URLError, ConnectionError, http.client.RemoteDisconnected, OSError):
        return "connection lost"
