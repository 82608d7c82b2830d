"""Initial schema: offices, users, reports, recommendations, lines of effort,
milestones and the append-only, hash-chained audit trail.

Revision ID: 0001
Revises:

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "offices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("agency", "oig", name="office_kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offices")),
        sa.UniqueConstraint("code", name=op.f("uq_offices_code")),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("oig_office", sa.String(length=200), nullable=False),
        sa.Column("agency", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("number", name=op.f("uq_reports_number")),
    )
    op.create_table(
        "recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "unresolved_open",
                "resolved_open",
                "closure_pending",
                "resolved_closed",
                "closed_not_implemented",
                name="recommendation_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "concurrence",
            sa.Enum(
                "concur",
                "partially_concur",
                "non_concur",
                name="concurrence",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("concurrence_response", sa.Text(), nullable=False),
        sa.Column("priority", sa.Boolean(), nullable=False),
        sa.Column("questioned_costs", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("funds_put_to_better_use", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("action_office_id", sa.Integer(), nullable=False),
        sa.Column("responsible_official", sa.String(length=200), nullable=False),
        sa.Column("target_completion_on", sa.Date(), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("management_decision_on", sa.Date(), nullable=True),
        sa.Column("final_action_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_office_id"],
            ["offices.id"],
            name=op.f("fk_recommendations_action_office_id_offices"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_recommendations_report_id_reports"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendations")),
        sa.UniqueConstraint("report_id", "number", name="uq_recommendations_report_number"),
    )
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recommendations_action_office_id"), ["action_office_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_recommendations_report_id"), ["report_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_recommendations_status"), ["status"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "action_office",
                "oig_reviewer",
                "manager",
                "admin",
                name="user_role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("office_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("is_active_account", sa.Boolean(), nullable=False),
        sa.Column("session_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_users_office_id_offices"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_office_id"), ["office_id"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("object_type", sa.String(length=60), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("recommendation_id", sa.Integer(), nullable=True),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_events_actor_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_audit_events_recommendation_id_recommendations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index("ix_audit_events_object", ["object_type", "object_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_recommendation_id"), ["recommendation_id"], unique=False)

    op.create_table(
        "lines_of_effort",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "governance",
                "data_collection",
                "data_reporting",
                "other",
                name="line_of_effort_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("objective", sa.Text(), nullable=False),
        sa.Column("lead_owner_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_owner_id"], ["users.id"], name=op.f("fk_lines_of_effort_lead_owner_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_lines_of_effort_recommendation_id_recommendations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lines_of_effort")),
    )
    with op.batch_alter_table("lines_of_effort", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lines_of_effort_recommendation_id"), ["recommendation_id"], unique=False)

    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("line_of_effort_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=True),
        sa.Column("baseline_due_on", sa.Date(), nullable=False),
        sa.Column("current_due_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "not_started",
                "in_progress",
                "completed",
                "cancelled",
                name="milestone_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("percent_complete", sa.Integer(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("expected_evidence", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("percent_complete BETWEEN 0 AND 100", name=op.f("ck_milestones_percent_range")),
        sa.ForeignKeyConstraint(
            ["line_of_effort_id"],
            ["lines_of_effort.id"],
            name=op.f("fk_milestones_line_of_effort_id_lines_of_effort"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_milestones_office_id_offices"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_milestones_owner_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestones")),
    )
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_milestones_line_of_effort_id"), ["line_of_effort_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_milestones_office_id"), ["office_id"], unique=False)
        batch_op.create_index("ix_milestones_owner_due", ["owner_id", "current_due_on"], unique=False)
        batch_op.create_index("ix_milestones_status_due", ["status", "current_due_on"], unique=False)

    op.create_table(
        "milestone_dependencies",
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("depends_on_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("milestone_id <> depends_on_id", name=op.f("ck_milestone_dependencies_not_self")),
        sa.ForeignKeyConstraint(
            ["depends_on_id"],
            ["milestones.id"],
            name=op.f("fk_milestone_dependencies_depends_on_id_milestones"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["milestones.id"],
            name=op.f("fk_milestone_dependencies_milestone_id_milestones"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("milestone_id", "depends_on_id", name=op.f("pk_milestone_dependencies")),
    )
    create_append_only_guard()


def create_append_only_guard():
    """The database itself refuses UPDATE and DELETE on audit_events (NIST AU-9)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
            END;
            $$ LANGUAGE plpgsql
        """)
        op.execute("""
            CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
        """)
        op.execute("""
            CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
            FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
        """)
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events
                BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: {verb} refused'); END
            """)


def drop_append_only_guard():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")


def downgrade():
    drop_append_only_guard()
    op.drop_table("milestone_dependencies")
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.drop_index("ix_milestones_status_due")
        batch_op.drop_index("ix_milestones_owner_due")
        batch_op.drop_index(batch_op.f("ix_milestones_office_id"))
        batch_op.drop_index(batch_op.f("ix_milestones_line_of_effort_id"))

    op.drop_table("milestones")
    with op.batch_alter_table("lines_of_effort", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lines_of_effort_recommendation_id"))

    op.drop_table("lines_of_effort")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_recommendation_id"))
        batch_op.drop_index("ix_audit_events_object")
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_office_id"))

    op.drop_table("users")
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendations_status"))
        batch_op.drop_index(batch_op.f("ix_recommendations_report_id"))
        batch_op.drop_index(batch_op.f("ix_recommendations_action_office_id"))

    op.drop_table("recommendations")
    op.drop_table("reports")
    op.drop_table("offices")
