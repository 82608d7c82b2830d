"""The audit chain stays one chain under parallel requests.

10 threads send 40 audited requests each (a signed-in CSV export, or a failed sign-in) to the
threaded development server and to gunicorn with two workers on the test's database; every event
must then follow the one before it (``verify_chain``) and no two events share a ``prev_hash``.
"""

import contextlib
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent, verify_chain
from tests.factories import PASSWORD
from tests.web.test_crash import ROOT, _free_port, _wait_healthy

THREADS = 10
REQUESTS = 40
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Visitor:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = None

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=30) as response:
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def sign_in(self, email: str, password: str) -> int:
        if self.token is None:
            match = _CSRF.search(self.get("/sign-in")[1])
            self.token = match.group(1) if match else ""
        body = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": self.token}).encode()
        try:
            with self.opener.open(self.base + "/sign-in", data=body, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


def _hammer(base: str, emails: list[str]) -> list:
    errors = []

    def work(n: int):
        try:
            member, stranger = Visitor(base), Visitor(base)
            assert member.sign_in(emails[n], PASSWORD) == 200
            for i in range(REQUESTS):
                if i % 2:
                    status, _ = member.get("/exports/recommendations.csv")
                    assert status == 200, status
                else:
                    status = stranger.sign_in(f"nobody-{n}-{i}@example.gov", "not the password at all")
                    assert status == 400, status
        except BaseException as error:  # noqa: BLE001 (reported by the test)
            errors.append(repr(error))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def _users(db, make) -> list[str]:
    emails = [make.user("manager", email=f"parallel-{n}@example.gov").email for n in range(THREADS)]
    db.session.commit()
    db.session.remove()
    return emails


def _assert_one_chain(db, events_before: int):
    db.session.remove()
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    forks = db.session.scalar(
        sa.select(sa.func.count()).select_from(
            sa.select(AuditEvent.prev_hash).group_by(AuditEvent.prev_hash).having(sa.func.count() > 1).subquery()
        )
    )
    # each thread: one sign-in, 20 exports and 20 failed sign-ins, each audited once
    assert events - events_before == THREADS * (1 + REQUESTS)
    assert forks == 0
    assert verify_chain() is None


def test_parallel_requests_on_the_threaded_server_keep_one_chain(app, db, make, live_server):
    app.config["SIGN_IN_ADDRESS_LIMIT"] = 10_000  # the spraying limit is not what this test is about
    emails = _users(db, make)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert _hammer(live_server, emails) == []
    _assert_one_chain(db, before)


@contextlib.contextmanager
def serving(app, tmp_path, workers: int = 2, **env):
    """gunicorn with ``workers`` processes serving ``tests.workers:plain_app()`` on the test's database."""
    port = _free_port()
    env = dict(
        os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], EVIDENCE_DIR=str(tmp_path / "evidence"), **env
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.workers",  # gunicorn, the app's modules imported before it forks its workers
            "gunicorn",
            "-w",
            str(workers),
            "--threads",
            "4",
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "--graceful-timeout",
            "2",
            "tests.workers:plain_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process, timeout=90)  # a loaded machine starts two workers slowly
        yield base
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def gunicorn(app, tmp_path):
    with serving(app, tmp_path, SIGN_IN_ADDRESS_LIMIT="10000") as base:
        yield base


def test_parallel_requests_on_two_gunicorn_workers_keep_one_chain(app, db, make, gunicorn):
    emails = _users(db, make)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert _hammer(gunicorn, emails) == []
    _assert_one_chain(db, before)
