"""Users by role (``ix_users_role``): the people who may read a recommendation (its page's
mention list, ``notifications.services.readers_of``) are every OIG reviewer and administrator
and its office's staff. Without an index on the role, that OR read every user (5,044 at
1,000,000 milestones: 1.3 ms on PostgreSQL, growing with the staff); with it, a union of two
index probes (0.25 ms). ``managers_of`` (role and office) reads it too.

Revision ID: 2000_pages1m
Revises: 1950_dash1m
Create Date: 2026-12-03
"""

from alembic import op

revision = "2000_pages1m"
down_revision = "1950_dash1m"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.create_index("ix_users_role", ["role"])


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_index("ix_users_role")
