"""What the dashboards' queues and figures read, indexed to be read alone at 1,000,000 milestones
(bench/README.md):

- ``ix_submissions_rejected`` also holds each rejected submission's decision time and id: an
  action office's queue counts and sorts its returned submissions (285 for an office of the
  bench's set) from this index and the office's open recommendations
  (``ix_recommendations_office_open``), a hash join of two index-only scans, where it probed the
  index once for each of the office's 3,017 open recommendations and read each row found.
- On PostgreSQL too, the counters the figures sum (``recommendation_days``,
  ``open_milestone_days``) indexed with their count (2010_dash_oig made them on SQLite only): an
  office's rows were read through the primary key and then from their pages, one heap page for
  every two or three rows (1,347 pages for an office's 2,898 rows).
- On PostgreSQL, an office's open recommendations by management decision (then issue day) and by
  last activity, for an office's clock candidates (``app.dashboard.insights``): the undecided
  ones were found by intersecting the office's open recommendations (3,017) with every
  undecided one (20,186) and reading each from its page; the longest-decided by walking every
  office's in decision order (1,169 rows of other offices read for 20); the 90-day clock's the
  same way. With the office first, each is a range read in order, and the first kind is read
  from the index alone (it holds ``plan_submitted_on``). Not on SQLite, like
  ``ix_recommendations_office_open`` (1950_dash1m): its names start with that one's, so the
  schema's comparison with the models leaves them out (``app.dbtypes.MADE_IN_MIGRATIONS``).

Revision ID: 2020_dash2
Revises: 2010_dash_oig
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "2020_dash2"
down_revision = "2010_dash_oig"
branch_labels = None
depends_on = None

REJECTED = "ix_submissions_rejected"
WHERE = sa.text("decision = 'rejected'")
OPEN = "status IN ('unresolved_open', 'resolved_open', 'closure_pending')"
#: migrations/versions/0900's expression of the 90-day clock's base day, word for word.
LAST_ACTIVITY = (
    "CASE WHEN last_submitted_on IS NULL THEN coalesce(management_decision_on, issued_on) "
    "WHEN management_decision_on IS NULL THEN last_submitted_on "
    "WHEN last_submitted_on > management_decision_on THEN last_submitted_on "
    "ELSE management_decision_on END"
)
OFFICE_OPEN = (
    (
        "ix_recommendations_office_open_decided",
        "action_office_id, management_decision_on, issued_on, id, plan_submitted_on",
    ),
    ("ix_recommendations_office_open_activity", f"action_office_id, ({LAST_ACTIVITY}), id"),
)
COVERING = (
    ("ix_recommendation_days_covering", "recommendation_days", ["office_id", "status", "issued_on", "recommendations"]),
    ("ix_open_milestone_days_covering", "open_milestone_days", ["office_id", "due_on", "milestones"]),
)


def _rejected(columns: list[str]) -> None:
    op.drop_index(REJECTED, table_name="submissions")
    op.create_index(REJECTED, "submissions", columns, sqlite_where=WHERE, postgresql_where=WHERE)
    op.execute("ANALYZE submissions")


def upgrade():
    _rejected(["recommendation_id", "kind", "number", "decided_at", "id"])
    if op.get_bind().dialect.name == "postgresql":
        for name, table, columns in COVERING:
            op.create_index(name, table, columns)
            op.execute(f"ANALYZE {table}")
        for name, columns in OFFICE_OPEN:
            op.execute(f"CREATE INDEX {name} ON recommendations ({columns}) WHERE {OPEN}")
        op.execute("ANALYZE recommendations")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, _ in OFFICE_OPEN:
            op.execute(f"DROP INDEX {name}")
        for name, _, _ in COVERING:
            op.drop_index(name, table_name=_table(name))
    _rejected(["recommendation_id", "kind", "number"])


def _table(index: str) -> str:
    return next(table for name, table, _ in COVERING if name == index)
