"""Metrics (plan), readings and their corrections (monitor), flags and improvement actions (improve).

Revision ID: 0400
Revises: 0001

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0400"
down_revision = "0300"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_of_effort_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "outcome",
                "completeness",
                "timeliness",
                "accuracy",
                "duplicates",
                name="metric_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("unit", sa.String(length=60), nullable=False),
        sa.Column(
            "direction",
            sa.Enum("higher", "lower", name="metric_direction", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("baseline_value", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("baseline_period", sa.String(length=200), nullable=False),
        sa.Column("target_value", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("target_on", sa.Date(), nullable=True),
        sa.Column(
            "frequency",
            sa.Enum(
                "monthly", "quarterly", "annually", name="metric_frequency", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("components", sa.String(length=400), nullable=False),
        sa.Column("data_source", sa.String(length=300), nullable=False),
        sa.Column("collect_from", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["line_of_effort_id"],
            ["lines_of_effort.id"],
            name=op.f("fk_metrics_line_of_effort_id_lines_of_effort"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics")),
    )
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_metrics_line_of_effort_id"), ["line_of_effort_id"], unique=False)

    op.create_table(
        "metric_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(length=60), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("off_target", "missing", name="metric_flag_kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open", "answered", "cleared", name="metric_flag_status", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("value", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("target_value", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["metric_id"], ["metrics.id"], name=op.f("fk_metric_flags_metric_id_metrics"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_flags")),
        sa.UniqueConstraint("metric_id", "component", "period", "kind", name="uq_metric_flags_condition"),
    )
    with op.batch_alter_table("metric_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_metric_flags_metric_id"), ["metric_id"], unique=False)
        batch_op.create_index("ix_metric_flags_status", ["status"], unique=False)

    op.create_table(
        "metric_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("component", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("numerator", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("denominator", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entered_by_id"], ["users.id"], name=op.f("fk_metric_readings_entered_by_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"], ["metrics.id"], name=op.f("fk_metric_readings_metric_id_metrics"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_readings")),
        sa.UniqueConstraint("metric_id", "period", "component", name="uq_metric_readings_metric_period_component"),
    )
    with op.batch_alter_table("metric_readings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_metric_readings_metric_id"), ["metric_id"], unique=False)

    op.create_table(
        "improvement_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=False),
        sa.Column(
            "decision",
            sa.Enum(
                "adjust_target",
                "add_milestone",
                "change_milestone",
                "fix_data_source",
                "accept",
                name="improvement_decision",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=True),
        sa.Column("old_target_value", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("new_target_value", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "done", name="improvement_action_status", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_improvement_actions_created_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["flag_id"],
            ["metric_flags.id"],
            name=op.f("fk_improvement_actions_flag_id_metric_flags"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["milestones.id"],
            name=op.f("fk_improvement_actions_milestone_id_milestones"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_improvement_actions_owner_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_improvement_actions")),
    )
    with op.batch_alter_table("improvement_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_improvement_actions_flag_id"), ["flag_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_improvement_actions_milestone_id"), ["milestone_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_improvement_actions_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_improvement_actions_status"), ["status"], unique=False)

    op.create_table(
        "metric_reading_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reading_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("numerator", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("denominator", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entered_by_id"],
            ["users.id"],
            name=op.f("fk_metric_reading_revisions_entered_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reading_id"],
            ["metric_readings.id"],
            name=op.f("fk_metric_reading_revisions_reading_id_metric_readings"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_reading_revisions")),
    )
    with op.batch_alter_table("metric_reading_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_metric_reading_revisions_reading_id"), ["reading_id"], unique=False)


def downgrade():
    with op.batch_alter_table("metric_reading_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_metric_reading_revisions_reading_id"))

    op.drop_table("metric_reading_revisions")
    with op.batch_alter_table("improvement_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_improvement_actions_status"))
        batch_op.drop_index(batch_op.f("ix_improvement_actions_owner_id"))
        batch_op.drop_index(batch_op.f("ix_improvement_actions_milestone_id"))
        batch_op.drop_index(batch_op.f("ix_improvement_actions_flag_id"))

    op.drop_table("improvement_actions")
    with op.batch_alter_table("metric_readings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_metric_readings_metric_id"))

    op.drop_table("metric_readings")
    with op.batch_alter_table("metric_flags", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_flags_status")
        batch_op.drop_index(batch_op.f("ix_metric_flags_metric_id"))

    op.drop_table("metric_flags")
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_metrics_line_of_effort_id"))

    op.drop_table("metrics")
