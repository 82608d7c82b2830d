"""The change requests a manager decides (the workflow is ``app/approvals.py``), one entry a kind:
the row it is about, which managers decide it, who is told, and to whom a refusal returns.

The queues (``queues.py``) and the events (``services.py``) are built from these entries, so a
third kind of request is a third entry, not a copy of their queries and sentences.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from app.metrics.models import NUMBER, Metric, TargetChange
from app.metrics.values import format_number, with_unit
from app.milestones.models import DueDateChange, Milestone
from app.notifications import decide as d
from app.recommendations.models import LineOfEffort, Recommendation

NUMBER_NONE = sa.cast(sa.null(), NUMBER)


@dataclass(frozen=True)
class ChangeKind:
    #: The manager's queue names the kind so ("date_change"); a refusal's row in the action
    #: office's queue is ``returned_kind``.
    key: str
    returned_kind: str
    #: The notifications' ``item_type``; the events are ``<key>_requested`` and ``<key>_decided``.
    item_type: str
    model: Any
    subject: Any
    #: The request's column naming its subject, and the subject's title.
    subject_id: Any
    title: Any
    #: unit, old_value, new_value, old_on, new_on: what the manager's queue shows as asked.
    asked: tuple
    #: The managers who decide, as a condition on ``office_id`` (``permissions.can_decide_*``).
    deciders: Callable[[Any], Any]
    #: Besides the requester, who a refusal returns to (a user id column).
    also_returned_to: Any
    #: "Due-date change": the queue's and the page's words.
    label: str
    endpoint: str
    anchor: str
    # --- the events' words and recipients ---
    subject_of: Callable[[Any], Any]
    #: The subject's requests, oldest to newest or not.
    requests: Callable[[Any], list]
    #: "the due date of “X”"; "move"/"moving"; the target as it stands and as asked.
    what: Callable[[Any], str]
    verb: str
    verbing: str
    old: Callable[[Any], str]
    new: Callable[[Any], str]
    details: Callable[[Any], list[tuple[str, str]]]
    #: The offices whose managers are asked to decide.
    offices: Callable[[Any], tuple[int, ...]]
    requested_recipients: Callable[..., list]
    #: (requester, the subject's other person) -> recipients.
    decided_recipients: Callable[..., list]
    #: The subject's other person told of a decision (the milestone's owner, the line's lead).
    told_of_decision: Callable[[Any], Any]

    @property
    def noun(self) -> str:
        return self.label.lower()


def _day(on: date) -> str:
    return f"{on:%b %-d, %Y}"


def _target(value, on: date | None, unit: str) -> str:
    return with_unit(format_number(value), unit) + (f" by {_day(on)}" if on else "")


def _date_details(change: DueDateChange) -> list[tuple[str, str]]:
    slip = (change.new_due_on - change.old_due_on).days
    return [
        ("Milestone", change.milestone.title),
        ("Due date", f"{_day(change.old_due_on)} -> {_day(change.new_due_on)} ({'+' if slip > 0 else ''}{slip} days)"),
    ]


def _target_details(change: TargetChange) -> list[tuple[str, str]]:
    metric = change.metric
    return [
        ("Line of effort", metric.line_of_effort.title),
        ("Metric", metric.name),
        (
            "Target",
            f"{_target(change.old_target_value, change.old_target_on, metric.unit)} -> "
            f"{_target(change.new_target_value, change.new_target_on, metric.unit)}",
        ),
    ]


DATE_CHANGE = ChangeKind(
    key="date_change",
    returned_kind="declined_change",
    item_type="due_date_change",
    model=DueDateChange,
    subject=Milestone,
    subject_id=DueDateChange.milestone_id,
    title=Milestone.title,
    asked=(
        sa.literal("").label("unit"),
        NUMBER_NONE.label("old_value"),
        NUMBER_NONE.label("new_value"),
        DueDateChange.old_due_on.label("old_on"),
        DueDateChange.new_due_on.label("new_on"),
    ),
    deciders=lambda office_id: sa.or_(Milestone.office_id == office_id, Recommendation.action_office_id == office_id),
    also_returned_to=Milestone.owner_id,
    label="Due-date change",
    endpoint="milestones.show",
    anchor="dates-heading",
    subject_of=lambda change: change.milestone,
    requests=lambda milestone: milestone.date_changes,
    what=lambda milestone: f"the due date of “{milestone.title}”",
    verb="move",
    verbing="moving",
    old=lambda change: _day(change.old_due_on),
    new=lambda change: _day(change.new_due_on),
    details=_date_details,
    # A manager of the milestone's office or of the plan's.
    offices=lambda change: (
        change.milestone.office_id,
        change.milestone.line_of_effort.recommendation.action_office_id,
    ),
    requested_recipients=d.date_change_requested_recipients,
    decided_recipients=lambda requester, other: d.date_change_decided_recipients(requester=requester, owner=other),
    told_of_decision=lambda milestone: milestone.owner,
)

TARGET_CHANGE = ChangeKind(
    key="target_change",
    returned_kind="declined_target_change",
    item_type="target_change",
    model=TargetChange,
    subject=Metric,
    subject_id=TargetChange.metric_id,
    title=Metric.name,
    asked=(
        Metric.unit.label("unit"),
        TargetChange.old_target_value.label("old_value"),
        TargetChange.new_target_value.label("new_value"),
        TargetChange.old_target_on.label("old_on"),
        TargetChange.new_target_on.label("new_on"),
    ),
    deciders=lambda office_id: Recommendation.action_office_id == office_id,
    also_returned_to=LineOfEffort.lead_owner_id,
    label="Target change",
    endpoint="metrics.show",
    anchor="target-changes",
    subject_of=lambda change: change.metric,
    requests=lambda metric: metric.target_changes,
    what=lambda metric: f"the target of the metric “{metric.name}”",
    verb="change",
    verbing="changing",
    old=lambda change: _target(change.old_target_value, change.old_target_on, change.metric.unit),
    new=lambda change: _target(change.new_target_value, change.new_target_on, change.metric.unit),
    details=_target_details,
    # A manager of the plan's office.
    offices=lambda change: (change.metric.line_of_effort.recommendation.action_office_id,),
    requested_recipients=d.target_change_requested_recipients,
    decided_recipients=lambda requester, other: d.target_change_decided_recipients(
        requester=requester, line_lead=other
    ),
    told_of_decision=lambda metric: metric.line_of_effort.lead_owner,
)

#: Every kind, in the order the queues list them.
CHANGE_KINDS = (DATE_CHANGE, TARGET_CHANGE)
BY_KEY = {kind.key: kind for kind in CHANGE_KINDS}
BY_RETURNED = {kind.returned_kind: kind for kind in CHANGE_KINDS}
BY_MODEL = {kind.model: kind for kind in CHANGE_KINDS}
