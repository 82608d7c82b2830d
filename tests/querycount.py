from contextlib import contextmanager

from sqlalchemy import event

from app.extensions import db


class _Counter:
    def __init__(self):
        self.count = 0
        self.statements = []


@contextmanager
def count_queries(app):
    """Counts the SQL statements sent while the block runs (all requests of ``app``)."""
    counter = _Counter()
    engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("PRAGMA", "SAVEPOINT", "RELEASE")):
            return
        counter.count += 1
        counter.statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)
