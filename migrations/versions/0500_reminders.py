"""Reminders: the outbox (one row per message, unique by its key), preferences per user, admin settings.

Revision ID: 0500
Revises: 0001
Create Date: 2026-11-27 06:21:34.831994

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0500"
down_revision = "0400"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reminder_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("item_type", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "stored",
                "failed",
                name="reminder_message_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=40), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name=op.f("fk_reminder_messages_recipient_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_messages")),
        sa.UniqueConstraint("kind", "item_type", "item_id", "recipient_id", "period", name="uq_reminder_messages_key"),
    )
    with op.batch_alter_table("reminder_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminder_messages_recipient_id"), ["recipient_id"], unique=False)
        batch_op.create_index("ix_reminder_messages_state_next", ["state", "next_attempt_at"], unique=False)

    op.create_table(
        "reminder_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("due_soon", sa.Boolean(), nullable=False),
        sa.Column("due_today", sa.Boolean(), nullable=False),
        sa.Column("overdue_weekly", sa.Boolean(), nullable=False),
        sa.Column("weekly_digest", sa.Boolean(), nullable=False),
        sa.Column("digest_weekday", sa.Integer(), nullable=True),
        sa.Column("digest_when_empty", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reminder_preferences_user_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_preferences")),
        sa.UniqueConstraint("user_id", name=op.f("uq_reminder_preferences_user_id")),
    )
    op.create_table(
        "reminder_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offsets", sa.String(length=100), nullable=False),
        sa.Column("escalate_manager_after_days", sa.Integer(), nullable=False),
        sa.Column("escalate_official_after_days", sa.Integer(), nullable=False),
        sa.Column("follow_up_official_id", sa.Integer(), nullable=True),
        sa.Column("digest_weekday", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["follow_up_official_id"],
            ["users.id"],
            name=op.f("fk_reminder_settings_follow_up_official_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_settings")),
    )


def downgrade():
    op.drop_table("reminder_settings")
    op.drop_table("reminder_preferences")
    with op.batch_alter_table("reminder_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_reminder_messages_state_next")
        batch_op.drop_index(batch_op.f("ix_reminder_messages_recipient_id"))

    op.drop_table("reminder_messages")
