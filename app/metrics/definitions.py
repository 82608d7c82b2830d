"""A metric's definition: creating and editing it, and its target, which after the plan is
accepted moves only when a manager approves the office's request."""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_login import current_user
from sqlalchemy.orm import joinedload

from app import audit, versioning
from app.approvals import Approval, pending_request
from app.extensions import db
from app.metrics.models import Flag, ImprovementAction, Metric, TargetChange
from app.metrics.services import sync_flags
from app.metrics.values import normalise_definition
from app.milestones.services import plan_accepted
from app.notifications import services as notify
from app.permissions import authorise
from app.recommendations.models import LineOfEffort, Recommendation
from app.timeutil import utcnow

DEFINITION_FIELDS = (
    "name",
    "description",
    "kind",
    "unit",
    "direction",
    "baseline_value",
    "baseline_period",
    "target_value",
    "target_on",
    "frequency",
    "components",
    "data_source",
    "collect_from",
    "line_of_effort_id",
)


def create_metric(line: LineOfEffort, data: dict, today: date, *, sync: bool = True) -> Metric:
    metric = Metric(line_of_effort=line, **data)
    normalise_definition(metric)
    db.session.add(metric)
    db.session.flush()
    audit.record(
        "metric.create",
        metric,
        after=audit.snapshot(metric, DEFINITION_FIELDS),
        recommendation_id=line.recommendation_id,
    )
    if sync:
        sync_flags(metric, today)
    return metric


TARGET_FIELDS = ("target_value", "target_on")
#: How the edit form and the conflict page name a metric's fields.
DEFINITION_LABELS = {
    "name": "Name",
    "description": "Description",
    "kind": "Kind",
    "unit": "Unit",
    "direction": "Direction",
    "baseline_value": "Baseline value",
    "baseline_period": "Baseline period",
    "target_value": "Target value",
    "target_on": "Target date",
    "frequency": "Collection frequency",
    "components": "Components",
    "data_source": "Data source",
    "collect_from": "Collect readings from",
    "line_of_effort_id": "Line of effort",
}


def update_metric(
    metric: Metric, data: dict, today: date, *, justification: str = "", actor=None
) -> TargetChange | None:
    """Save the definition. A new target goes through ``change_target`` (returned): after the
    plan is accepted, the office's change waits for a manager."""
    actor = actor or current_user
    target = {name: data.pop(name) for name in TARGET_FIELDS if name in data}
    change = None
    if target and (target.get("target_value", metric.target_value), target.get("target_on", metric.target_on)) != (
        metric.target_value,
        metric.target_on,
    ):
        change = change_target(
            metric,
            target.get("target_value", metric.target_value),
            target.get("target_on", metric.target_on),
            justification,
            today,
            actor=actor,
        )
    before = audit.snapshot(metric, DEFINITION_FIELDS)
    for name, value in data.items():
        setattr(metric, name, value)
    normalise_definition(metric)
    after = audit.snapshot(metric, DEFINITION_FIELDS)
    if after == before:
        return change
    db.session.flush()
    audit.record(
        "metric.update", metric, before=before, after=after, recommendation_id=metric.line_of_effort.recommendation_id
    )
    sync_flags(metric, today)
    return change


class Targets(Approval):
    name, subject_name, audit_prefix = "target change", "metric", "metric.target"

    def __init__(self, today: date):
        self.today = today

    def subject(self, change):
        return change.metric

    def requests(self, metric):
        return metric.target_changes

    def state(self, metric):
        return audit.snapshot(metric, DEFINITION_FIELDS)

    def asked(self, change):
        metric = change.metric
        return {"target_value": metric.target_value, "target_on": metric.target_on}, {
            "requested_target_value": change.new_target_value,
            "requested_target_on": change.new_target_on,
        }

    def apply(self, change, *, baseline):
        change.metric.target_value, change.metric.target_on = change.new_target_value, change.new_target_on

    def declined(self, change):
        versioning.touch(change.metric)

    def applied(self, change, actor):
        sync_flags(change.metric, self.today, actor=actor)

    def requested(self, change, actor):
        notify.change_requested(change, actor)

    def decided(self, change, actor):
        notify.change_decided(change, actor)
        if change.status != "approved":
            return
        # The improvement action that asked for this target is done once the target moved.
        for action in db.session.scalars(
            sa.select(ImprovementAction)
            .join(ImprovementAction.flag)
            .where(
                Flag.metric_id == change.metric_id,
                ImprovementAction.decision == "adjust_target",
                ImprovementAction.status == "open",
                ImprovementAction.new_target_value == change.new_target_value,
            )
        ):
            action.status, action.done_at = "done", utcnow()
        sync_flags(change.metric, self.today, actor=actor)


def pending_target_change(metric: Metric) -> TargetChange | None:
    return pending_request(metric.target_changes)


def change_target(
    metric: Metric, value: Decimal, target_on: date | None, justification: str, today: date, *, actor
) -> TargetChange:
    """Before the plan is accepted the target moves at once, as does OIG's or an administrator's
    change; after, the action office's change is a request a manager approves or declines."""
    # Asked before the change exists: the question loads rows, and an autoflush then would meet a
    # change that is in the metric's list but not yet in the session (``request`` adds it).
    needs_approval = plan_accepted(metric.line_of_effort.recommendation) and actor.role == "action_office"
    change = TargetChange(
        metric=metric,
        old_target_value=metric.target_value,
        new_target_value=value,
        old_target_on=metric.target_on,
        new_target_on=target_on,
        justification=justification,
    )
    return Targets(today).request(change, needs_approval=needs_approval, actor=actor)


def get_target_change_or_404(change_id: int, *, for_decision: bool = False) -> TargetChange:
    return authorise(db.session.get(TargetChange, change_id), "decide_target_change" if for_decision else "view")


def decide_target_change(change: TargetChange, *, approve: bool, reason: str, today: date, actor) -> None:
    Targets(today).decide(change, approve=approve, reason=reason, actor=actor)


def target_decisions_awaiting(user) -> list[TargetChange]:
    """Pending target changes a manager may decide (My work)."""
    if user.role != "manager" or user.office_id is None:
        return []
    changes = db.session.scalars(
        sa.select(TargetChange)
        .where(TargetChange.status == "pending")
        .join(TargetChange.metric)
        .join(Metric.line_of_effort)
        .join(LineOfEffort.recommendation)
        .where(Recommendation.action_office_id == user.office_id)
        .options(
            joinedload(TargetChange.metric).joinedload(Metric.line_of_effort).joinedload(LineOfEffort.recommendation),
            joinedload(TargetChange.requested_by),
        )
        .order_by(TargetChange.requested_at, TargetChange.id)
    ).all()
    return [c for c in changes if c.requested_by_id != user.id]
