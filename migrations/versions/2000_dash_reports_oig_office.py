"""ix_reports_oig_office: the dashboard filter's OIG offices walked a distinct value at a time
(app/dashboard/filters.py, ``choices_statement``), not read from every report (20,000 at
1,000,000 milestones; the office's 5,000 recommendations for an office's dashboard).

Revision ID: 2000_dash_oig
Revises: 1950_dash1m
Create Date: 2026-12-03
"""

from alembic import op

revision = "2000_dash_oig"
down_revision = "1950_dash1m"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_reports_oig_office", "reports", ["oig_office"])
    op.execute("ANALYZE reports")


def downgrade():
    op.drop_index("ix_reports_oig_office", table_name="reports")
