import functools
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import joinedload

from app import audit
from app.audit import AuditEvent
from app.dbtypes import bound
from app.errors import refuse
from app.extensions import db
from app.permissions import authorise, can_make_transition
from app.recommendations.models import STATUS_LABELS, TRANSITIONS, LineOfEffort, Recommendation, StatusChange
from app.timeutil import today
from app.milestones.models import Milestone
from app.history import KINDS


def get_recommendation_or_404(
    recommendation_id: int, *, for_edit: bool = False, with_plan: bool = False
) -> Recommendation:
    """Load, then authorise: the recommendation, or 404 / 403."""
    recommendation = (
        db.session.scalars(_recommendation_statement(with_plan), {"id": recommendation_id}).unique().one_or_none()
    )
    return authorise(recommendation, "edit_plan" if for_edit else "view")


@functools.cache
def _recommendation_statement(with_plan: bool) -> sa.Select:
    """Built once, the id bound when it runs: building the plan's loader options cost a
    quarter as much as loading the plan."""
    # Imported here: app.milestones' routes import this module (a package-level cycle otherwise).
    query = sa.select(Recommendation).where(Recommendation.id == bound("id", sa.Integer))
    if with_plan:
        # One query: a plan has a few lines of a few milestones each, and each extra round
        # trip through the ORM costs more than the rows repeated by the joins.
        query = query.options(
            joinedload(Recommendation.lines_of_effort)
            .joinedload(LineOfEffort.milestones)
            .options(joinedload(Milestone.owner), joinedload(Milestone.office))
        )
    return query


def legal_targets(status: str) -> list[str]:
    """The statuses the machine may move to from ``status``, in the machine's own order."""
    return [to for to in STATUS_LABELS if (status, to) in TRANSITIONS]


def change_status(
    recommendation: Recommendation, to_status: str, reason: str, actor, *, submission=None, on: date | None = None
) -> StatusChange:
    """Move the status machine one step, or refuse: 403 for the wrong role, 409 for an illegal move.

    ``submission`` is the OIG decision or closure request that makes the move. The dates the
    move decides (management decision, final action) are set here and nowhere else.
    """
    on = on or today()
    from_status = recommendation.status
    attempt = {"from_status": from_status, "to_status": to_status}
    if not can_make_transition(actor, recommendation, to_status, submission):
        refuse(
            403,
            "Only an OIG reviewer changes a recommendation's status.",
            recommendation_id=recommendation.id,
            **attempt,
        )
    if (from_status, to_status) not in TRANSITIONS:
        refuse(
            409,
            f"A recommendation cannot move from “{STATUS_LABELS[from_status]}” to "
            f"“{STATUS_LABELS.get(to_status, to_status)}”. Nothing was changed.",
            recommendation_id=recommendation.id,
            **attempt,
        )
    if not reason or not reason.strip():
        abort(400, description="A status change needs a written reason.")

    dated = ("management_decision_on", "final_action_on", "closed_on", "disallowed_costs", "agreed_funds")
    before = {"status": from_status, **{f: getattr(recommendation, f) for f in dated}}
    values: dict[str, object] = {"status": to_status}
    if (from_status, to_status) == ("unresolved_open", "resolved_open"):
        values["management_decision_on"] = on
    elif (from_status, to_status) == ("resolved_open", "unresolved_open"):
        # The plan no longer stands: a new acceptance dates anew and answers on the money anew.
        values.update(management_decision_on=None, disallowed_costs=None, agreed_funds=None)
    elif to_status == "resolved_closed":
        values["final_action_on"] = on
        values["closed_on"] = on
    elif to_status == "closed_not_implemented":
        values["closed_on"] = on
    # Conditional on the status we read: of two concurrent moves, the second finds nothing to update.
    result = db.session.execute(
        sa.update(Recommendation)
        .where(Recommendation.id == recommendation.id, Recommendation.status == from_status)
        .values(**values),
        execution_options={"synchronize_session": "evaluate"},
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]  # DML returns a CursorResult
        refuse(
            409,
            "The recommendation's status changed meanwhile. Reload the page; nothing was changed.",
            recommendation_id=recommendation.id,
            **attempt,
        )

    change = StatusChange(
        recommendation_id=recommendation.id,
        from_status=from_status,
        to_status=to_status,
        reason=reason.strip(),
        actor_id=actor.id,
        submission_id=submission.id if submission is not None else None,
    )
    db.session.add(change)
    db.session.flush()
    after = {"status": to_status, **{f: getattr(recommendation, f) for f in dated}, "reason": reason.strip()}
    if submission is not None:
        after["submission"] = submission.number
    audit.record(
        "recommendation.status",
        recommendation,
        before=before,
        after=after,
        recommendation_id=recommendation.id,
        actor=actor,
    )
    return change


