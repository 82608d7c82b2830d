"""PostgreSQL: each milestone's full-text document stored as a ``tsvector`` (``fts_milestones_vectors``,
one row per milestone, by id, with its line of effort's title as ``line_vector``), kept by
triggers, so that search can walk the newest milestones and test each one's words without
computing ``to_tsvector`` again.

A GIN index keeps no order: "the newest 1,001 milestones that hold 'data standard'" visited every
match (100,696 at 1,000,000 milestones) before it kept the newest, or walked the primary key
backwards computing ``to_tsvector`` for each row (5 us a row). Here the walk reads a narrow
table in id order and compares stored vectors (app/search/services.py, ``_newest_milestones``);
the GIN index ``fts_milestones`` stays for searches whose matches are few among the newest.

A table beside milestones rather than a generated column on it: the model and SQLite (where
FTS5 already walks its matches by rowid, newest first) need no change, and the table is made
here, not by a model (``app.dbtypes.MADE_IN_MIGRATIONS``: ``fts_``), so a backup leaves it out
and a restore rebuilds it through the trigger as the milestones come back. Nothing on SQLite.

Revision ID: 1945_search
Revises: 1930_targets
Create Date: 2026-12-03
"""

from alembic import op

revision = "1945_search"
down_revision = "1930_targets"
branch_labels = None
depends_on = None

TABLE = "fts_milestones_vectors"
#: app/search/fulltext.py's DOCUMENTS["milestones"] and ["lines_of_effort"], written here as a
#: migration keeps its own copy.
COLUMNS = ("title", "description", "expected_evidence")
LINE_COLUMNS = ("title",)


def _vector(row: str, columns: tuple[str, ...]) -> str:
    return "to_tsvector('english', " + " || ' ' || ".join(f"coalesce({row}{c}, '')" for c in columns) + ")"


def _line_vector(line_id: str) -> str:
    return f"(SELECT {_vector('l.', LINE_COLUMNS)} FROM lines_of_effort l WHERE l.id = {line_id})"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, vector TSVECTOR NOT NULL, line_vector TSVECTOR NOT NULL)"
    )
    # The triggers come before the fill, in the same transaction: CREATE TRIGGER locks the tables
    # against writes until the commit, so no change is missed.
    op.execute(
        f"CREATE FUNCTION {TABLE}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'DELETE' THEN DELETE FROM {TABLE} WHERE id = old.id; RETURN NULL; END IF; "
        f"INSERT INTO {TABLE} (id, vector, line_vector) "
        f"VALUES (new.id, {_vector('new.', COLUMNS)}, {_line_vector('new.line_of_effort_id')}) "
        f"ON CONFLICT (id) DO UPDATE SET vector = excluded.vector, line_vector = excluded.line_vector; "
        f"RETURN NULL; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {TABLE} AFTER INSERT OR DELETE OR UPDATE OF {', '.join(COLUMNS)}, line_of_effort_id "
        f"ON milestones FOR EACH ROW EXECUTE FUNCTION {TABLE}()"
    )
    op.execute(
        f"CREATE FUNCTION {TABLE}_line() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"UPDATE {TABLE} v SET line_vector = {_vector('new.', LINE_COLUMNS)} FROM milestones m "
        f"WHERE m.line_of_effort_id = new.id AND v.id = m.id; RETURN NULL; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_line AFTER UPDATE OF {', '.join(LINE_COLUMNS)} ON lines_of_effort "
        f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_line()"
    )
    op.execute(
        f"INSERT INTO {TABLE} (id, vector, line_vector) "
        f"SELECT m.id, {_vector('m.', COLUMNS)}, {_vector('l.', LINE_COLUMNS)} "
        f"FROM milestones m JOIN lines_of_effort l ON l.id = m.line_of_effort_id ORDER BY m.id"
    )
    op.execute(f"ANALYZE {TABLE}")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_line ON lines_of_effort")
    op.execute(f"DROP FUNCTION IF EXISTS {TABLE}_line()")
    op.execute(f"DROP TRIGGER IF EXISTS {TABLE} ON milestones")
    op.execute(f"DROP FUNCTION IF EXISTS {TABLE}()")
    op.execute(f"DROP TABLE {TABLE}")
