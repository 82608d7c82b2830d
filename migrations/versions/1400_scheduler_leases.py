"""Scheduler leadership: the lease (and heartbeat) of the one leader, and every scheduler process seen.

Revision ID: 1400
Revises: 1500
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa


revision = "1400"
down_revision = "1500"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("holder", sa.String(120), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_leases")),
    )
    op.create_table(
        "scheduler_nodes",
        sa.Column("holder", sa.String(120), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("holder", name=op.f("pk_scheduler_nodes")),
    )
    with op.batch_alter_table("scheduler_nodes") as batch:
        batch.create_index(batch.f("ix_scheduler_nodes_host"), ["host"])


def downgrade():
    with op.batch_alter_table("scheduler_nodes") as batch:
        batch.drop_index(batch.f("ix_scheduler_nodes_host"))
    op.drop_table("scheduler_nodes")
    op.drop_table("scheduler_leases")
