"""Running the plan: lines of effort, milestones, status updates and due-date changes.

Services change state and write the audit trail; the view commits once at the end.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import abort
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from app import audit, versioning
from app.auth.models import User
from app.dbtypes import bound
from app.extensions import db
from app.notifications import services as notify
from app.milestones.models import DueDateChange, Milestone, MilestoneRow, MilestoneUpdate, milestone_dependencies
from app.offices.models import Office
from app.permissions import (
    require_decide_date_change,
    require_edit_milestone,
    require_edit_plan,
    require_view_milestone,
    require_view_recommendation,
)
from app.recommendations.models import LineOfEffort, Recommendation, recommendation_label
from app.reports.models import Report
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
LINE_FIELDS = ("title", "kind", "description", "objective", "lead_owner_id", "position")
LINE_LABELS = {
    "title": "Title",
    "kind": "Kind",
    "description": "Description",
    "objective": "Objective",
    "lead_owner_id": "Lead owner",
    "position": "Order in the plan",
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
            selectinload(Milestone.depends_on),
        )
    )
    if with_history:  # what the milestone's page shows beside the milestone
        query = query.options(
            selectinload(Milestone.required_by),
            selectinload(Milestone.updates).joinedload(MilestoneUpdate.author),
            selectinload(Milestone.date_changes).options(
                joinedload(DueDateChange.requested_by), joinedload(DueDateChange.decided_by)
            ),
        )
    milestone = db.session.scalar(query)
    if milestone is None:
        abort(404)
    require_view_milestone(milestone)
    if for_edit:
        require_edit_milestone(milestone)
    return milestone


def get_line_or_404(line_id: int, *, for_edit: bool = False) -> LineOfEffort:
    line = db.session.scalar(
        sa.select(LineOfEffort).where(LineOfEffort.id == line_id).options(joinedload(LineOfEffort.recommendation))
    )
    if line is None:
        abort(404)
    require_view_recommendation(line.recommendation)
    if for_edit:
        require_edit_plan(line.recommendation)
    return line


def get_date_change_or_404(change_id: int, *, for_decision: bool = False) -> DueDateChange:
    change = db.session.get(DueDateChange, change_id)
    if change is None:
        abort(404)
    require_view_milestone(change.milestone)
    if for_decision:
        require_decide_date_change(change)
    return change


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
        .order_by(User.name)
    ).all()
    return [(0, "Unassigned")] + [(u.id, f"{u.name} ({u.office.code})" if u.office else u.name) for u in users]


def office_choices() -> list[tuple[int, str]]:
    offices = db.session.scalars(sa.select(Office).where(Office.kind == "agency").order_by(Office.code)).all()
    return [(o.id, f"{o.code}: {o.name}") for o in offices]


def plan_milestones(recommendation_id: int) -> Sequence[Milestone]:
    """Every milestone of a recommendation, in plan order (lines, then due dates)."""
    return db.session.scalars(
        sa.select(Milestone)
        .join(Milestone.line_of_effort)
        .where(LineOfEffort.recommendation_id == recommendation_id)
        .order_by(LineOfEffort.position, Milestone.current_due_on, Milestone.id)
    ).all()


def dependency_edges(recommendation_id: int) -> dict[int, set[int]]:
    """milestone id -> ids it depends on, for one recommendation's plan."""
    rows = db.session.execute(
        sa.select(milestone_dependencies.c.milestone_id, milestone_dependencies.c.depends_on_id)
        .join(Milestone, Milestone.id == milestone_dependencies.c.milestone_id)
        .join(LineOfEffort, LineOfEffort.id == Milestone.line_of_effort_id)
        .where(LineOfEffort.recommendation_id == recommendation_id)
    ).all()
    edges: dict[int, set[int]] = {}
    for milestone_id, depends_on_id in rows:
        edges.setdefault(milestone_id, set()).add(depends_on_id)
    return edges


