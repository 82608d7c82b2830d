"""Records that can be corrected without lost updates, and search inside files and comments.

- ``version`` on reports, recommendations, lines of effort, metrics and metric readings: the
  optimistic lock every edit form checks (app/versioning.py), as milestones already had;
- ``metric_target_changes``: a metric's target changed by the action office after the plan
  was accepted waits for a manager's approval, like a milestone's due date;
- ``evidence_texts``: the words inside evidence files, and full-text indexes on it and on
  ``comments`` (an FTS5 table with triggers on SQLite, a GIN index on PostgreSQL, as 0800).

Adding a column is a plain ALTER TABLE ADD COLUMN on SQLite (no table rebuild), so the
full-text triggers of migration 0800 on these tables stay in place.

Revision ID: 1700
Revises: 1400
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = "1700"
down_revision = "1400"
branch_labels = None
depends_on = None

VERSIONED = ("reports", "recommendations", "lines_of_effort", "metrics", "metric_readings")
DOCUMENTS = {"evidence_texts": ("text",), "comments": ("body",)}
#: Migration 0800's full-text documents of the versioned tables: a batch DROP COLUMN on SQLite
#: rebuilds the table and drops its triggers, so the downgrade makes them again.
VERSIONED_DOCUMENTS = {
    "reports": ("title", "summary", "agency"),
    "recommendations": ("text", "concurrence_response", "responsible_official"),
    "lines_of_effort": ("title",),
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
    for table in VERSIONED:
        op.add_column(table, sa.Column("version", sa.Integer(), server_default="1", nullable=False))

    op.create_table(
        "metric_target_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("old_target_value", sa.Numeric(18, 4), nullable=False),
        sa.Column("new_target_value", sa.Numeric(18, 4), nullable=False),
        sa.Column("old_target_on", sa.Date(), nullable=True),
        sa.Column("new_target_on", sa.Date(), nullable=True),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "applied",
                "pending",
                "approved",
                "declined",
                name="target_change_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["metric_id"], ["metrics.id"], name=op.f("fk_metric_target_changes_metric_id_metrics"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_metric_target_changes_requested_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_metric_target_changes_decided_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_target_changes")),
    )
    op.create_index(op.f("ix_metric_target_changes_metric_id"), "metric_target_changes", ["metric_id"])
    op.create_index(
        "uq_metric_target_changes_one_pending",
        "metric_target_changes",
        ["metric_id"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )

    op.create_table(
        "evidence_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("problem", sa.String(300), nullable=False),
        sa.Column("extracted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["evidence_versions.id"],
            name=op.f("fk_evidence_texts_version_id_evidence_versions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evidence_items.id"],
            name=op.f("fk_evidence_texts_item_id_evidence_items"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_texts")),
        sa.UniqueConstraint("version_id", name=op.f("uq_evidence_texts_version_id")),
    )
    op.create_index(op.f("ix_evidence_texts_item_id"), "evidence_texts", ["item_id"])

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
    op.drop_index(op.f("ix_evidence_texts_item_id"), table_name="evidence_texts")
    op.drop_table("evidence_texts")
    op.drop_index("uq_metric_target_changes_one_pending", table_name="metric_target_changes")
    op.drop_index(op.f("ix_metric_target_changes_metric_id"), table_name="metric_target_changes")
    op.drop_table("metric_target_changes")
    for table in VERSIONED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("version")
    if op.get_bind().dialect.name == "sqlite":
        for table, columns in VERSIONED_DOCUMENTS.items():
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS fts_{table}_{suffix}")
            for statement in _sqlite_triggers(table, columns):
                op.execute(statement)
            op.execute(f"INSERT INTO fts_{table}(fts_{table}) VALUES ('rebuild')")
