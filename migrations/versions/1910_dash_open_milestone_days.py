"""Open milestones counted by action office and due day (``open_milestone_days``), kept by the
database's own triggers: the dashboards' overdue count is the sum of an office's days before
today (at most one row per day; office 0 holds every office's) instead of a count of every
overdue milestone.

At 1,000,000 milestones the all-offices count read 139,000 index entries and an office's count
probed the partial index once for each of its 15,000 lines of effort (bench/README.md); the sum
reads one row per due day that has or had an open milestone (of the office, or of any office):
about 2,800 days for the bench's six years, whatever the number of milestones. The table is not a cache: each change to a milestone, a line of
effort or a recommendation that moves a milestone in or out of an office's open days updates it
in the same transaction, so a reader sees exactly the rows it would count.

What changes it (a row per trigger; the WHEN clauses keep every other write free of it):
- a milestone inserted or deleted while open, or updated in its status (open or not), due day
  or line of effort;
- a line of effort moved to another recommendation, a recommendation moved to another office:
  their open milestones move between offices.

On PostgreSQL the function first takes the audit chain's advisory lock (``app/audit.py``,
``_PG_CHAIN_LOCK``), which every write takes before it commits anyway: the counters' rows are
then only locked by its holder, so two writers can never wait for each other's counter row
and the chain lock in opposite orders (a deadlock). SQLite has one writer at a time.

The table is made here, not by a model (``app.dbtypes.MADE_IN_MIGRATIONS``), so a backup
leaves it out and a restore rebuilds it through these triggers as the milestones come back.
Note for later migrations on SQLite: a batch ALTER that rebuilds milestones, lines_of_effort
or recommendations drops its triggers; recreate them (``sqlite_triggers``) in that migration
(tests/web/test_dashboard_insights.py checks the counts against the milestones at head).

Revision ID: 1910_dash
Revises: 1850_bench
Create Date: 2026-12-02
"""

from alembic import op

revision = "1910_dash"
down_revision = "1850_bench"
branch_labels = None
depends_on = None

#: app/audit.py's _PG_CHAIN_LOCK (0x0A0D17), written here as a migration keeps its own copy.
CHAIN_LOCK = 0x0A0D17
OPEN = "IN ('not_started', 'in_progress')"
TABLE = "open_milestone_days"
#: The office_id of the rows that count every office's milestones (office ids start at 1):
#: the all-offices count then reads one row a day too. Moves between offices leave them as they are.
EVERY_OFFICE = 0
UPSERT = (
    f"INSERT INTO {TABLE} (office_id, due_on, milestones) {{select}} "
    f"ON CONFLICT (office_id, due_on) DO UPDATE SET milestones = {TABLE}.milestones + excluded.milestones"
)


def _milestone(row: str, sign: int) -> tuple[str, str]:
    """Count one milestone row (``new`` or ``old``) in or out of its recommendation's office,
    and of every office's (office 0)."""
    return (
        UPSERT.format(
            select=f"SELECT r.action_office_id, {row}.current_due_on, {sign} FROM lines_of_effort l "
            f"JOIN recommendations r ON r.id = l.recommendation_id "
            f"WHERE l.id = {row}.line_of_effort_id AND {row}.status {OPEN}"
        ),
        UPSERT.format(select=f"SELECT {EVERY_OFFICE}, {row}.current_due_on, {sign} WHERE {row}.status {OPEN}"),
    )


def _line(row: str, sign: int) -> str:
    """Move the open milestones of a line of effort in or out of ``row``'s recommendation's office."""
    return UPSERT.format(
        select=f"SELECT r.action_office_id, m.current_due_on, {sign} * count(*) FROM milestones m "
        f"JOIN recommendations r ON r.id = {row}.recommendation_id "
        f"WHERE m.line_of_effort_id = new.id AND m.status {OPEN} GROUP BY r.action_office_id, m.current_due_on"
    )


