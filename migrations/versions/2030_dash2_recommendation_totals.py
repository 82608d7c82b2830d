"""Recommendations counted by action office and status (``recommendation_totals``), kept by the
same triggers as ``recommendation_days`` (1950_dash1m): the dashboards' figures read the counts
by status from these rows (five an office) and sum day rows only for the ages, the open
statuses' days of the last two years (an office's 528 of 2,898 rows in the bench's set at
1,000,000 milestones; about 2,000 of 10,887 for every office). Office 0 counts every office's,
and a total emptied by a change stays, at zero.

The three triggers' functions (PostgreSQL) or the triggers themselves (SQLite) are made again
with one more upsert for each row counted in or out; the downgrade makes 1950_dash1m's again.
Like ``recommendation_days`` the table is made here, not by a model
(``app.dbtypes.MADE_IN_MIGRATIONS``): a backup leaves it out and a restore rebuilds it through the
triggers, as ``bench seed`` fills it. A later batch ALTER of recommendations on SQLite drops the
triggers: recreate them (``sqlite_triggers``) in that migration.

Revision ID: 2030_dash2
Revises: 2020_dash2
Create Date: 2026-12-03
"""

from alembic import op

revision = "2030_dash2"
down_revision = "2020_dash2"
branch_labels = None
depends_on = None

#: app/audit.py's _PG_CHAIN_LOCK (0x0A0D17), written here as a migration keeps its own copy.
CHAIN_LOCK = 0x0A0D17
DAYS, TOTALS = "recommendation_days", "recommendation_totals"
EVERY_OFFICE = 0
DAY_UPSERT = (
    f"INSERT INTO {DAYS} (office_id, status, issued_on, recommendations) {{select}} "
    f"ON CONFLICT (office_id, status, issued_on) "
    f"DO UPDATE SET recommendations = {DAYS}.recommendations + excluded.recommendations"
)
TOTAL_UPSERT = (
    f"INSERT INTO {TOTALS} (office_id, status, recommendations) {{select}} "
    f"ON CONFLICT (office_id, status) DO UPDATE SET recommendations = {TOTALS}.recommendations + excluded.recommendations"
)


def _count(row: str, sign: int, totals: bool) -> tuple[str, ...]:
    """Count one recommendation row (``new`` or ``old``) in or out of its office's day (and
    total), and of every office's (office 0). SQLite wants a WHERE before ON CONFLICT."""
    counted = []
    for office in (f"{row}.action_office_id", str(EVERY_OFFICE)):
        counted.append(DAY_UPSERT.format(select=f"SELECT {office}, {row}.status, {row}.issued_on, {sign} WHERE true"))
        if totals:
            counted.append(TOTAL_UPSERT.format(select=f"SELECT {office}, {row}.status, {sign} WHERE true"))
    return tuple(counted)


def _triggers(totals: bool) -> tuple:
    """(trigger name, event, WHEN, statements) on recommendations: 1950_dash1m's, with the totals or without."""
    return (
        ("rsd_recommendation_insert", "INSERT", "", _count("new", 1, totals)),
        ("rsd_recommendation_delete", "DELETE", "", _count("old", -1, totals)),
        (
            "rsd_recommendation_update",
            "UPDATE OF status, issued_on, action_office_id",
            "old.status {differs} new.status OR old.issued_on {differs} new.issued_on "
            "OR old.action_office_id {differs} new.action_office_id",
            (*_count("old", -1, totals), *_count("new", 1, totals)),
        ),
    )


def sqlite_triggers(totals: bool = True) -> list[str]:
    return [
        f"CREATE TRIGGER {name} AFTER {event} ON recommendations "
        + (f"WHEN {when.format(differs='IS NOT')} " if when else "")
        + f"BEGIN {'; '.join(statements)}; END"
        for name, event, when, statements in _triggers(totals)
    ]


def postgresql_functions(totals: bool = True) -> list[str]:
    """The triggers' functions, replaced (the triggers that call them stay as they are)."""
    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"PERFORM pg_advisory_xact_lock({CHAIN_LOCK}); {'; '.join(statements)}; RETURN NULL; END $$"
        for name, _, _, statements in _triggers(totals)
    ]


def _make_triggers(totals: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, *_ in _triggers(totals):
            op.execute(f"DROP TRIGGER {name}")
        statements = sqlite_triggers(totals)
    else:
        statements = postgresql_functions(totals)
    for statement in statements:
        op.execute(statement)


def upgrade():
    # As in 1950_dash1m: the triggers first, then the fill, in one transaction (on PostgreSQL
    # CREATE OR REPLACE FUNCTION does not lock recommendations: take the lock the triggers' own
    # CREATE TRIGGER took, so that no change lands between the fill and the commit uncounted).
    op.execute(
        f"CREATE TABLE {TOTALS} (office_id INTEGER NOT NULL, status VARCHAR(22) NOT NULL, "
        f"recommendations INTEGER NOT NULL, PRIMARY KEY (office_id, status))"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("LOCK TABLE recommendations IN SHARE ROW EXCLUSIVE MODE")
    _make_triggers(totals=True)
    op.execute(
        f"INSERT INTO {TOTALS} (office_id, status, recommendations) "
        f"SELECT office_id, status, sum(recommendations) FROM {DAYS} GROUP BY office_id, status"
    )
    op.execute(f"ANALYZE {TOTALS}")


def downgrade():
    _make_triggers(totals=False)
    op.execute(f"DROP TABLE {TOTALS}")
