"""Improvement actions: answering a flag, completing the action, and whether it worked."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import abort

from app import audit
from app.extensions import db
from app.metrics.definitions import change_target
from app.metrics.flags import is_off_target
from app.metrics.models import Flag, ImprovementAction, Reading
from app.milestones.models import Milestone
from app.timeutil import utcnow

ACTION_FIELDS = (
    "flag_id",
    "decision",
    "owner_id",
    "reason",
    "milestone_id",
    "old_target_value",
    "new_target_value",
    "status",
)


def take_action(
    flag: Flag,
    decision: str,
    owner,
    reason: str,
    today: date,
    *,
    actor,
    new_target: Decimal | None = None,
    milestone_title: str = "",
    milestone_due: date | None = None,
    milestone: Milestone | None = None,
) -> ImprovementAction:
    """Answer a flag. "Add a milestone" creates it on the metric's line of effort, linked back."""
    metric = flag.metric
    line = metric.line_of_effort
    rec_id = line.recommendation_id
    action = ImprovementAction(
        flag=flag,
        decision=decision,
        owner_id=owner.id,
        reason=reason,
        created_by_id=actor.id if actor else None,
        status="open",
    )
    db.session.add(action)
    target_change = None
    if decision == "adjust_target":
        if new_target is None:  # the action form requires it with this decision
            raise ValueError("adjust_target needs new_target")
        # The same road as the metric's edit form: after acceptance, a manager approves it.
        action.old_target_value, action.new_target_value = metric.target_value, new_target
        target_change = change_target(metric, new_target, metric.target_on, reason, today, actor=actor)
    elif decision == "add_milestone":
        milestone = Milestone(
            line_of_effort=line,
            title=milestone_title,
            owner_id=owner.id,
            office_id=line.recommendation.action_office_id,
            start_on=today,
            baseline_due_on=milestone_due,
            current_due_on=milestone_due,
            description=f"Added to answer the flag on {metric.name} ({flag.component}, {flag.period}): {reason}",
        )
        db.session.add(milestone)
        db.session.flush()
        audit.record(
            "milestone.create",
            milestone,
            after={
                "title": milestone.title,
                "line_of_effort_id": line.id,
                "current_due_on": milestone_due,
                "owner_id": owner.id,
                "flag_id": flag.id,
            },
            recommendation_id=rec_id,
            actor=actor,
        )
        action.milestone_id = milestone.id
    elif decision == "change_milestone":
        assert milestone is not None  # the form requires one for this decision
        action.milestone_id = milestone.id
    if decision == "accept" or (target_change is not None and target_change.status == "applied"):
        action.status, action.done_at = "done", utcnow()
    flag_before = flag.status
    flag.status, flag.closed_at = "answered", utcnow()
    db.session.flush()
    # One event for one answer: the flag it answers is named in it, with the flag's new status
    # (a second "flag answered" event told the same thing twice in the history).
    audit.record(
        "metric.action.create",
        action,
        before={"flag_status": flag_before},
        after={**audit.snapshot(action, ACTION_FIELDS), "flag_status": flag.status},
        recommendation_id=rec_id,
        actor=actor,
    )
    return action


def complete_action(action: ImprovementAction, actor) -> None:
    if action.status == "done":
        abort(409, "This improvement action is already done.")
    before = audit.snapshot(action, ACTION_FIELDS)
    action.status, action.done_at = "done", utcnow()
    audit.record(
        "metric.action.done",
        action,
        before=before,
        after=audit.snapshot(action, ACTION_FIELDS),
        recommendation_id=action.flag.metric.line_of_effort.recommendation_id,
        actor=actor,
    )


def next_reading_after(flag: Flag, readings) -> Reading | None:
    """The first reading of the flag's metric and component after the flagged period."""
    later = [
        r
        for r in readings
        if r.metric_id == flag.metric_id and r.component == flag.component and r.period_end > flag.period_end
    ]
    return min(later, key=lambda r: r.period_end) if later else None


@dataclass
class Outcome:
    """What the next reading says about an answered flag: did the action work?"""

    reading: Reading | None
    worked: bool | None = None


def outcomes_of(flags, readings, metrics_by_id: dict) -> dict[int, Outcome]:
    result = {}
    for flag in flags:
        if flag.status != "answered":
            continue
        reading = next_reading_after(flag, readings)
        metric = metrics_by_id[flag.metric_id]
        worked = None if reading is None else not is_off_target(reading.value, metric.target_value, metric.direction)
        result[flag.id] = Outcome(reading, worked)
    return result
