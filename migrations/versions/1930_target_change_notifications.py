"""Notifications of target changes: a request that awaits a manager, and the manager's answer
(the two new kinds, on the notifications and on each person's preferences).

The kinds are a CHECK constraint on a string column (``app.dbtypes.enum``), as wide as the
longest kind: both change, the same way on SQLite (batch: the table is rebuilt) and PostgreSQL.

Revision ID: 1930_targets
Revises: 1920_pages
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "1930_targets"
down_revision = "1920_pages"
branch_labels = None
depends_on = None

OLD = (
    "submission_sent",
    "oig_decision",
    "evidence_reviewed",
    "date_change_requested",
    "date_change_decided",
    "comment",
    "metric_flag",
)
NEW = OLD + ("target_change_requested", "target_change_decided")
#: Each table with a ``kind`` column and the name of its CHECK constraint's type.
TABLES = (("notifications", "notification_kind"), ("notification_preferences", "notification_preference_kind"))


def _change(before: tuple[str, ...], after: tuple[str, ...]) -> None:
    for table, name in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
            batch_op.alter_column(
                "kind",
                existing_type=sa.String(max(map(len, before))),
                type_=sa.String(max(map(len, after))),
                existing_nullable=False,
            )
            batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), sa.column("kind").in_(after))


def upgrade():
    _change(OLD, NEW)


def downgrade():
    op.execute(sa.text("DELETE FROM notification_preferences WHERE kind LIKE 'target_change_%'"))
    op.execute(sa.text("DELETE FROM notifications WHERE kind LIKE 'target_change_%'"))
    _change(NEW, OLD)