MONEY_DECISION_FIELDS = ("disallowed_costs", "agreed_funds")


def record_money_decision(recommendation: Recommendation, actor, *, disallowed_costs, agreed_funds) -> None:
    """The management decision's answer on the money: questioned costs disallowed, funds agreed."""
    before = audit.snapshot(recommendation, MONEY_DECISION_FIELDS)
    cents = Decimal("0.01")
    recommendation.disallowed_costs = (
        Decimal(disallowed_costs).quantize(cents)
        if recommendation.questioned_costs and disallowed_costs is not None
        else None
    )
    recommendation.agreed_funds = (
        Decimal(agreed_funds).quantize(cents)
        if recommendation.funds_put_to_better_use and agreed_funds is not None
        else None
    )
    after = audit.snapshot(recommendation, MONEY_DECISION_FIELDS)
    if after != before:
        audit.record(
            "recommendation.money_decision",
            recommendation,
            before=before,
            after=after,
            recommendation_id=recommendation.id,
            actor=actor,
        )


RESPONSE_FIELDS = ("concurrence", "concurrence_response", "responsible_official", "target_completion_on")
RESPONSE_LABELS = {
    "concurrence": "Concurrence",
    "concurrence_response": "Management response",
    "responsible_official": "Responsible official",
    "target_completion_on": "Target completion date",
}


def update_response(
    recommendation: Recommendation,
    actor,
    *,
    concurrence: str | None,
    concurrence_response: str,
    responsible_official: str,
    target_completion_on: date | None,
) -> bool:
    """Record the office's concurrence, response, responsible official and target date; True if any changed."""
    before = audit.snapshot(recommendation, RESPONSE_FIELDS)
    recommendation.concurrence = concurrence or None
    recommendation.concurrence_response = (concurrence_response or "").strip()
    recommendation.responsible_official = (responsible_official or "").strip()
    recommendation.target_completion_on = target_completion_on
    after = audit.snapshot(recommendation, RESPONSE_FIELDS)
    if before == after:
        return False
    audit.record(
        "recommendation.response",
        recommendation,
        before=before,
        after=after,
        recommendation_id=recommendation.id,
        actor=actor,
    )
    return True


def history_query(recommendation_id: int | sa.BindParameter, kind: str | None = None) -> sa.Select:
    """The recommendation's audit trail, newest first, authors loaded in the same query;
    ``kind`` (a key of app.history.KINDS) keeps the events of that kind."""
    query = (
        sa.select(AuditEvent)
        .where(AuditEvent.recommendation_id == recommendation_id)
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.id.desc())
    )
    if kind in KINDS:
        query = query.where(sa.or_(*(AuditEvent.action.startswith(prefix) for prefix in KINDS[kind][1])))
    return query


def history(recommendation_id: int, limit: int) -> list[AuditEvent]:
    """The latest ``limit`` events (the recommendation page)."""
    return list(db.session.scalars(_recent_history(), {"id": recommendation_id, "limit": limit}))


@functools.cache
def _recent_history() -> sa.Select:
    """``history_query`` built once, the id and the limit bound when it runs."""
    return history_query(bound("id", sa.Integer)).limit(bound("limit", sa.Integer))