def find_cycle(milestone_id: int | None, depends_on: set[int], edges: dict[int, set[int]]) -> list[int] | None:
    """The path back to ``milestone_id`` if it depended on ``depends_on``, or None when acyclic."""
    if milestone_id is None:
        return None  # a new milestone has no dependants yet
    if milestone_id in depends_on:
        return [milestone_id, milestone_id]
    graph = dict(edges)
    graph[milestone_id] = set(depends_on)
    stack = [(d, [milestone_id, d]) for d in sorted(depends_on)]
    seen = set()
    while stack:
        node, path = stack.pop()
        if node == milestone_id:
            return path
        if node in seen:
            continue
        seen.add(node)
        stack.extend((n, path + [n]) for n in sorted(graph.get(node, ())))
    return None


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


def _record(action: str, milestone: Milestone, before: dict | None, extra: dict | None = None, actor=None) -> None:
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


def _touch(milestone: Milestone) -> None:
    # Every change writes the row, so the version moves even when only dependencies change.
    milestone.updated_at = utcnow()


# --- lines of effort --------------------------------------------------------------


def line_snapshot(line: LineOfEffort) -> dict:
    return audit.snapshot(line, LINE_FIELDS)


def create_line(
    recommendation: Recommendation,
    *,
    title: str,
    description: str,
    objective: str,
    lead_owner_id: int | None,
    kind: str = "other",
) -> LineOfEffort:
    last = (
        db.session.scalar(
            sa.select(sa.func.max(LineOfEffort.position)).where(LineOfEffort.recommendation_id == recommendation.id)
        )
        or 0
    )
    line = LineOfEffort(
        recommendation_id=recommendation.id,
        kind=kind,
        title=title,
        description=description,
        objective=objective,
        lead_owner_id=lead_owner_id,
        position=last + 1,
    )
    db.session.add(line)
    db.session.flush()
    audit.record("line_of_effort.create", line, after=line_snapshot(line), recommendation_id=recommendation.id)
    return line


def update_line(line: LineOfEffort, **values) -> None:
    before = line_snapshot(line)
    for name, value in values.items():
        setattr(line, name, value)
    after = line_snapshot(line)
    if after != before:
        audit.record(
            "line_of_effort.update", line, before=before, after=after, recommendation_id=line.recommendation_id
        )


def move_line(line: LineOfEffort, direction: str) -> bool:
    """Swap the line with its neighbour above ("up") or below ("down"); False at either end."""
    lines = list(
        db.session.scalars(
            sa.select(LineOfEffort)
            .where(LineOfEffort.recommendation_id == line.recommendation_id)
            .order_by(LineOfEffort.position, LineOfEffort.id)
        )
    )
    index = lines.index(line)
    other = index - 1 if direction == "up" else index + 1
    if other < 0 or other >= len(lines):
        return False
    before = [loe.id for loe in lines]
    lines[index], lines[other] = lines[other], lines[index]
    for position, loe in enumerate(lines, start=1):
        loe.position = position
    audit.record(
        "line_of_effort.reorder",
        line,
        before={"order": before},
        after={"order": [loe.id for loe in lines]},
        recommendation_id=line.recommendation_id,
    )
    return True


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
    _record("milestone.create", milestone, None)
    return milestone


def update_milestone(milestone: Milestone, *, depends_on_ids=(), **values) -> None:
    before = snapshot(milestone)
    for name, value in values.items():
        setattr(milestone, name, value)
    milestone.depends_on = _dependencies(depends_on_ids)
    _touch(milestone)
    _record("milestone.update", milestone, before)


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
    _touch(milestone)
    _record("milestone.status_update", milestone, before, {"note": note, "noted_on": noted_on}, actor)
    return update


def open_dependencies(milestone: Milestone) -> list[Milestone]:
    """What must be finished first. A cancelled dependency no longer holds anything up."""
    return [d for d in milestone.depends_on if d.status not in ("completed", "cancelled")]


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
    _touch(milestone)
    _record("milestone.complete", milestone, before, {"note": note}, actor)


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
    _touch(milestone)
    _record("milestone.cancel", milestone, before, {"note": note}, actor)


