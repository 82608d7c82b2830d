"""Metric target changes by status (``ix_metric_target_changes_status``), as due-date changes have.

An office's "Returned to you" queue (on its start page and /queue) names the target changes a
manager declined. Without an index on the status it reached them from the other end: every
recommendation of the office, their lines of effort, their metrics, then each metric's changes,
a walk that grows with the office's plans (on SQLite at 50,000 milestones 0.4 of the queue's
1.3 ms, with no target change in the data at all). With it the branch starts from the declined
changes, which are few, as the due-date branch does from ``ix_due_date_changes_status``.

Revision ID: 2050_target_status
Revises: 2040_search_trgm
Create Date: 2026-12-03
"""

from alembic import op

revision = "2050_target_status"
down_revision = "2040_search_trgm"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("metric_target_changes") as batch_op:
        batch_op.create_index("ix_metric_target_changes_status", ["status", "metric_id"], unique=False)


def downgrade():
    with op.batch_alter_table("metric_target_changes") as batch_op:
        batch_op.drop_index("ix_metric_target_changes_status")