def _recommendation(row: str, sign: int) -> str:
    """Move the open milestones of a recommendation in or out of ``row``'s office."""
    return UPSERT.format(
        select=f"SELECT {row}.action_office_id, m.current_due_on, {sign} * count(*) FROM lines_of_effort l "
        f"JOIN milestones m ON m.line_of_effort_id = l.id "
        f"WHERE l.recommendation_id = new.id AND m.status {OPEN} GROUP BY m.current_due_on"
    )


def _moved(differs: str) -> str:
    """The WHEN of a milestone's update: what counts changed (``differs`` is the dialect's
    null-safe inequality)."""
    return (
        f"((old.status {OPEN}) {differs} (new.status {OPEN}) "
        f"OR old.current_due_on {differs} new.current_due_on "
        f"OR old.line_of_effort_id {differs} new.line_of_effort_id)"
    )


#: (trigger name, table, event, WHEN, statements): the same on both databases.
TRIGGERS = (
    ("omd_milestone_insert", "milestones", "INSERT", f"new.status {OPEN}", _milestone("new", 1)),
    ("omd_milestone_delete", "milestones", "DELETE", f"old.status {OPEN}", _milestone("old", -1)),
    (
        "omd_milestone_update",
        "milestones",
        "UPDATE OF status, current_due_on, line_of_effort_id",
        "{moved}",
        (*_milestone("old", -1), *_milestone("new", 1)),
    ),
    (
        "omd_line_moved",
        "lines_of_effort",
        "UPDATE OF recommendation_id",
        "old.recommendation_id {differs} new.recommendation_id",
        (_line("old", -1), _line("new", 1)),
    ),
    (
        "omd_recommendation_moved",
        "recommendations",
        "UPDATE OF action_office_id",
        "old.action_office_id {differs} new.action_office_id",
        (_recommendation("old", -1), _recommendation("new", 1)),
    ),
)


def sqlite_triggers() -> list[str]:
    return [
        f"CREATE TRIGGER {name} AFTER {event} ON {table} "
        f"WHEN {when.format(moved=_moved('IS NOT'), differs='IS NOT')} BEGIN {'; '.join(statements)}; END"
        for name, table, event, when, statements in TRIGGERS
    ]


def postgresql_triggers() -> list[str]:
    made = []
    for name, table, event, when, statements in TRIGGERS:
        body = "; ".join(statements)
        made += [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"PERFORM pg_advisory_xact_lock({CHAIN_LOCK}); {body}; RETURN NULL; END $$",
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW "
            f"WHEN ({when.format(moved=_moved('IS DISTINCT FROM'), differs='IS DISTINCT FROM')}) "
            f"EXECUTE FUNCTION {name}()",
        ]
    return made


def upgrade():
    # The triggers come before the fill, in the same transaction: on PostgreSQL CREATE TRIGGER
    # locks the three tables against writes until the commit, so no change is missed or counted twice.
    op.execute(
        f"CREATE TABLE {TABLE} (office_id INTEGER NOT NULL, due_on DATE NOT NULL, milestones INTEGER NOT NULL, "
        f"PRIMARY KEY (office_id, due_on))"
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in sqlite_triggers() if sqlite else postgresql_triggers():
        op.execute(statement)
    op.execute(
        f"INSERT INTO {TABLE} (office_id, due_on, milestones) "
        f"SELECT r.action_office_id, m.current_due_on, count(*) FROM milestones m "
        f"JOIN lines_of_effort l ON l.id = m.line_of_effort_id JOIN recommendations r ON r.id = l.recommendation_id "
        f"WHERE m.status {OPEN} GROUP BY r.action_office_id, m.current_due_on"
    )
    op.execute(
        f"INSERT INTO {TABLE} (office_id, due_on, milestones) SELECT {EVERY_OFFICE}, due_on, sum(milestones) "
        f"FROM {TABLE} GROUP BY due_on"
    )
    op.execute(f"ANALYZE {TABLE}")


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, table, *_ in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + ("" if sqlite else f" ON {table}"))
        if not sqlite:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.execute(f"DROP TABLE {TABLE}")
