"""The recommendation keeps the day its first plan went to OIG and the day of its latest
submission (the clocks' inputs), so that pages and the dashboard need no aggregate over
all submissions; filled here from the submissions already sent. With indexes for the
dashboard's list order and for its deadline candidates (open recommendations by issue day
and by the status-update clock's base day, an expression index), pending submissions in
order, and users by session token (every signed-in request).

Revision ID: 0900
Revises: 0800
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa

revision = "0900"
down_revision = "0800"
branch_labels = None
depends_on = None

OPEN = "status IN ('unresolved_open', 'resolved_open', 'closure_pending')"
LAST_ACTIVITY = (
    "CASE WHEN last_submitted_on IS NULL THEN coalesce(management_decision_on, issued_on) "
    "WHEN management_decision_on IS NULL THEN last_submitted_on "
    "WHEN last_submitted_on > management_decision_on THEN last_submitted_on "
    "ELSE management_decision_on END"
)


def upgrade():
    # Plain ALTER TABLE on both databases: a batch rebuild on SQLite would drop the table's
    # triggers (full-text, migration 0800) and trip the foreign keys that point at it.
    op.add_column("recommendations", sa.Column("plan_submitted_on", sa.Date(), nullable=True))
    op.add_column("recommendations", sa.Column("last_submitted_on", sa.Date(), nullable=True))
    op.execute("""
        UPDATE recommendations SET
          plan_submitted_on = (SELECT min(s.submitted_on) FROM submissions s
                               WHERE s.recommendation_id = recommendations.id AND s.kind = 'plan'),
          last_submitted_on = (SELECT max(s.submitted_on) FROM submissions s
                               WHERE s.recommendation_id = recommendations.id)
        WHERE id IN (SELECT recommendation_id FROM submissions)""")
    op.create_index("ix_recommendations_list_order", "recommendations", [sa.text("issued_on DESC"), "report_id", "id"])
    op.create_index(
        "ix_recommendations_office_list_order",
        "recommendations",
        ["action_office_id", sa.text("issued_on DESC"), "report_id", "id"],
    )
    op.create_index(
        "ix_recommendations_open_issued",
        "recommendations",
        ["issued_on", "id"],
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )
    # The day the 90-day status update clock counts from (app/dashboard/insights.py,
    # last_activity_on: the same expression, or the planner will not use the index).
    # Every signed-in request loads its user by the session token.
    op.create_index("ix_users_session_token", "users", ["session_token"])
    op.drop_index("ix_submissions_pending", table_name="submissions")
    op.create_index(
        "ix_submissions_pending",
        "submissions",
        ["submitted_at", "id"],
        sqlite_where=sa.text("decision IS NULL"),
        postgresql_where=sa.text("decision IS NULL"),
    )
    op.execute(f"CREATE INDEX ix_recommendations_open_activity ON recommendations (({LAST_ACTIVITY}), id) WHERE {OPEN}")


def downgrade():
    op.execute("DROP INDEX ix_recommendations_open_activity")
    op.drop_index("ix_users_session_token", table_name="users")
    op.drop_index("ix_submissions_pending", table_name="submissions")
    op.create_index("ix_submissions_pending", "submissions", ["decision", "submitted_at"])
    op.drop_index("ix_recommendations_open_issued", table_name="recommendations")
    op.drop_index("ix_recommendations_office_list_order", table_name="recommendations")
    op.drop_index("ix_recommendations_list_order", table_name="recommendations")
    op.execute("ALTER TABLE recommendations DROP COLUMN last_submitted_on")
    op.execute("ALTER TABLE recommendations DROP COLUMN plan_submitted_on")
