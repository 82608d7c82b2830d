"""Indexes the dashboard's queries use, and full-text search on both databases.

- ``ix_milestones_open_due``: the open milestones by due date (partial), for the overdue
  list's ORDER BY ... LIMIT and its count;
- ``ix_recommendations_status_issued`` and ``ix_recommendations_decision_on``: counts by
  status and age, and the deadline candidates;
- full-text search (app/search/fulltext.py): on SQLite an FTS5 table per searchable table
  with triggers; on PostgreSQL a GIN index on each table's ``to_tsvector`` document.

Note for later migrations on SQLite: a batch ALTER that rebuilds one of these tables drops
its triggers; recreate them (``_sqlite_triggers``) in that migration.

Revision ID: 0800
Revises: 0700
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa

revision = "0800"
down_revision = "0700"
branch_labels = None
depends_on = None

OPEN_MILESTONE = "status IN ('not_started', 'in_progress')"
DOCUMENTS = {
    "reports": ("title", "summary", "agency"),
    "recommendations": ("text", "concurrence_response", "responsible_official"),
    "lines_of_effort": ("title",),
    "milestones": ("title", "description", "expected_evidence"),
    "evidence_items": ("title", "description"),
}


def _sqlite_triggers(table: str, columns: tuple[str, ...]) -> list[str]:
    fts, cols = f"fts_{table}", ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return [
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END",
    ]


def upgrade():
    op.create_index(
        "ix_milestones_open_due",
        "milestones",
        ["current_due_on", "id"],
        sqlite_where=sa.text(OPEN_MILESTONE),
        postgresql_where=sa.text(OPEN_MILESTONE),
    )
    op.create_index("ix_recommendations_status_issued", "recommendations", ["status", "issued_on"])
    op.create_index("ix_recommendations_decision_on", "recommendations", ["management_decision_on"])
    if op.get_bind().dialect.name == "sqlite":
        for table, columns in DOCUMENTS.items():
            fts = f"fts_{table}"
            op.execute(
                f"CREATE VIRTUAL TABLE {fts} USING fts5({', '.join(columns)}, content='{table}', "
                f"content_rowid='id', tokenize='porter unicode61')"
            )
            for statement in _sqlite_triggers(table, columns):
                op.execute(statement)
            op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
        # SQLite plans without statistics until ANALYZE runs; with them it takes the partial
        # index for the overdue list (the scheduler's housekeeping runs PRAGMA optimize daily).
        op.execute("ANALYZE")
    else:
        for table, columns in DOCUMENTS.items():
            document = " || ' ' || ".join(f"coalesce({c}, '')" for c in columns)
            op.execute(f"CREATE INDEX fts_{table} ON {table} USING gin (to_tsvector('english', {document}))")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for table in DOCUMENTS:
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS fts_{table}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS fts_{table}")
    else:
        for table in DOCUMENTS:
            op.execute(f"DROP INDEX IF EXISTS fts_{table}")
    op.drop_index("ix_recommendations_decision_on", table_name="recommendations")
    op.drop_index("ix_recommendations_status_issued", table_name="recommendations")
    op.drop_index("ix_milestones_open_due", table_name="milestones")
