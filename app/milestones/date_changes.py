"""Due-date changes: before OIG accepts the plan the dates move at once; after, the office asks
and a manager of its office approves or declines (the workflow is ``app/approvals.py``)."""

from datetime import date

from flask import abort
from flask_login import current_user

from app.approvals import Approval, pending_request
from app.extensions import db
from app.notifications import services as notify
from app.milestones.models import DueDateChange, Milestone
from app.milestones.services import plan_accepted, record, snapshot, touch
from app.permissions import authorise


class DueDates(Approval):
    name, subject_name, audit_prefix = "due-date change", "milestone", "milestone.due_date"

    def subject(self, change):
        return change.milestone

    def requests(self, milestone):
        return milestone.date_changes

    def state(self, milestone):
        return snapshot(milestone)

    def asked(self, change):
        return {"current_due_on": change.milestone.current_due_on}, {"requested_due_on": change.new_due_on}

    def apply(self, change, *, baseline):
        milestone = change.milestone
        milestone.current_due_on = change.new_due_on
        if baseline:
            milestone.baseline_due_on = change.new_due_on
        touch(milestone)

    def record(self, action, milestone, before, extra, actor):
        record(action, milestone, before, extra, actor=actor)

    def requested(self, change, actor):
        notify.change_requested(change, actor)

    def decided(self, change, actor):
        notify.change_decided(change, actor)

    def noted(self, change):
        return {"requested_due_on": change.new_due_on}


DUE_DATES = DueDates()


def get_date_change_or_404(change_id: int, *, for_decision: bool = False) -> DueDateChange:
    return authorise(db.session.get(DueDateChange, change_id), "decide_date_change" if for_decision else "view")


def pending_change(milestone: Milestone) -> DueDateChange | None:
    return pending_request(milestone.date_changes)


def change_due_date(milestone: Milestone, *, new_due_on: date, justification: str) -> DueDateChange:
    """Before acceptance the dates move at once (baseline too); after, a manager must approve."""
    if milestone.is_closed:
        abort(409, "The due date of a closed milestone does not change.")
    accepted = plan_accepted(milestone.line_of_effort.recommendation)
    change = DueDateChange(
        milestone=milestone,
        old_due_on=milestone.current_due_on,
        new_due_on=new_due_on,
        justification=justification,
        baseline_moved=not accepted,
    )
    return DUE_DATES.request(change, needs_approval=accepted, actor=current_user)


def decide_date_change(change: DueDateChange, *, approve: bool, reason: str) -> None:
    DUE_DATES.decide(change, approve=approve, reason=reason, actor=current_user)
