"""Reports with a replayed issue date (partial index on ``printed_issued_on``): every page asks
whether the demo is loaded (the site-wide banner); without an index the answer "no" read every
report (20,000 at 1,000,000 milestones), on every page. Now one probe of an empty index.

Revision ID: 1920_pages
Revises: 1910_dash
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "1920_pages"
down_revision = "1910_dash"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reports") as batch_op:
        batch_op.create_index(
            "ix_reports_printed_issued_on",
            ["printed_issued_on"],
            sqlite_where=sa.text("printed_issued_on IS NOT NULL"),
            postgresql_where=sa.text("printed_issued_on IS NOT NULL"),
        )


def downgrade():
    with op.batch_alter_table("reports") as batch_op:
        batch_op.drop_index("ix_reports_printed_issued_on")