def pending_change(milestone: Milestone) -> DueDateChange | None:
    return next((c for c in milestone.date_changes if c.status == "pending"), None)


def change_due_date(milestone: Milestone, *, new_due_on: date, justification: str) -> DueDateChange:
    """Before acceptance the dates move at once (baseline too); after, a manager must approve."""
    recommendation = milestone.line_of_effort.recommendation
    if milestone.is_closed:
        abort(409, "The due date of a closed milestone does not change.")
    if pending_change(milestone):
        abort(409, "A due-date change for this milestone already awaits a manager's decision.")
    accepted = plan_accepted(recommendation)
    change = DueDateChange(
        milestone=milestone,
        old_due_on=milestone.current_due_on,
        new_due_on=new_due_on,
        justification=justification,
        requested_by_id=current_user.id,
        status="pending" if accepted else "applied",
        baseline_moved=not accepted,
    )
    db.session.add(change)
    before = snapshot(milestone)
    if accepted:
        versioning.touch(milestone)
        db.session.flush()
        audit.record(
            "milestone.due_date_request",
            milestone,
            before={"current_due_on": milestone.current_due_on},
            after={"requested_due_on": new_due_on, "justification": justification, "change_id": change.id},
            recommendation_id=recommendation.id,
        )
        notify.date_change_requested(change, current_user)
        return change
    milestone.current_due_on = new_due_on
    milestone.baseline_due_on = new_due_on
    _touch(milestone)
    _record("milestone.due_date_change", milestone, before, {"justification": justification})
    return change


def decide_date_change(change: DueDateChange, *, approve: bool, reason: str) -> None:
    if change.status != "pending":
        abort(409, "This request was already decided.")
    milestone = change.milestone
    change.status = "approved" if approve else "declined"
    change.decided_by_id = current_user.id
    change.decided_at = utcnow()
    change.decision_reason = reason
    before = snapshot(milestone)
    if approve:
        milestone.current_due_on = change.new_due_on
        _touch(milestone)
    _record(
        "milestone.due_date_approve" if approve else "milestone.due_date_decline",
        milestone,
        before,
        {"decision_reason": reason, "change_id": change.id, "requested_due_on": change.new_due_on},
    )
    notify.date_change_decided(change, current_user)


def history(milestone: Milestone) -> Sequence[audit.AuditEvent]:
    """Every audit event about the milestone, newest first."""
    return db.session.scalars(
        sa.select(audit.AuditEvent)
        .where(audit.AuditEvent.object_type == "milestone", audit.AuditEvent.object_id == milestone.id)
        .options(joinedload(audit.AuditEvent.actor))
        .order_by(audit.AuditEvent.id.desc())
    ).all()


# --- my work ----------------------------------------------------------------------


@dataclass(frozen=True)
class MyWorkStatements:
    """My work's statements for one combination of filters, built once (``my_work_statements``):
    building them cost more than running them (bench/README.md, "Figures behind the code").
    They run with ``my_work_values``; ``page`` with ``limit`` and ``offset`` too."""

    #: The user's milestones, counted on the milestones table alone (index ix_milestones_owner_due):
    #: every milestone has its line, recommendation, report and office, so the page's joins drop none.
    count: sa.Select
    #: The milestones, overdue first, then by due date: the columns of ``MilestoneRow``.
    page: sa.Select
    #: The filters' choices: the lines of effort and the offices the user's milestones point at,
    #: as DISTINCT subqueries so that the planner starts from those milestones. A line is named
    #: with its recommendation: two plans may both have a "Governance" line.
    lines: sa.Select
    offices: sa.Select


