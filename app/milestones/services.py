"""Milestones: loading, then authorising; their status updates, completion and cancellation,
the audit snapshot and its history. Services change state and write the audit trail; the view
commits once at the end."""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from flask import abort
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from app import audit
from app.auth.models import User
from app.extensions import db
from app.milestones.dependencies import open_dependencies
from app.milestones.models import DueDateChange, Milestone, MilestoneUpdate
from app.offices.models import Office
from app.permissions import authorise
from app.recommendations.models import LineOfEffort, Recommendation
from app.timeutil import today, utcnow


#: Labels of the fields a milestone's audit snapshot carries, in display order.
FIELD_LABELS = {
    "title": "Title",
    "description": "Description",
    "owner": "Owner",
    "office": "Responsible office",
    "start_on": "Start date",
    "baseline_due_on": "Baseline due date",
    "current_due_on": "Current due date",
    "status": "Status",
    "percent_complete": "Percent complete",
    "completed_on": "Completion date",
    "expected_evidence": "Expected evidence",
    "depends_on": "Depends on",
}


# --- loading, then authorising --------------------------------------------------


def get_milestone_or_404(milestone_id: int, *, for_edit: bool = False, with_history: bool = False) -> Milestone:
    query = (
        sa.select(Milestone)
        .where(Milestone.id == milestone_id)
        .options(
            joinedload(Milestone.line_of_effort).joinedload(LineOfEffort.recommendation),
            joinedload(Milestone.owner),
            joinedload(Milestone.office),
            # In the same statement (a milestone depends on a few others): one round trip fewer on every
            # write and page; the audit snapshot needs their ids.
            joinedload(Milestone.depends_on),
        )
    )
    if with_history:  # what the milestone's page shows beside it (its updates and history are paged apart)
        query = query.options(
            selectinload(Milestone.required_by),
            selectinload(Milestone.date_changes).options(
                joinedload(DueDateChange.requested_by), joinedload(DueDateChange.decided_by)
            ),
        )
    return authorise(db.session.execute(query).unique().scalar_one_or_none(), "edit_milestone" if for_edit else "view")


def plan_accepted(recommendation: Recommendation) -> bool:
    """OIG accepted the plan: from then on the baseline is frozen and date changes need approval."""
    if recommendation.status == "resolved_open":
        return True
    return recommendation.status != "unresolved_open" and recommendation.management_decision_on is not None


# --- choices for forms ---------------------------------------------------------


def owner_choices() -> list[tuple[int, str]]:
    users = db.session.scalars(
        sa.select(User)
        .where(User.is_active_account.is_(True), User.role.in_(("action_office", "manager")))
        .order_by(User.name, User.id)
    ).all()
    return [(0, "Unassigned")] + [(u.id, f"{u.name} ({u.office.code})" if u.office else u.name) for u in users]


def office_choices() -> list[tuple[int, str]]:
    offices = db.session.scalars(sa.select(Office).where(Office.kind == "agency").order_by(Office.code)).all()
    return [(o.id, f"{o.code}: {o.name}") for o in offices]


# --- the audit snapshot and edit conflicts --------------------------------------


def snapshot(milestone: Milestone) -> dict:
    return {
        "title": milestone.title,
        "description": milestone.description,
        "owner": milestone.owner.name if milestone.owner else None,
        "office": milestone.office.code if milestone.office else None,
        "start_on": milestone.start_on,
        "baseline_due_on": milestone.baseline_due_on,
        "current_due_on": milestone.current_due_on,
        "status": milestone.status,
        "percent_complete": milestone.percent_complete,
        "completed_on": milestone.completed_on,
        "expected_evidence": milestone.expected_evidence,
        "depends_on": sorted(d.id for d in milestone.depends_on),
        "version": milestone.version,
    }


def record(action: str, milestone: Milestone, before: dict | None, extra: dict | None = None, actor=None) -> None:
    """Flush first so that the ``after`` snapshot carries the version the change produced. The owner
    and office are read again when their ids moved (or were never loaded), not on every status update."""
    db.session.flush()
    loaded: dict = sa.inspect(milestone).dict
    stale = [
        name
        for name, key in (("owner", "owner_id"), ("office", "office_id"))
        if name not in loaded or getattr(loaded[name], "id", None) != getattr(milestone, key)
    ]
    if stale:
        db.session.refresh(milestone, stale)
    after = snapshot(milestone)
    if extra:
        after.update(extra)
    audit.record(
        action,
        milestone,
        before=before,
        after=after,
        recommendation_id=milestone.line_of_effort.recommendation_id,
        actor=actor,
    )


