"""Column types shared by every domain's models."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timezone

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from app.extensions import db

#: Ids are 32-bit integers on both databases; a larger one is simply not found.
MAX_ID = 2**31 - 1


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite drops the offset; without this, values read back from SQLite and
    PostgreSQL would compare differently.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def enum(*values: str, name: str) -> sa.Enum:
    """A string column restricted to ``values`` by a CHECK constraint.

    Not a native PostgreSQL enum: adding a value later is then a plain
    constraint change in a migration, the same on SQLite and PostgreSQL.
    """
    return sa.Enum(
        *values,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(v) for v in values),
        validate_strings=True,
    )


#: Database objects made by hand in migrations, which the models cannot describe: the
#: full-text tables and indexes (``fts_*``, migration 0800), an expression index and indexes
#: with a descending column (0900), the open milestones by office and due day with their
#: triggers (1910_dash), the recommendations by office, status and issue day and an index made
#: on PostgreSQL only (1950_dash1m), by office and status (2030_dash2), and indexes of an office's
#: open recommendations made on PostgreSQL only (2020_dash2), the report
#: numbers' trigram index (PostgreSQL, 2040_search_trgm).
MADE_IN_MIGRATIONS = (
    "fts_",
    "open_milestone_days",
    "recommendation_days",
    "recommendation_totals",
    "ix_recommendations_office_open",
    "ix_recommendations_open_activity",
    "ix_recommendations_list_order",
    "ix_recommendations_office_list_order",
    "ix_reports_number_trgm",
)


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> sa.Index:
    """An index of the rows ``where`` holds (SQL), the same on SQLite and PostgreSQL."""
    return sa.Index(name, *columns, unique=unique, sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def include_name(name, type_, parent_names) -> bool:
    """Alembic's filter for autogenerate and the schema test: leave those objects alone."""
    return not (name and type_ in ("table", "index") and name.startswith(MADE_IN_MIGRATIONS))


def literal_in(column, values) -> sa.ColumnElement:
    """``column IN ('a', 'b')`` with the values written into the SQL, so that the planner can
    prove a partial index's WHERE from them (it cannot from bound parameters)."""
    return column.in_([sa.literal(v, literal_execute=True) for v in values])


def bound(name: str, type_) -> sa.BindParameter:
    """A named parameter of a statement built once and run with its value
    (``execute(statement, {name: value})``); typed, so that the statement can also be compiled
    with its values written in (tests and EXPLAIN)."""
    return sa.bindparam(name, type_=type_)


def refresh_statistics() -> None:
    """After a bulk load (``bench seed``, ``backup restore``): fresh planner statistics, and on
    PostgreSQL a vacuumed visibility map, so index-only scans work before autovacuum comes by."""
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # VACUUM refuses to run inside a transaction: a connection of its own, in autocommit.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM (ANALYZE)"))
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


class Taken(Exception):
    """A unique key was free when the request checked it, and taken by another request that
    committed in between (two people saving the same report number at the same moment)."""


def _unique_violation(error: sa.exc.IntegrityError) -> bool:
    orig = error.orig
    if getattr(orig, "sqlstate", None) == "23505":  # psycopg: unique_violation
        return True
    return str(orig).startswith("UNIQUE constraint failed")  # sqlite3


def begin_writing() -> None:
    """On SQLite, take the database's one write lock now, for the rest of the transaction (waiting
    up to busy_timeout), unless this connection holds it already; elsewhere nothing.

    sqlite3 reads outside any transaction until the first INSERT, UPDATE or DELETE, so what a
    request read to check may be gone by the time it writes; IMMEDIATE makes what it reads next
    the state it will write on, as audit.hold_chain_lock does (a deferred transaction that reads
    first fails at once, "database is locked", when another writer commits before its first write).
    """
    connection = db.session.connection()
    if connection.dialect.name == "sqlite" and not getattr(
        connection.connection.dbapi_connection, "in_transaction", True
    ):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_for_write(statement: sa.Select) -> sa.Select:
    """``statement`` (a select of one entity) made to read its row again under a lock held to the
    end of the transaction: a check made on it then sees what a concurrent request committed, and
    no other request changes it before this one commits (PostgreSQL: SELECT … FOR UPDATE of that
    entity's table; SQLite: the database's write lock, taken here)."""
    begin_writing()
    entity = statement.column_descriptions[0]["entity"]
    return statement.with_for_update(of=entity).execution_options(populate_existing=True)


@contextmanager
def unique_or_taken() -> Iterator[None]:
    """Run the body and flush it in a savepoint: a row a concurrent request inserted first under
    the same unique key raises ``Taken`` instead of a server error, with the body undone and the
    rest of the transaction intact. Other integrity errors are bugs, and stay errors."""
    # sqlite3 begins a transaction only before its first INSERT, UPDATE or DELETE: a SAVEPOINT
    # before any would open one itself, and its RELEASE would commit the request's writes so far.
    begin_writing()
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except sa.exc.IntegrityError as error:
        if not _unique_violation(error):
            raise
        raise Taken(str(error.orig)) from error
