"""Instrumentation for bench/run.py, switched on by TRACKER_BENCH_MODE=1 only.

A bare route (the floor every page is compared with), an ``X-Query-Count``
response header with the number of SQL statements the request sent, and the
``flask bench`` commands that build the data sets.
"""

from flask import Flask, g, has_app_context
from sqlalchemy import event

from app.extensions import db
from app.permissions import public
from bench.cli import bench_cli


def register(app: Flask) -> None:
    app.cli.add_command(bench_cli)

    @app.route("/bench/bare")
    @public
    def bench_bare():
        return "ok"

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        if has_app_context() and not statement.lstrip().upper().startswith("PRAGMA"):
            g.query_count = g.get("query_count", 0) + 1

    @app.after_request
    def _header(response):
        response.headers["X-Query-Count"] = str(g.get("query_count", 0))
        return response
