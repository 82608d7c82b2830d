"""Recommendations counted by action office, status and issue day (``recommendation_days``),
kept by the database's own triggers, and the rejected submissions indexed apart: what the
dashboards still read in proportion to the rows at 1,000,000 milestones (bench/README.md).

- The figures (counts by status, by age since issue) were a ``GROUP BY status`` over every
  recommendation in scope: 100,000 index entries for all offices, 5,000 heap rows for an office.
  They are now sums over this table's rows of the scope, one per status and issue day that has
  or had a recommendation: at most five statuses times the days reports were issued on (10,887
  rows for every office in the bench's set, about 2,900 for an office), whatever the number of
  recommendations. As with ``open_milestone_days`` (1910_dash), office 0 holds every office's
  rows, and a row emptied by a change stays, at zero.
- An action office's queue found its returned submissions by reading every submission of the
  office's open recommendations (8 a recommendation at 1,000,000) to keep the rejected ones:
  ``ix_submissions_rejected`` holds only those, with what the "latest of its kind" test needs.
- On PostgreSQL, ``ix_recommendations_office_open``: an office's open recommendations by an
  index-only scan (the returned submissions' join, the clock candidates of an office) instead of
  5,000 heap rows through ix_recommendations_action_office_id. Not on SQLite: there it would be
  chosen over the list order's index for the clock candidates, which then need a sort
  (tests/web/test_dashboard_insights.py); made here, as the models cannot make an index for one
  database only (``app.dbtypes.MADE_IN_MIGRATIONS``).

What changes ``recommendation_days`` (the WHEN clause keeps every other write free of it): a
recommendation inserted or deleted, or updated in its status, issue day or action office.
On PostgreSQL the function first takes the audit chain's advisory lock, as 1910_dash's do (see
there why: no two writers wait for a counter row and the chain lock in opposite orders).

The table is made here, not by a model (``app.dbtypes.MADE_IN_MIGRATIONS``), so a backup leaves
it out and a restore rebuilds it through these triggers. A later batch ALTER of recommendations
on SQLite drops the triggers: recreate them (``sqlite_triggers``) in that migration
(tests/web/test_dashboard_insights.py checks the counts against the recommendations at head).

Revision ID: 1950_dash1m
Revises: 1945_search
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "1950_dash1m"
down_revision = "1945_search"
branch_labels = None
depends_on = None

#: app/audit.py's _PG_CHAIN_LOCK (0x0A0D17), written here as a migration keeps its own copy.
CHAIN_LOCK = 0x0A0D17
TABLE = "recommendation_days"
#: The office_id of the rows that count every office's recommendations (office ids start at 1).
EVERY_OFFICE = 0
OPEN = "status IN ('unresolved_open', 'resolved_open', 'closure_pending')"
OFFICE_OPEN = "ix_recommendations_office_open"
UPSERT = (
    f"INSERT INTO {TABLE} (office_id, status, issued_on, recommendations) {{select}} "
    f"ON CONFLICT (office_id, status, issued_on) "
    f"DO UPDATE SET recommendations = {TABLE}.recommendations + excluded.recommendations"
)


def _count(row: str, sign: int) -> tuple[str, str]:
    """Count one recommendation row (``new`` or ``old``) in or out of its office's day, and of
    every office's (office 0). SQLite wants a WHERE before ON CONFLICT in INSERT ... SELECT."""
    return (
        UPSERT.format(select=f"SELECT {row}.action_office_id, {row}.status, {row}.issued_on, {sign} WHERE true"),
        UPSERT.format(select=f"SELECT {EVERY_OFFICE}, {row}.status, {row}.issued_on, {sign} WHERE true"),
    )


#: (trigger name, event, WHEN, statements), on recommendations, the same on both databases.
TRIGGERS = (
    ("rsd_recommendation_insert", "INSERT", "", _count("new", 1)),
    ("rsd_recommendation_delete", "DELETE", "", _count("old", -1)),
    (
        "rsd_recommendation_update",
        "UPDATE OF status, issued_on, action_office_id",
        "old.status {differs} new.status OR old.issued_on {differs} new.issued_on "
        "OR old.action_office_id {differs} new.action_office_id",
        (*_count("old", -1), *_count("new", 1)),
    ),
)


def sqlite_triggers() -> list[str]:
    return [
        f"CREATE TRIGGER {name} AFTER {event} ON recommendations "
        + (f"WHEN {when.format(differs='IS NOT')} " if when else "")
        + f"BEGIN {'; '.join(statements)}; END"
        for name, event, when, statements in TRIGGERS
    ]


def postgresql_triggers() -> list[str]:
    made = []
    for name, event, when, statements in TRIGGERS:
        made += [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"PERFORM pg_advisory_xact_lock({CHAIN_LOCK}); {'; '.join(statements)}; RETURN NULL; END $$",
            f"CREATE TRIGGER {name} AFTER {event} ON recommendations FOR EACH ROW "
            + (f"WHEN ({when.format(differs='IS DISTINCT FROM')}) " if when else "")
            + f"EXECUTE FUNCTION {name}()",
        ]
    return made


def upgrade():
    # The triggers come before the fill, in the same transaction: on PostgreSQL CREATE TRIGGER
    # locks recommendations against writes until the commit, so no change is missed or counted twice.
    op.execute(
        f"CREATE TABLE {TABLE} (office_id INTEGER NOT NULL, status VARCHAR(22) NOT NULL, issued_on DATE NOT NULL, "
        f"recommendations INTEGER NOT NULL, PRIMARY KEY (office_id, status, issued_on))"
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in sqlite_triggers() if sqlite else postgresql_triggers():
        op.execute(statement)
    op.execute(
        f"INSERT INTO {TABLE} (office_id, status, issued_on, recommendations) "
        f"SELECT action_office_id, status, issued_on, count(*) FROM recommendations "
        f"GROUP BY action_office_id, status, issued_on"
    )
    op.execute(
        f"INSERT INTO {TABLE} (office_id, status, issued_on, recommendations) "
        f"SELECT {EVERY_OFFICE}, status, issued_on, sum(recommendations) FROM {TABLE} GROUP BY status, issued_on"
    )
    op.create_index(
        "ix_submissions_rejected",
        "submissions",
        ["recommendation_id", "kind", "number"],
        sqlite_where=sa.text("decision = 'rejected'"),
        postgresql_where=sa.text("decision = 'rejected'"),
    )
    if not sqlite:
        op.execute(f"CREATE INDEX {OFFICE_OPEN} ON recommendations (action_office_id, status, id) WHERE {OPEN}")
        op.execute("ANALYZE recommendations")
    op.execute(f"ANALYZE {TABLE}")
    op.execute("ANALYZE submissions")


def downgrade():
    op.execute(f"DROP INDEX IF EXISTS {OFFICE_OPEN}")
    op.drop_index("ix_submissions_rejected", table_name="submissions")
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, *_ in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + ("" if sqlite else " ON recommendations"))
        if not sqlite:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.execute(f"DROP TABLE {TABLE}")
