"""Notifications of events (the in-app inbox, with an index of the unread rows) and each
person's choice per kind of event (immediately, daily summary, off).

Revision ID: 1200
Revises: 1700
Create Date: 2026-12-02
"""

from alembic import op
import sqlalchemy as sa

revision = "1200"
down_revision = "1700"
branch_labels = None
depends_on = None

KINDS = (
    "submission_sent",
    "oig_decision",
    "evidence_reviewed",
    "date_change_requested",
    "date_change_decided",
    "comment",
    "metric_flag",
)
MODES = ("immediate", "daily", "off")


def _enum(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True)


def upgrade():
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum(KINDS, "notification_kind"), nullable=False),
        sa.Column("item_type", sa.String(length=40), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("occurrence", sa.String(length=40), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("email", _enum(MODES, "notification_email"), nullable=False),
        sa.Column("summarised_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name=op.f("fk_notifications_recipient_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_notifications_actor_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_notifications_recommendation_id_recommendations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "recipient_id", "kind", "item_type", "item_id", "occurrence", name="uq_notifications_event"
        ),
    )
    op.create_index(
        "ix_notifications_unread",
        "notifications",
        ["recipient_id"],
        sqlite_where=sa.text("read_at IS NULL"),
        postgresql_where=sa.text("read_at IS NULL"),
    )
    op.create_index("ix_notifications_recipient_id", "notifications", ["recipient_id", "id"])
    op.create_index(
        "ix_notifications_daily_pending",
        "notifications",
        ["created_at"],
        sqlite_where=sa.text("email = 'daily' AND summarised_on IS NULL"),
        postgresql_where=sa.text("email = 'daily' AND summarised_on IS NULL"),
    )
    op.create_table(
        "notification_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum(KINDS, "notification_preference_kind"), nullable=False),
        sa.Column("mode", _enum(MODES, "notification_preference_mode"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_preferences_user_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preferences")),
        sa.UniqueConstraint("user_id", "kind", name="uq_notification_preferences_user_kind"),
    )


def downgrade():
    op.drop_table("notification_preferences")
    op.drop_index("ix_notifications_daily_pending", table_name="notifications")
    op.drop_index("ix_notifications_recipient_id", table_name="notifications")
    op.drop_index("ix_notifications_unread", table_name="notifications")
    op.drop_table("notifications")
