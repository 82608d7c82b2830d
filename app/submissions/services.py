import functools
import hashlib
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import defer, joinedload

from app import audit
from app.dbtypes import bound, lock_for_write
from app.errors import refuse
from app.extensions import db
from app.notifications import services as notify
from app.permissions import authorise, can_decide, can_submit
from app.auth.models import User
from app.offices.models import Office
from app.recommendations.models import STATUS_LABELS, Recommendation, RecommendationStatus, recommendation_label
from app.reports.models import Report
from app.recommendations.services import change_status, record_money_decision
from app.submissions.models import KIND_LABELS, Submission
from app.submissions.package import readiness_for
from app.submissions.snapshot import build_snapshot
from app.timeutil import today, utcnow

READINESS_TITLE = "Not done when sent, acknowledged by the sender"

#: The statuses in which the office may send each kind of submission.
SUBMITTABLE_IN = {
    "plan": ("unresolved_open", "resolved_open"),
    "status_update": ("unresolved_open", "resolved_open", "closure_pending"),
    "closure_request": ("resolved_open",),
}


def get_submission_or_404(submission_id: int) -> Submission:
    submission = db.session.scalar(
        sa.select(Submission)
        .where(Submission.id == submission_id)
        .options(
            joinedload(Submission.recommendation),
            joinedload(Submission.submitted_by),
            joinedload(Submission.decided_by),
        )
    )
    return authorise(submission)


#: Lists of submissions leave out the frozen snapshot and the narrative, the largest columns;
#: touching either on a listed submission raises instead of loading it row by row.
_WITHOUT_PLAN = (defer(Submission.snapshot, raiseload=True), defer(Submission.narrative, raiseload=True))


#: Built once, the recommendation's id bound when it runs (``for_recommendation``).
_FOR_RECOMMENDATION = (
    sa.select(Submission)
    .where(Submission.recommendation_id == bound("id", sa.Integer))
    .options(*_WITHOUT_PLAN, joinedload(Submission.submitted_by), joinedload(Submission.decided_by))
    .order_by(Submission.number.desc())
)


def for_recommendation(recommendation_id: int) -> list[Submission]:
    """What the recommendation page lists of each submission: not its frozen plan (read only
    when one submission is opened)."""
    return list(db.session.scalars(_FOR_RECOMMENDATION, {"id": recommendation_id}))


def sent_up_to(submission: Submission) -> list[Submission]:
    """The submissions of its recommendation sent before ``submission``, and itself."""
    return list(
        db.session.scalars(
            sa.select(Submission)
            .where(Submission.recommendation_id == submission.recommendation_id, Submission.number <= submission.number)
            .order_by(Submission.number)
        )
    )


def _waiting(query: sa.Select) -> sa.Select:
    """Submissions waiting for an OIG decision, oldest first (index ix_submissions_pending)."""
    return query.where(Submission.decision.is_(None)).order_by(Submission.submitted_at, Submission.id)


@dataclass(frozen=True)
class AwaitingLine(RecommendationStatus):
    """A line of the awaiting page: what was sent, by whom and when, as plain columns."""

    id: int
    number: int
    kind: str
    submitted_at: datetime
    submitted_by_name: str
    status: str
    recommendation_label: str
    office_name: str

    @property
    def title(self) -> str:
        return f"Submission {self.number}: {KIND_LABELS[self.kind]}"


@functools.cache
def awaiting_decision_statement() -> sa.Select:
    """The waiting submissions, for the awaiting page, as ``AwaitingLine`` columns: built once,
    run with ``limit`` and ``offset`` (``paginate_bound``), no ORM objects made."""
    return (
        _waiting(
            sa.select(
                Submission.id,
                Submission.number,
                Submission.kind,
                Submission.submitted_at,
                User.name,
                Recommendation.status,
                Report.number,
                Recommendation.number,
                Office.name,
            )
            .join(User, Submission.submitted_by_id == User.id)
            .join(Recommendation, Submission.recommendation_id == Recommendation.id)
            .join(Report, Recommendation.report_id == Report.id)
            .join(Office, Recommendation.action_office_id == Office.id)
        )
        .limit(bound("limit", sa.Integer))
        .offset(bound("offset", sa.Integer))
    )


def awaiting_line(row) -> AwaitingLine:
    id_, number, kind, sent_at, by, status, report_number, rec_number, office = row
    return AwaitingLine(id_, number, kind, sent_at, by, status, recommendation_label(report_number, rec_number), office)


@dataclass(frozen=True)
class WaitingSubmission:
    """A line of the dashboard's list of submissions waiting for a decision: plain columns."""

    id: int
    number: int
    kind: str
    submitted_on: date
    recommendation_label: str

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


