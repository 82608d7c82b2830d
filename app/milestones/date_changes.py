"""Due-date changes: before OIG accepts the plan the dates move at once; after, the office asks
and a manager of its office approves or declines."""

from datetime import date

from flask import abort
from flask_login import current_user

from app import audit, versioning
from app.extensions import db
from app.notifications import services as notify
from app.milestones.models import DueDateChange, Milestone
from app.milestones.services import plan_accepted, record, snapshot, touch
from app.permissions import authorise
from app.timeutil import utcnow


def get_date_change_or_404(change_id: int, *, for_decision: bool = False) -> DueDateChange:
    return authorise(db.session.get(DueDateChange, change_id), "decide_date_change" if for_decision else "view")


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
    touch(milestone)
    record("milestone.due_date_change", milestone, before, {"justification": justification})
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
        touch(milestone)
    record(
        "milestone.due_date_approve" if approve else "milestone.due_date_decline",
        milestone,
        before,
        {"decision_reason": reason, "change_id": change.id, "requested_due_on": change.new_due_on},
    )
    notify.date_change_decided(change, current_user)
