"""Failed sign-ins per client address, counted in a window shared by every worker (password spraying).

Revision ID: 1100
Revises: 1000
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = "1100"
down_revision = "1000"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_in_throttles",
        sa.Column("address", sa.String(length=45), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_sign_in_throttles")),
    )


def downgrade():
    op.drop_table("sign_in_throttles")
