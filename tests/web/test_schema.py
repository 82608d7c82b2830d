"""The migrations and the models describe the same schema; the audit table refuses change."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.audit import AuditEvent, record
from app.dbtypes import include_name


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_migrations_match_the_models(app, db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'tampered'",
        "DELETE FROM audit_events",
    ],
)
def test_database_refuses_changes_to_the_audit_trail(app, db, statement):
    record("test.event", after={"n": 1})
    db.session.commit()
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.text(statement))
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(sa.select(AuditEvent.action)) == "test.event"


def test_foreign_keys_to_records_restrict_deletes(app, db, make):
    rec = make.recommendation()
    record("test.event", rec, recommendation_id=rec.id)
    db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.text("DELETE FROM recommendations WHERE id = :id"), {"id": rec.id})
        db.session.commit()
    db.session.rollback()
