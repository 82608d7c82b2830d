"""Full-text indexes, one per searchable table, on both databases.

- SQLite: an FTS5 table ``fts_<table>`` with the table as its external content
  (``tokenize='porter unicode61'``: English stems, like PostgreSQL's 'english'), kept in
  step by triggers (migration 0800). A query is every word as a prefix: ``"data"* "stand"*``.
- PostgreSQL: a GIN index ``fts_<table>`` on ``to_tsvector('english', <document>)``; the
  query repeats the index's expression word for word so that the planner uses the index.

``DOCUMENTS`` names the columns of each table's document. Migration 0800 holds its own copy
(a migration is a record of what was done); change both together, with a new migration.
"""
import re

import sqlalchemy as sa

DOCUMENTS = {
    "reports": ("title", "summary", "agency"),
    "recommendations": ("text", "concurrence_response", "responsible_official"),
    "lines_of_effort": ("title",),
    "milestones": ("title", "description", "expected_evidence"),
    "evidence_items": ("title", "description"),
}
MAX_WORDS = 10
_WORD_RE = re.compile(r"\w+", re.UNICODE)


def words(query: str) -> list[str]:
    return _WORD_RE.findall(query.lower())[:MAX_WORDS]


def pg_document(table: str, qualified: bool = True) -> str:
    prefix = f"{table}." if qualified else ""
    return " || ' ' || ".join(f"coalesce({prefix}{column}, '')" for column in DOCUMENTS[table])


def _pg_match(table: str, found: list[str]) -> sa.ColumnElement:
    vector = sa.literal_column(f"to_tsvector('english', {pg_document(table)})")
    return vector.bool_op("@@")(sa.func.plainto_tsquery(sa.literal_column("'english'"), " ".join(found)))


def matching_ids(table: str, id_column, query: str, dialect: str) -> sa.Select:
    """The ids of the rows of ``table`` whose document holds every word of ``query``
    (straight from the FTS5 table on SQLite; through the GIN index on PostgreSQL)."""
    found = words(query)
    if not found:
        return sa.select(id_column).where(sa.false())
    if dialect == "postgresql":
        return sa.select(id_column).where(_pg_match(table, found))
    fts = f"fts_{table}"
    expression = " ".join(f'"{word}"*' for word in found)
    return (sa.select(sa.literal_column("rowid")).select_from(sa.table(fts))
            .where(sa.literal_column(fts).op("MATCH")(sa.bindparam(None, expression, unique=True))))


def matches(table: str, id_column, query: str, dialect: str) -> sa.ColumnElement:
    """``id_column`` is the id of a row of ``table`` whose document holds every word of ``query``
    (on PostgreSQL the match itself, on a query of that table)."""
    found = words(query)
    if dialect == "postgresql" and found:
        return _pg_match(table, found)
    return id_column.in_(matching_ids(table, id_column, query, dialect))
