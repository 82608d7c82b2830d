"""Full-text indexes, one per searchable table, on both databases.

- SQLite: an FTS5 table ``fts_<table>`` with the table as its external content
  (``tokenize='porter unicode61'``: English stems, like PostgreSQL's 'english'), kept in
  step by triggers (migration 0800). A query is every word as a prefix: ``"data"* "stand"*``.
- PostgreSQL: a GIN index ``fts_<table>`` on ``to_tsvector('english', <document>)``; the
  query repeats the index's expression word for word so that the planner uses the index.

``DOCUMENTS`` names the columns of each table's document. Migrations 0800 and 1700 hold their own copy
(a migration is a record of what was done); change both together, with a new migration.
On PostgreSQL migration 1945_search also stores each milestone's vector and its line of
effort's in ``fts_milestones_vectors`` (kept by triggers, its own copy of the milestones' and
lines' columns), which search walks newest first (``services._newest_milestones``).
"""

import re

import sqlalchemy as sa

from app.dbtypes import bound

DOCUMENTS = {
    "reports": ("title", "summary", "agency"),
    "recommendations": ("text", "concurrence_response", "responsible_official"),
    "lines_of_effort": ("title",),
    "milestones": ("title", "description", "expected_evidence"),
    "evidence_items": ("title", "description"),
    # Migration 1700: the words inside evidence files, and the conversation's messages.
    "evidence_texts": ("text",),
    "comments": ("body",),
}
MAX_WORDS = 10
_WORD_RE = re.compile(r"\w+", re.UNICODE)


def words(query: str) -> list[str]:
    return _WORD_RE.findall(query.lower())[:MAX_WORDS]


def pg_document(table: str, qualified: bool = True) -> str:
    prefix = f"{table}." if qualified else ""
    return " || ' ' || ".join(f"coalesce({prefix}{column}, '')" for column in DOCUMENTS[table])


def query_text(found: list[str], dialect: str) -> str:
    """What the statements below bind as ``text`` for the words ``found``: every word as a
    prefix on SQLite (``"data"* "stand"*``), the words for ``plainto_tsquery`` on PostgreSQL."""
    if dialect == "postgresql":
        return " ".join(found)
    return " ".join(f'"{word}"*' for word in found)


def matches(table: str) -> sa.ColumnElement:
    """PostgreSQL: the row of ``table`` holds every word bound as ``text`` (a condition on a
    query of that table, answered from its GIN index)."""
    vector: sa.ColumnElement = sa.literal_column(f"to_tsvector('english', {pg_document(table)})")
    return vector.bool_op("@@")(sa.func.plainto_tsquery(sa.literal_column("'english'"), bound("text", sa.String)))


def matching_ids(table: str, id_column, dialect: str) -> sa.Select:
    """The ids of the rows of ``table`` whose document holds every word bound as ``text``
    (straight from the FTS5 table on SQLite, its ``rowid``; through the GIN index on PostgreSQL)."""
    if dialect == "postgresql":
        return sa.select(id_column).where(matches(table))
    fts = sa.table(f"fts_{table}", sa.column("rowid"))
    return sa.select(fts.c.rowid).where(sa.literal_column(fts.name).op("MATCH")(bound("text", sa.String)))