def touch(milestone: Milestone) -> None:
    # Every change writes the row, so the version moves even when only dependencies change.
    milestone.updated_at = utcnow()


# --- milestones -----------------------------------------------------------------


def _dependencies(ids) -> Sequence[Milestone]:
    ids = set(ids or ())
    if not ids:
        return []
    return db.session.scalars(sa.select(Milestone).where(Milestone.id.in_(ids))).all()


def create_milestone(
    line: LineOfEffort,
    *,
    title: str,
    description: str,
    owner_id: int | None,
    office_id: int,
    start_on: date | None,
    due_on: date,
    expected_evidence: str,
    depends_on_ids=(),
) -> Milestone:
    milestone = Milestone(
        line_of_effort=line,
        title=title,
        description=description,
        owner_id=owner_id,
        office_id=office_id,
        start_on=start_on,
        baseline_due_on=due_on,
        current_due_on=due_on,
        status="not_started",
        percent_complete=0,
        expected_evidence=expected_evidence,
    )
    db.session.add(milestone)
    milestone.depends_on = _dependencies(depends_on_ids)
    record("milestone.create", milestone, None)
    return milestone


def update_milestone(milestone: Milestone, *, depends_on_ids=(), **values) -> None:
    before = snapshot(milestone)
    for name, value in values.items():
        setattr(milestone, name, value)
    milestone.depends_on = _dependencies(depends_on_ids)
    touch(milestone)
    record("milestone.update", milestone, before)


def post_update(
    milestone: Milestone, *, noted_on: date, note: str, status: str, percent: int, actor=None
) -> MilestoneUpdate:
    """``actor`` defaults to the signed-in user (the API passes its token's user)."""
    actor = actor or current_user
    if milestone.is_closed:
        abort(409, "This milestone is closed; reopen it before posting updates.")
    before = snapshot(milestone)
    update = MilestoneUpdate(
        milestone=milestone, author_id=actor.id, noted_on=noted_on, note=note, status=status, percent_complete=percent
    )
    db.session.add(update)
    milestone.status = status
    milestone.percent_complete = percent
    touch(milestone)
    record("milestone.status_update", milestone, before, {"note": note, "noted_on": noted_on}, actor)
    return update


def complete(milestone: Milestone, *, completed_on: date, note: str, actor=None) -> None:
    actor = actor or current_user
    if milestone.is_closed:
        abort(409, "This milestone is already closed.")
    blocking = open_dependencies(milestone)
    if blocking:
        abort(
            409, "This milestone depends on milestones not yet completed: " + "; ".join(d.title for d in blocking) + "."
        )
    before = snapshot(milestone)
    db.session.add(
        MilestoneUpdate(
            milestone=milestone,
            author_id=actor.id,
            noted_on=completed_on,
            note=note,
            status="completed",
            percent_complete=100,
        )
    )
    milestone.status = "completed"
    milestone.percent_complete = 100
    milestone.completed_on = completed_on
    touch(milestone)
    record("milestone.complete", milestone, before, {"note": note}, actor)


def cancel(milestone: Milestone, *, note: str, actor=None) -> None:
    actor = actor or current_user
    if milestone.is_closed:
        abort(409, "This milestone is already closed.")
    before = snapshot(milestone)
    db.session.add(
        MilestoneUpdate(
            milestone=milestone,
            author_id=actor.id,
            noted_on=today(),
            note=note,
            status="cancelled",
            percent_complete=milestone.percent_complete,
        )
    )
    milestone.status = "cancelled"
    touch(milestone)
    record("milestone.cancel", milestone, before, {"note": note}, actor)


def updates_query(milestone_id: int) -> sa.Select:
    """The milestone's status updates, newest first (the relationship's order), authors in the same query."""
    return (
        sa.select(MilestoneUpdate)
        .where(MilestoneUpdate.milestone_id == milestone_id)
        .options(joinedload(MilestoneUpdate.author))
        .order_by(MilestoneUpdate.noted_on.desc(), MilestoneUpdate.id.desc())
    )


def history_query(milestone_id: int) -> sa.Select:
    """Every audit event about the milestone, newest first, actors in the same query."""
    return (
        sa.select(audit.AuditEvent)
        .where(audit.AuditEvent.object_type == "milestone", audit.AuditEvent.object_id == milestone_id)
        .options(joinedload(audit.AuditEvent.actor))
        .order_by(audit.AuditEvent.id.desc())
    )
