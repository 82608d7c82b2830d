"""Separate processes for the security tests: a second app instance on the same database.

``python -m tests.workers sign-in-failures URL EMAIL N`` fails N sign-ins from its own process.
``python -m tests.workers gunicorn ARGS…`` is gunicorn's command line, its master having imported
the app's modules first (see ``gunicorn``).
``tests.workers:slow_commit_app()`` is the app gunicorn serves in the kill test: every flush
pauses while the file named by ``PAUSE_FILE`` exists, after writing its pid there.
"""

import gc
import importlib
import os
import pkgutil
import sys
import time

from sqlalchemy import event

from app import create_app
from config import TestConfig


def _config(url: str, evidence: str = "") -> type:
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        EVIDENCE_DIR = evidence or os.environ.get("EVIDENCE_DIR", "/tmp/tracker-test-evidence")
        WTF_CSRF_ENABLED = False  # these processes test lockout and crashes, not forms

    return Config


def sign_in_failures(url: str, email: str, n: int) -> None:
    app = create_app(_config(url))
    client = app.test_client()
    for _ in range(n):
        response = client.post("/sign-in", data={"email": email, "password": "a wrong password, again"})
        assert response.status_code == 400, response.status_code


def plain_app():
    """The app as gunicorn serves it in the concurrency tests (configured from the environment)."""
    app = create_app(_config(os.environ["DATABASE_URL"]))
    if os.environ.get("SIGN_IN_ADDRESS_LIMIT"):
        app.config["SIGN_IN_ADDRESS_LIMIT"] = int(os.environ["SIGN_IN_ADDRESS_LIMIT"])
    return app


def slow_commit_app():
    """The app under gunicorn in the kill test (configured from the environment)."""
    from app.extensions import db

    app = create_app(_config(os.environ["DATABASE_URL"]))
    pause_file = os.environ["PAUSE_FILE"]

    with app.app_context():

        @event.listens_for(db.session, "after_flush")
        def pause_mid_transaction(session, _context):
            # Paused at the flush that writes the audit event, the last row of a change: the
            # request's other rows are written too, none committed. A crash now must leave none.
            if os.path.exists(pause_file) and any(type(o).__name__ == "AuditEvent" for o in session.new):
                with open(pause_file, "w") as f:
                    f.write(str(os.getpid()))
                for _ in range(600):
                    time.sleep(0.05)
                    if not os.path.exists(pause_file):
                        break

    return app


def gunicorn(args: list[str]) -> None:
    """Runs gunicorn as ``gunicorn ARGS…`` would, with the app's modules imported in its master.

    A worker gunicorn forks (at start, or again after one was killed) then only builds its app:
    a few hundredths of a CPU-second instead of the second a new interpreter spends importing the
    app and its libraries. Each worker still builds its own app and opens its own connections, as
    with production's ``preload_app = False``; only the modules are loaded before the fork, once
    the master is ready (after the configuration's ``on_starting`` has prepared the metrics folder
    the metrics library writes to as soon as it is imported) and before it starts any worker.
    """
    from gunicorn.app.wsgiapp import WSGIApplication

    sys.argv = ["gunicorn", *args]
    application = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]", prog="gunicorn")
    configured = application.cfg.when_ready

    def when_ready(server) -> None:
        from sqlalchemy.orm import configure_mappers

        import app

        configured(server)
        for module in pkgutil.walk_packages(app.__path__, "app."):
            importlib.import_module(module.name)
        configure_mappers()
        # Kept out of every collection, in the master and in the workers it forks (which would
        # otherwise walk, and so copy, the inherited objects; see gc.freeze in Python's docs).
        gc.collect()
        gc.freeze()

    application.cfg.set("when_ready", when_ready)
    application.run()


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "sign-in-failures":
        sign_in_failures(args[0], args[1], int(args[2]))
    elif command == "gunicorn":
        gunicorn(args)
    else:
        raise SystemExit(f"unknown command {command}")
