"""Each request gets an id, a JSON log line and its place in the metrics.

The id comes from the proxy's ``X-Request-Id`` when it sent a sane one (so nginx's and ours
match), or is made here; it goes back in the ``X-Request-Id`` header and is the incident number
an error page shows, so support finds the log line from what the user reads out.
"""

import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import Flask, g, has_app_context, has_request_context, request
import sqlalchemy as sa
from sqlalchemy import event

from app.extensions import db
from app.health.metrics import LATENCY, REQUESTS, install_audit_counter

request_log = logging.getLogger("app.requests")
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
#: LogRecord attributes every record has; anything else was passed in ``extra=`` and is logged.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what log collectors (journald, Loki, CloudWatch) parse without rules."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and "request_id" not in record.__dict__:
            line["request_id"] = g.get("request_id")
        line.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def install_json_logging() -> None:
    """JSON lines on stderr for the application's loggers (once per process)."""
    logger = logging.getLogger("app")
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # a root handler (the scheduler's, a test runner's) would print it twice


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def _user_id(user) -> int | None:
    """The signed-in user's id without a query: after the request's commit the user is expired,
    and reading ``user.id`` (or ``is_authenticated``) would load the row again just for the log."""
    if user is None:
        return None
    state = sa.inspect(user, raiseerr=False)
    if state is not None and state.identity is not None:
        return state.identity[0]
    return user.id if user.is_authenticated else None


def register(app: Flask) -> None:
    if app.config.get("LOG_JSON"):
        install_json_logging()
    install_audit_counter()

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count_query(conn, cursor, statement, parameters, context, executemany):
        if has_app_context():
            g.queries = g.get("queries", 0) + 1

    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex[:16]
        g.started = time.perf_counter()
        g.queries = 0

    @app.after_request
    def _finish(response):
        started = g.get("started")
        if started is None:  # a request refused before our first hook ran
            return response
        duration = time.perf_counter() - started
        endpoint = request.endpoint or "unmatched"  # never the raw path: 404 scans would flood the labels
        status = str(response.status_code)
        response.headers["X-Request-Id"] = g.request_id
        REQUESTS.labels(endpoint, request.method, status).inc()
        LATENCY.labels(endpoint, status).observe(duration)
        user_id = _user_id(g.get("_login_user"))  # only if the request loaded it: a static file costs no query
        request_log.info(
            "%s %s %s",
            request.method,
            request.path,
            status,
            extra={
                "request_id": g.request_id,
                "user_id": user_id,
                "method": request.method,
                "path": request.path,
                "endpoint": endpoint,
                "status": response.status_code,
                "duration_ms": round(duration * 1000, 1),
                "queries": g.get("queries", 0),
                "remote_addr": request.remote_addr,
            },
        )
        return response