@functools.cache
def my_work_statements(line: bool = False, status: str | None = None, office: bool = False) -> MyWorkStatements:
    """``line``, ``office``: filtered by one; ``status``: None, "open" (not started or in
    progress) or "one" (the status bound)."""
    mine = Milestone.owner_id == bound("owner_id", Milestone.owner_id.type)
    conditions = [mine]
    if line:
        conditions.append(Milestone.line_of_effort_id == bound("line_id", Milestone.line_of_effort_id.type))
    if status == "open":
        conditions.append(Milestone.status.in_(("not_started", "in_progress")))
    elif status:
        conditions.append(Milestone.status == bound("status", Milestone.status.type))
    if office:
        conditions.append(Milestone.office_id == bound("office_id", Milestone.office_id.type))
    is_open = Milestone.status.in_(("not_started", "in_progress"))
    overdue = sa.and_(is_open, Milestone.current_due_on < bound("on", Milestone.current_due_on.type))
    page = (
        sa.select(
            Milestone.id,
            Milestone.title,
            Milestone.status,
            Milestone.percent_complete,
            Milestone.current_due_on,
            Milestone.baseline_due_on,
            LineOfEffort.title,
            Report.number,
            Recommendation.number,
            Office.code,
        )
        .select_from(Milestone)
        .where(*conditions)
        .join(Milestone.line_of_effort)
        .join(LineOfEffort.recommendation)
        .join(Recommendation.report)
        .join(Milestone.office)
        # Overdue first, then the other open ones, completed and cancelled last; by due date.
        .order_by(sa.case((overdue, 0), (is_open, 1), else_=2), Milestone.current_due_on, Milestone.id)
        .limit(bound("limit", sa.Integer))
        .offset(bound("offset", sa.Integer))
    )
    my_lines = sa.select(Milestone.line_of_effort_id.label("id")).where(mine).distinct().subquery()
    my_offices = sa.select(Milestone.office_id.label("id")).where(mine).distinct().subquery()
    return MyWorkStatements(
        count=sa.select(sa.func.count(Milestone.id)).where(*conditions),
        page=page,
        lines=(
            sa.select(LineOfEffort.id, LineOfEffort.title, Recommendation.number, Report.number)
            .join(my_lines, my_lines.c.id == LineOfEffort.id)
            .join(LineOfEffort.recommendation)
            .join(Recommendation.report)
            .order_by(Report.number, Recommendation.number, LineOfEffort.position, LineOfEffort.id)
        ),
        offices=(
            sa.select(Office.id, Office.code).join(my_offices, my_offices.c.id == Office.id).order_by(Office.code)
        ),
    )


def my_work_values(
    user, *, line_id: int | None = None, status: str | None = None, office_id: int | None = None, on: date | None = None
) -> dict:
    return {"owner_id": user.id, "line_id": line_id, "status": status, "office_id": office_id, "on": on or today()}


def my_work_row(row) -> MilestoneRow:
    id_, title, status, percent, due, baseline, line_title, report_number, rec_number, office_code = row
    return MilestoneRow(
        id_,
        title,
        status,
        percent,
        due,
        baseline,
        line_title,
        recommendation_label(report_number, rec_number),
        office_code,
    )


def decisions_awaiting(user) -> list[DueDateChange]:
    """Pending due-date requests a manager may decide."""
    if user.role != "manager" or user.office_id is None:
        return []
    changes = db.session.scalars(
        sa.select(DueDateChange)
        .where(DueDateChange.status == "pending")
        .join(DueDateChange.milestone)
        .join(Milestone.line_of_effort)
        .join(LineOfEffort.recommendation)
        .where(sa.or_(Milestone.office_id == user.office_id, Recommendation.action_office_id == user.office_id))
        .options(
            joinedload(DueDateChange.milestone)
            .joinedload(Milestone.line_of_effort)
            .joinedload(LineOfEffort.recommendation),
            joinedload(DueDateChange.requested_by),
        )
        .order_by(DueDateChange.requested_at)
    ).all()
    return [c for c in changes if c.requested_by_id != user.id]
