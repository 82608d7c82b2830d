"""The lines of effort of each recommendation with their ids (replacing the index of
recommendation_id alone): an office's dashboard counts its overdue milestones through its
recommendations' lines; on PostgreSQL the lines came from a sequential scan of every line of
effort (a hash join), now from an index-only scan. EXPLAIN ANALYZE at 100,000 milestones:
10.0 ms -> 2.0 ms (bench/README.md). On SQLite an index already ends with the rowid: the same plans.

And the audit events of each recommendation with their ids (replacing the index of
recommendation_id alone): the recommendation page's recent history is "its events, newest
first, LIMIT 5"; PostgreSQL walked the primary key backwards filtering on the recommendation
(2,000,000 events read for an old recommendation: 2.8 s at 1,000,000 milestones); now it reads
the recommendation's events in order from this index.

Revision ID: 1850_bench
Revises: 1600
Create Date: 2026-12-02
"""

from alembic import op

revision = "1850_bench"
down_revision = "1600"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lines_of_effort") as batch_op:
        batch_op.create_index("ix_lines_of_effort_recommendation_line", ["recommendation_id", "id"])
        batch_op.drop_index("ix_lines_of_effort_recommendation_id")
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.create_index("ix_audit_events_recommendation_trail", ["recommendation_id", "id"])
        batch_op.drop_index("ix_audit_events_recommendation_id")
    op.execute("ANALYZE lines_of_effort")
    op.execute("ANALYZE audit_events")


def downgrade():
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.create_index("ix_audit_events_recommendation_id", ["recommendation_id"])
        batch_op.drop_index("ix_audit_events_recommendation_trail")
    with op.batch_alter_table("lines_of_effort") as batch_op:
        batch_op.create_index("ix_lines_of_effort_recommendation_id", ["recommendation_id"])
        batch_op.drop_index("ix_lines_of_effort_recommendation_line")