def awaiting_decision(limit: int) -> list[WaitingSubmission]:
    """The oldest ``limit`` submissions waiting, in the order of awaiting_decision_statement."""
    return [
        WaitingSubmission(id_, number, kind, sent_on, recommendation_label(report_number, rec_number))
        for id_, number, kind, sent_on, rec_number, report_number in db.session.execute(
            _awaiting_decision_statement(), {"limit": limit}
        )
    ]


@functools.cache
def _awaiting_decision_statement() -> sa.Select:
    """Built once (``limit`` bound): the dashboard runs it on every OIG request."""
    return _waiting(
        sa.select(
            Submission.id,
            Submission.number,
            Submission.kind,
            Submission.submitted_on,
            Recommendation.number,
            Report.number,
        )
        .join(Submission.recommendation)
        .join(Recommendation.report)
    ).limit(bound("limit", sa.Integer))


_AWAITING_COUNT = sa.select(sa.func.count(Submission.id)).where(Submission.decision.is_(None))


def awaiting_decision_count() -> int:
    return db.session.scalar(_AWAITING_COUNT) or 0


def note_sent(recommendation: Recommendation, kind: str, on: date) -> None:
    """Keep the recommendation's first-plan and latest-submission dates (the clocks' inputs)."""
    if kind == "plan" and (recommendation.plan_submitted_on is None or on < recommendation.plan_submitted_on):
        recommendation.plan_submitted_on = on
    if recommendation.last_submitted_on is None or on > recommendation.last_submitted_on:
        recommendation.last_submitted_on = on


def dates_from(submissions: list[Submission]) -> dict[str, date | None]:
    """``clocks_for`` keywords from submissions already loaded (e.g. those up to one sent)."""
    plans = [s.submitted_on for s in submissions if s.kind == "plan"]
    return {
        "plan_submitted_on": min(plans, default=None),
        "last_update_on": max((s.submitted_on for s in submissions), default=None),
    }


def snapshot_digest(snapshot: dict) -> str:
    return hashlib.sha256(audit.canonical_json(snapshot).encode()).hexdigest()


class NotAcknowledged(Exception):
    """A closure request whose readiness items are not each acknowledged in words."""

    def __init__(self, items):
        super().__init__(f"{len(items)} item(s) of the readiness list are not acknowledged")
        self.items = items


def readiness_record(items, acknowledgements: dict[str, str]) -> list[dict]:
    """The readiness list as sent, each item with the sender's words; raises NotAcknowledged."""
    missing = [item for item in items if not (acknowledgements.get(item.key) or "").strip()]
    if missing:
        raise NotAcknowledged(missing)
    return [
        {"key": item.key, "kind": item.kind, "text": item.text, "acknowledgement": acknowledgements[item.key].strip()}
        for item in items
    ]


def pending_submission(recommendation: Recommendation, kind: str) -> Submission | None:
    """The submission of this kind still awaiting OIG's decision, if any (one at a time)."""
    return db.session.scalar(
        sa.select(Submission)
        .where(
            Submission.recommendation_id == recommendation.id, Submission.kind == kind, Submission.decision.is_(None)
        )
        .order_by(Submission.number.desc())
        .limit(1)
    )


def why_not_sendable(recommendation: Recommendation, kind: str, pending: Submission | None) -> str | None:
    """Why a submission of ``kind`` cannot be sent now (None: it can). Pure, given ``pending``."""
    if recommendation.status not in SUBMITTABLE_IN[kind]:
        return (
            f"A {KIND_LABELS[kind].lower()} cannot be sent while the recommendation is "
            f"“{STATUS_LABELS[recommendation.status]}”."
        )
    if pending is not None:
        return f"Submission {pending.number} ({KIND_LABELS[kind].lower()}) is still awaiting OIG's decision."
    return None


def lock_recommendation(recommendation: Recommendation) -> None:
    """Read the recommendation again under a lock held until the transaction ends: a second send
    at the same moment (a double click) waits for this one, then finds it awaiting OIG's decision
    instead of taking the same submission number."""
    db.session.scalar(lock_for_write(sa.select(Recommendation).where(Recommendation.id == recommendation.id)))


def check_sendable(recommendation: Recommendation, kind: str) -> None:
    """Refuse (409, recorded) a submission the recommendation's state does not allow."""
    pending = pending_submission(recommendation, kind)
    reason = why_not_sendable(recommendation, kind, pending)
    if reason:
        refuse(
            409,
            reason,
            recommendation_id=recommendation.id,
            kind=kind,
            status=recommendation.status,
            **({"pending": pending.number} if pending is not None else {}),
        )


