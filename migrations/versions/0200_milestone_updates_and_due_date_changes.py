"""milestone updates and due-date changes

Revision ID: 0200
Revises: 0001
Create Date: 2026-11-27 05:58:35.898288

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0200"
down_revision = "0100"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "due_date_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("old_due_on", sa.Date(), nullable=False),
        sa.Column("new_due_on", sa.Date(), nullable=False),
        sa.Column("baseline_moved", sa.Boolean(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "applied",
                "pending",
                "approved",
                "declined",
                name="date_change_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_due_date_changes_decided_by_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["milestones.id"],
            name=op.f("fk_due_date_changes_milestone_id_milestones"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_due_date_changes_requested_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_due_date_changes")),
    )
    with op.batch_alter_table("due_date_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_due_date_changes_milestone_id"), ["milestone_id"], unique=False)
        batch_op.create_index("ix_due_date_changes_status", ["status", "milestone_id"], unique=False)
        batch_op.create_index(
            "uq_due_date_changes_one_pending",
            ["milestone_id"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    op.create_table(
        "milestone_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("noted_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "not_started",
                "in_progress",
                "completed",
                "cancelled",
                name="milestone_update_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("percent_complete", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_milestone_updates_author_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["milestones.id"],
            name=op.f("fk_milestone_updates_milestone_id_milestones"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone_updates")),
    )
    with op.batch_alter_table("milestone_updates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_milestone_updates_milestone_id"), ["milestone_id"], unique=False)


def downgrade():
    with op.batch_alter_table("milestone_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestone_updates_milestone_id"))

    op.drop_table("milestone_updates")
    with op.batch_alter_table("due_date_changes", schema=None) as batch_op:
        batch_op.drop_index("uq_due_date_changes_one_pending")
        batch_op.drop_index("ix_due_date_changes_status")
        batch_op.drop_index(batch_op.f("ix_due_date_changes_milestone_id"))

    op.drop_table("due_date_changes")
