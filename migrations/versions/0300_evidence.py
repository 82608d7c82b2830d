"""Evidence items, their versions (stored files) and reviews, and integrity-check runs.

Evidence is a record: the database refuses to delete an item, and a version (a stored
file and its hash) can be neither changed nor deleted.

Revision ID: 0300
Revises: 0001
Create Date: 2026-11-27 05:56:20.835764

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0300"
down_revision = "0200"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "evidence_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_checks")),
    )
    op.create_table(
        "evidence_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column(
            "review_status",
            sa.Enum(
                "pending",
                "accepted",
                "insufficient",
                name="evidence_review_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawal_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_evidence_items_created_by_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["milestone_id"],
            ["milestones.id"],
            name=op.f("fk_evidence_items_milestone_id_milestones"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_evidence_items_recommendation_id_recommendations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"], ["users.id"], name=op.f("fk_evidence_items_withdrawn_by_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_items")),
    )
    with op.batch_alter_table("evidence_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_items_milestone_id"), ["milestone_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_items_recommendation_id"), ["recommendation_id"], unique=False)
        batch_op.create_index("ix_evidence_items_review", ["review_status", "withdrawn_at"], unique=False)

    op.create_table(
        "evidence_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=80), nullable=False),
        sa.Column("original_filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evidence_items.id"],
            name=op.f("fk_evidence_versions_item_id_evidence_items"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_evidence_versions_uploaded_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_versions")),
        sa.UniqueConstraint("item_id", "number", name="uq_evidence_versions_item_number"),
        sa.UniqueConstraint("storage_key", name=op.f("uq_evidence_versions_storage_key")),
    )
    with op.batch_alter_table("evidence_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_versions_item_id"), ["item_id"], unique=False)

    op.create_table(
        "evidence_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column(
            "decision",
            sa.Enum("accepted", "insufficient", name="evidence_decision", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evidence_items.id"],
            name=op.f("fk_evidence_reviews_item_id_evidence_items"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_evidence_reviews_reviewer_id_users"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["evidence_versions.id"],
            name=op.f("fk_evidence_reviews_version_id_evidence_versions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_reviews")),
    )
    with op.batch_alter_table("evidence_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_reviews_item_id"), ["item_id"], unique=False)

    _protect_records()


#: (trigger name, table, operations) the database refuses.
PROTECTED = [
    ("evidence_versions_no_change", "evidence_versions", ("UPDATE", "DELETE")),
    ("evidence_items_no_delete", "evidence_items", ("DELETE",)),
]


def _protect_records():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION evidence_is_a_record() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '% is a record: % refused', TG_TABLE_NAME, TG_OP;
            END;
            $$ LANGUAGE plpgsql
        """)
        for name, table, verbs in PROTECTED:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {' OR '.join(verbs)} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION evidence_is_a_record()"
            )
    else:
        for name, table, verbs in PROTECTED:
            for verb in verbs:
                op.execute(f"""
                    CREATE TRIGGER {name}_{verb.lower()} BEFORE {verb} ON {table}
                    BEGIN SELECT RAISE(ABORT, '{table} is a record: {verb} refused'); END
                """)


def _unprotect_records():
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _verbs in PROTECTED:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS evidence_is_a_record()")
    else:
        for name, _table, verbs in PROTECTED:
            for verb in verbs:
                op.execute(f"DROP TRIGGER IF EXISTS {name}_{verb.lower()}")


def downgrade():
    _unprotect_records()
    with op.batch_alter_table("evidence_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_reviews_item_id"))

    op.drop_table("evidence_reviews")
    with op.batch_alter_table("evidence_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_versions_item_id"))

    op.drop_table("evidence_versions")
    with op.batch_alter_table("evidence_items", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_items_review")
        batch_op.drop_index(batch_op.f("ix_evidence_items_recommendation_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_items_milestone_id"))

    op.drop_table("evidence_items")
    op.drop_table("evidence_checks")
