"""ix_reports_oig_office: the dashboard filter's OIG offices walked a distinct value at a time
(app/dashboard/filters.py, ``choices_statement``), not read from every report (20,000 at
1,000,000 milestones; the office's 5,000 recommendations for an office's dashboard).

And the counters the figures sum (``recommendation_days``, ``open_milestone_days``, made by
1950_dash1m and 1910_dash) indexed with their count: SQLite read each row of the scope through its
primary key's index and then the table (2,874 rows for every office at 50,000 milestones: about
half the figures' 4 ms); a covering index is read alone. SQLite only: PostgreSQL reads these
small tables' primary keys and their pages as it did (tests/web/test_dashboard_insights.py).

Revision ID: 2010_dash_oig
Revises: 2000_pages1m
Create Date: 2026-12-03
"""

from alembic import op

revision = "2010_dash_oig"
down_revision = "2000_pages1m"
branch_labels = None
depends_on = None


COVERING = (
    ("ix_recommendation_days_covering", "recommendation_days", ["office_id", "status", "issued_on", "recommendations"]),
    ("ix_open_milestone_days_covering", "open_milestone_days", ["office_id", "due_on", "milestones"]),
)


def upgrade():
    op.create_index("ix_reports_oig_office", "reports", ["oig_office"])
    op.execute("ANALYZE reports")
    if op.get_bind().dialect.name == "sqlite":
        for name, table, columns in COVERING:
            op.create_index(name, table, columns)
            op.execute(f"ANALYZE {table}")


def downgrade():
    for name, _, _ in COVERING:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index("ix_reports_oig_office", table_name="reports")