def submit(
    recommendation: Recommendation,
    kind: str,
    narrative: str,
    actor,
    *,
    on: date | None = None,
    acknowledgements: dict[str, str] | None = None,
) -> Submission:
    """Freeze the plan as it stands and send it to OIG (a closure request also moves the status).

    A closure request carries the readiness list as it stands, each item acknowledged in the
    sender's words (``acknowledgements``: item key -> text); any item left unacknowledged
    raises NotAcknowledged and nothing is sent."""
    on = on or today()
    if not can_submit(actor, recommendation):
        refuse(403, "Only the action office sends submissions to OIG.", recommendation_id=recommendation.id, kind=kind)
    lock_recommendation(recommendation)  # checked and numbered under it
    check_sendable(recommendation, kind)
    snapshot = build_snapshot(recommendation, kind, narrative=narrative.strip())
    acknowledged = []
    if kind == "closure_request":
        acknowledged = readiness_record(readiness_for(recommendation), acknowledgements or {})
        snapshot["sections"].append({"key": "readiness", "title": READINESS_TITLE, "data": acknowledged})
    number = (
        db.session.scalar(
            sa.select(sa.func.max(Submission.number)).where(Submission.recommendation_id == recommendation.id)
        )
        or 0
    ) + 1
    submission = Submission(
        recommendation_id=recommendation.id,
        number=number,
        kind=kind,
        narrative=narrative.strip(),
        snapshot=snapshot,
        snapshot_sha256=snapshot_digest(snapshot),
        submitted_by_id=actor.id,
        submitted_on=on,
    )
    db.session.add(submission)
    note_sent(recommendation, kind, on)
    db.session.flush()
    audit.record(
        "submission.create",
        submission,
        after={
            "number": number,
            "kind": kind,
            "narrative": submission.narrative,
            "snapshot_sha256": submission.snapshot_sha256,
            **({"acknowledged": acknowledged} if acknowledged else {}),
        },
        recommendation_id=recommendation.id,
        actor=actor,
    )
    if kind == "closure_request":
        change_status(recommendation, "closure_pending", submission.narrative, actor, submission=submission, on=on)
    notify.submission_sent(submission, actor)
    return submission


def _status_after(submission: Submission, decision: str) -> str | None:
    """The move a decision makes, or None; refuses a decision the status no longer allows."""
    status = submission.recommendation.status
    if submission.kind == "plan":
        if status not in SUBMITTABLE_IN["plan"]:
            refuse(
                409,
                f"A plan cannot be decided while the recommendation is “{STATUS_LABELS[status]}”.",
                recommendation_id=submission.recommendation_id,
                submission=submission.number,
                decision=decision,
            )
        return "resolved_open" if decision == "accepted" and status == "unresolved_open" else None
    if submission.kind == "closure_request":
        if status != "closure_pending":
            refuse(
                409,
                f"A closure request cannot be decided while the recommendation is “{STATUS_LABELS[status]}”.",
                recommendation_id=submission.recommendation_id,
                submission=submission.number,
                decision=decision,
            )
        return "resolved_closed" if decision == "accepted" else "resolved_open"
    return None


def decide(
    submission: Submission,
    decision: str,
    analysis: str,
    actor,
    *,
    on: date | None = None,
    disallowed_costs=None,
    agreed_funds=None,
) -> None:
    """OIG accepts or rejects a submission with its written analysis; the status follows.

    Accepting a plan is the management decision: ``disallowed_costs`` and ``agreed_funds`` are
    its answer on the recommendation's questioned costs and funds put to better use.
    """
    attempt = {"submission": submission.number, "decision": decision}
    if not can_decide(actor, submission):
        refuse(
            403,
            "Only an OIG reviewer decides, and never on a submission of their own.",
            recommendation_id=submission.recommendation_id,
            **attempt,
        )
    if not submission.is_pending:
        refuse(
            409,
            f"Submission {submission.number} was already {submission.decision}.",
            recommendation_id=submission.recommendation_id,
            **attempt,
        )
    target = _status_after(submission, decision)
    decided_at = utcnow()
    # Of two reviewers deciding at once, the second finds the submission decided.
    result = db.session.execute(
        sa.update(Submission)
        .where(Submission.id == submission.id, Submission.decision.is_(None))
        .values(decision=decision, analysis=analysis.strip(), decided_by_id=actor.id, decided_at=decided_at),
        execution_options={"synchronize_session": "evaluate"},
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]  # DML returns a CursorResult
        refuse(
            409,
            f"Submission {submission.number} was decided meanwhile.",
            recommendation_id=submission.recommendation_id,
            **attempt,
        )
    audit.record(
        "submission.decide",
        submission,
        before={"decision": None},
        after={
            "number": submission.number,
            "kind": submission.kind,
            "decision": decision,
            "analysis": analysis.strip(),
        },
        recommendation_id=submission.recommendation_id,
        actor=actor,
    )
    if target is not None:
        change_status(submission.recommendation, target, analysis, actor, submission=submission, on=on)
    if target == "resolved_open" and submission.kind == "plan":
        record_money_decision(
            submission.recommendation, actor, disallowed_costs=disallowed_costs, agreed_funds=agreed_funds
        )
    notify.oig_decided(submission, actor)
