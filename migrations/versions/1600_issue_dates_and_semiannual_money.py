"""What the semiannual report's money tables and a faithful demo need.

- reports.printed_issued_on: the issue date printed on a report whose clocks run from a replayed
  ``issued_on`` (the OIG-15-85 demo); set only by ``seed-demo``.
- recommendations.unsupported_costs: the part of the questioned costs not supported by adequate
  documentation (IG Act section 5(f)).
- recommendations.disallowed_costs / agreed_funds: what the management decision sustained of the
  questioned costs, and agreed of the funds to be put to better use (recorded with OIG's acceptance).
- recommendations.closed_on: the day the recommendation was closed, either way; a recommendation
  closed without implementation keeps it, so that it stays in the periods it was open in.
  Filled here from the status history.

Revision ID: 1600
Revises: 1200
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = "1600"
down_revision = "1200"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(16, 2)


def upgrade():
    # Plain ALTER TABLE ADD COLUMN (nullable) on both databases: a batch rebuild on SQLite would
    # drop the recommendations table's full-text triggers (migration 0800).
    op.add_column("reports", sa.Column("printed_issued_on", sa.Date(), nullable=True))
    for name in ("unsupported_costs", "disallowed_costs", "agreed_funds"):
        op.add_column("recommendations", sa.Column(name, MONEY, nullable=True))
    op.add_column("recommendations", sa.Column("closed_on", sa.Date(), nullable=True))
    op.execute("UPDATE recommendations SET closed_on = final_action_on WHERE status = 'resolved_closed'")
    # The day (UTC) of the status change that closed it.
    day = (
        "date(max(c.changed_at))"
        if op.get_bind().dialect.name == "sqlite"
        else "CAST(max(c.changed_at) AT TIME ZONE 'UTC' AS DATE)"
    )
    op.execute(f"""
        UPDATE recommendations SET closed_on = (
          SELECT {day} FROM status_changes c
          WHERE c.recommendation_id = recommendations.id AND c.to_status = 'closed_not_implemented')
        WHERE status = 'closed_not_implemented'""")


def downgrade():
    op.drop_column("recommendations", "closed_on")
    for name in ("agreed_funds", "disallowed_costs", "unsupported_costs"):
        op.drop_column("recommendations", name)
    op.drop_column("reports", "printed_issued_on")
