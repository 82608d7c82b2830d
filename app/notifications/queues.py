"""Each role's queue of work: what waits for this person, oldest first, one paged query each.

Every queue is a single statement that returns its page and, in each row, the total (a
``COUNT(*) OVER ()`` of the items found, or for OIG's a count apart), so a queue costs one query
whatever its length.
"""

import functools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.auth.models import User
from app.dbtypes import bound
from app.evidence.models import EvidenceItem, EvidenceReview, EvidenceVersion
from app.extensions import db
from app.approvals import declined_earlier
from app.metrics.models import Flag, Metric
from app.milestones.models import Milestone
from app.notifications.changes import BY_RETURNED, CHANGE_KINDS, ChangeKind
from app.pagination import Page
from app.recommendations.clocks import clocks_for
from app.recommendations.models import CLOCK_COLUMNS, OPEN_STATUSES, LineOfEffort, Recommendation, recommendation_label
from app.reports.models import Report
from app.submissions.models import KIND_LABELS, Submission

#: The title of each role's queue on its start page.
QUEUE_TITLES = {
    "oig_reviewer": "Awaiting your review",
    "manager": "Awaiting your approval",
    "action_office": "Returned to you",
}
#: The federal clock each kind of item bears on.
CLOCK_OF = {
    "plan": "resolution",
    "status_update": "status_update",
    "closure_request": "implementation",
    "evidence": "implementation",
}


def has_queue(user) -> bool:
    return user.role in QUEUE_TITLES and (user.role == "oig_reviewer" or user.office_id is not None)


@dataclass(frozen=True)
class QueueItem:
    #: submission, evidence, flag, returned_submission, returned_evidence, declined_change,
    #: declined_target_change
    kind: str
    id: int
    title: str
    detail: str
    since: datetime
    recommendation_id: int
    recommendation_label: str
    #: For OIG: the clock the item bears on (a Clock), else None.
    clock: object = None

    def age_days(self, on: date) -> int:
        return max(0, (on - self.since.date()).days)

    @property
    def target(self) -> tuple[str, dict]:
        """The endpoint and values of the page where the item is acted on."""
        if self.kind in ("submission", "returned_submission"):
            return "submissions.show", {"submission_id": self.id}
        if self.kind in ("evidence", "returned_evidence"):
            return "evidence.item", {"item_id": self.id}
        if self.kind == "flag":
            return "metrics.flags", {"recommendation_id": self.recommendation_id}
        if self.kind == "declined_target_change":
            return "metrics.show", {"metric_id": self.id, "_anchor": "target-changes"}
        return "milestones.show", {"milestone_id": self.id}


@dataclass(frozen=True)
class DateChangeItem:
    id: int
    milestone_id: int
    milestone_title: str
    recommendation_label: str
    old_due_on: date
    new_due_on: date
    justification: str
    requested_by: str
    since: datetime
    #: "Declined earlier on <date> by <name>: <reason>", or "".
    earlier: str = ""
    kind = "date_change"

    @property
    def slip_days(self) -> int:
        return (self.new_due_on - self.old_due_on).days

    def age_days(self, on: date) -> int:
        return max(0, (on - self.since.date()).days)


@dataclass(frozen=True)
class TargetChangeItem:
    id: int
    metric_id: int
    metric_name: str
    recommendation_label: str
    unit: str
    old_value: Decimal
    new_value: Decimal
    old_on: date | None
    new_on: date | None
    justification: str
    requested_by: str
    since: datetime
    earlier: str = ""
    kind = "target_change"

    def age_days(self, on: date) -> int:
        return max(0, (on - self.since.date()).days)


#: What names an item's recommendation (its label), in every queue.
_LABEL_COLUMNS = (
    Recommendation.id.label("rec_id"),
    Report.number.label("report_number"),
    Recommendation.number.label("rec_number"),
)


def _cut(stmt: sa.Select) -> sa.Select:
    """``stmt`` cut to a page: ``limit`` and ``offset`` are bound when it runs (``_page``)."""
    return stmt.limit(bound("limit", sa.Integer)).offset(bound("offset", sa.Integer))


def _page(stmt: sa.Select, values: dict, page: int, per_page: int, make) -> Page:
    """A page of ``stmt``'s rows (a statement ``_cut`` and built once: building the queues'
    unions cost more than running them), run with ``values``."""
    page = max(1, page)
    rows = db.session.execute(stmt, {**values, "limit": per_page, "offset": (page - 1) * per_page}).all()
    if not rows and page > 1:
        return _page(stmt, values, 1, per_page, make)
    total = rows[0].total if rows else 0
    return Page([make(r) for r in rows], page, per_page, total)


_REC_COLUMNS = (*_LABEL_COLUMNS, *CLOCK_COLUMNS)


def _first(stmt: sa.Select, *order) -> sa.Select:
    """The rows of one kind of item that can be on the page: its first ``limit + offset`` in the
    queue's order (its kind is the same on every row), a subquery (SQLite wants LIMIT inside one)."""
    first = stmt.order_by(*order).limit(bound("limit", sa.Integer) + bound("offset", sa.Integer)).subquery()
    return sa.select(first)


@functools.cache
def review_page_statement() -> sa.Select:
    """OIG: a page of the submissions awaiting a decision and the evidence awaiting review,
    oldest first, with their recommendations' and reports' columns and, on every row, the total
    (``review_count_statement``).

    Each kind gives its first ``limit + offset`` items in order (the pending submissions read in
    the order of ix_submissions_pending: a few rows for the first page), and the total is counted
    apart: sorting every waiting item with a window count fetched each one's row (6,596 at
    1,000,000 milestones, a heap page each), and joining their recommendations and reports
    before the cut did it again (bench/README.md)."""
    submissions = _first(
        sa.select(
            sa.literal("submission").label("kind"),
            Submission.id.label("id"),
            sa.cast(Submission.kind, sa.String).label("sub"),
            Submission.number.label("number"),
            sa.literal("").label("title"),
            Submission.submitted_at.label("since"),
            Submission.recommendation_id.label("rec_id"),
        ).where(Submission.decision.is_(None)),
        Submission.submitted_at,
        Submission.id,
    )
    evidence = _first(
        sa.select(
            sa.literal("evidence").label("kind"),
            EvidenceItem.id.label("id"),
            sa.literal("evidence").label("sub"),
            EvidenceItem.current_version.label("number"),
            EvidenceItem.title.label("title"),
            EvidenceVersion.uploaded_at.label("since"),
            EvidenceItem.recommendation_id.label("rec_id"),
        )
        .join(
            EvidenceVersion,
            sa.and_(EvidenceVersion.item_id == EvidenceItem.id, EvidenceVersion.number == EvidenceItem.current_version),
        )
        .join(Recommendation, EvidenceItem.recommendation_id == Recommendation.id)
        .where(
            EvidenceItem.review_status == "pending",
            EvidenceItem.withdrawn_at.is_(None),
            Recommendation.status.in_(OPEN_STATUSES),
        ),
        EvidenceVersion.uploaded_at,
        EvidenceItem.id,
    )
    both = sa.union_all(submissions, evidence).subquery()
    page = _cut(sa.select(both).order_by(both.c.since, both.c.kind, both.c.id)).subquery()
    return (
        sa.select(page, review_count_statement().label("total"), *_REC_COLUMNS[1:])
        .join(Recommendation, page.c.rec_id == Recommendation.id)
        .join(Report, Recommendation.report_id == Report.id)
        .order_by(page.c.since, page.c.kind, page.c.id)
    )


def _review_item(on: date):
    def make(r) -> QueueItem:
        label = recommendation_label(r.report_number, r.rec_number)
        clock = clocks_for(r, on)[CLOCK_OF[r.sub]]
        if r.kind == "submission":
            return QueueItem(
                "submission",
                r.id,
                f"Submission {r.number}: {KIND_LABELS[r.sub]}",
                "Awaiting OIG's decision",
                r.since,
                r.rec_id,
                label,
                clock,
            )
        return QueueItem(
            "evidence", r.id, r.title, f"Evidence, version {r.number}, awaiting review", r.since, r.rec_id, label, clock
        )

    return make


#: The changes a manager decides, each kind a part of their queue.
APPROVAL_KINDS = tuple(kind.key for kind in CHANGE_KINDS)


def _awaiting(kind: ChangeKind, office_id, user_id) -> sa.Select:
    """``kind``'s requests ``user_id`` may decide, with the request declined just before each."""
    change, requester = kind.model, aliased(User)
    earlier, between, decider = aliased(kind.model), aliased(kind.model), aliased(User)
    return (
        _with_report(
            kind,
            sa.select(
                sa.literal(kind.key).label("kind"),
                change.id.label("id"),
                kind.subject.id.label("subject_id"),
                kind.title.label("title"),
                *_LABEL_COLUMNS[1:],
                *kind.asked,
                change.justification.label("justification"),
                sa.func.coalesce(requester.name, "").label("requested_by"),
                change.requested_at.label("since"),
                earlier.decided_at.label("earlier_on"),
                decider.name.label("earlier_by"),
                earlier.decision_reason.label("earlier_reason"),
            ),
        )
        .outerjoin(requester, change.requested_by_id == requester.id)
        .outerjoin(
            earlier,
            sa.and_(
                _same_subject(kind, earlier, change),
                earlier.id < change.id,
                earlier.status == "declined",
                ~sa.select(between.id)
                .where(_same_subject(kind, between, change), between.id > earlier.id, between.id < change.id)
                .exists(),
            ),
        )
        .outerjoin(decider, earlier.decided_by_id == decider.id)
        .where(
            change.status == "pending",
            kind.deciders(office_id),
            sa.or_(change.requested_by_id.is_(None), change.requested_by_id != user_id),
            Recommendation.status.in_(OPEN_STATUSES),
        )
    )


def _with_recommendation(kind: ChangeKind, stmt: sa.Select) -> sa.Select:
    """``stmt`` joined from ``kind``'s request to its subject, line and recommendation."""
    return (
        stmt.join(kind.subject, kind.subject_id == kind.subject.id)
        .join(LineOfEffort, kind.subject.line_of_effort_id == LineOfEffort.id)
        .join(Recommendation, LineOfEffort.recommendation_id == Recommendation.id)
    )


def _with_report(kind: ChangeKind, stmt: sa.Select) -> sa.Select:
    """``stmt`` joined from ``kind``'s request to its subject, line, recommendation and report."""
    return _with_recommendation(kind, stmt).join(Report, Recommendation.report_id == Report.id)


def _same_subject(kind: ChangeKind, one, other) -> sa.ColumnElement[bool]:
    return getattr(one, kind.subject_id.key) == getattr(other, kind.subject_id.key)


def _declined(kind: ChangeKind, office, user_id) -> sa.Select:
    """``kind``'s last requests, declined, returned to the requester and to the subject's person."""
    change, newer = kind.model, aliased(kind.model)
    return _with_recommendation(
        kind,
        sa.select(
            sa.literal(kind.returned_kind).label("kind"),
            kind.subject_id.label("id"),
            kind.title.label("title"),
            change.decision_reason.label("sub"),
            change.decided_at.label("since"),
            Recommendation.id.label("rec_id"),
        ),
    ).where(
        office,
        change.status == "declined",
        sa.or_(change.requested_by_id == user_id, kind.also_returned_to == user_id),
        ~sa.select(newer.id).where(_same_subject(kind, newer, change), newer.id > change.id).exists(),
    )


@functools.cache
def approval_statement(kinds: tuple[str, ...] = APPROVAL_KINDS) -> sa.Select:
    """Manager: due-date changes of their office's milestones and target changes of its metrics
    awaiting a decision, oldest first (not their own requests: nobody approves their own). The
    deciders are those of ``permissions.can_decide_date_change`` and ``can_decide_target_change``.
    A page of them, run with ``_person``'s values."""
    office_id, user_id = bound("office_id", sa.Integer), bound("user_id", sa.Integer)
    parts = [_awaiting(kind, office_id, user_id) for kind in CHANGE_KINDS if kind.key in kinds]
    every = (sa.union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    return _cut(
        sa.select(every, sa.func.count().over().label("total")).order_by(every.c.since, every.c.kind, every.c.id)
    )


def _person(user) -> dict:
    """The values a manager's or an action office's queue runs with (``has_queue``: an office)."""
    return {"office_id": user.office_id, "user_id": user.id}


def _approval_item(r) -> DateChangeItem | TargetChangeItem:
    label = recommendation_label(r.report_number, r.rec_number)
    earlier = declined_earlier(r.earlier_on, r.earlier_by, r.earlier_reason)
    if r.kind == "target_change":
        return TargetChangeItem(
            r.id,
            r.subject_id,
            r.title,
            label,
            r.unit,
            r.old_value,
            r.new_value,
            r.old_on,
            r.new_on,
            r.justification,
            r.requested_by,
            r.since,
            earlier,
        )
    return DateChangeItem(
        r.id, r.subject_id, r.title, label, r.old_on, r.new_on, r.justification, r.requested_by, r.since, earlier
    )


def approval_page(user, page: int, per_page: int, kinds: tuple[str, ...] = APPROVAL_KINDS) -> Page:
    """A page of the changes awaiting ``user``'s decision (a manager of an office)."""
    return _page(approval_statement(kinds), _person(user), page, per_page, _approval_item)


@functools.cache
def returned_statement() -> sa.Select:
    """Action office: what came back to this person, in their office only: evidence judged
    insufficient (uploaded by them, or on a milestone they own), submissions of their office
    OIG did not accept (until a newer one of that kind is sent), open flags on metrics of
    lines they lead, their date changes declined (until the milestone has a newer one), and their
    target changes declined, or those on metrics of lines they lead (until the metric has a newer one).
    A page of them, run with ``_person``'s values.

    The items are found and counted with their recommendation's id only, and the page's few are
    joined to their recommendations and reports: the returned submissions alone were 285 rows
    for an office at 1,000,000 milestones, each joined to its report before the cut. They come
    from ix_submissions_rejected alone (it holds what the test and the page read, migration
    2020_dash2), joined to the office's open recommendations (ix_recommendations_office_open)."""
    user_id = bound("user_id", sa.Integer)
    office = Recommendation.action_office_id == bound("office_id", sa.Integer)
    last_review = (
        sa.select(sa.func.max(EvidenceReview.reviewed_at))
        .where(EvidenceReview.item_id == EvidenceItem.id)
        .correlate(EvidenceItem)
        .scalar_subquery()
    )
    evidence = (
        sa.select(
            sa.literal("returned_evidence").label("kind"),
            EvidenceItem.id.label("id"),
            EvidenceItem.title.label("title"),
            sa.literal("").label("sub"),
            sa.func.coalesce(last_review, EvidenceItem.created_at).label("since"),
            Recommendation.id.label("rec_id"),
        )
        .join(Recommendation, EvidenceItem.recommendation_id == Recommendation.id)
        .outerjoin(Milestone, EvidenceItem.milestone_id == Milestone.id)
        .where(
            office,
            EvidenceItem.review_status == "insufficient",
            EvidenceItem.withdrawn_at.is_(None),
            sa.or_(EvidenceItem.created_by_id == user_id, Milestone.owner_id == user_id),
        )
    )
    later = aliased(Submission)
    submissions = (
        sa.select(
            sa.literal("returned_submission").label("kind"),
            Submission.id.label("id"),
            sa.cast(Submission.number, sa.String).label("title"),
            sa.cast(Submission.kind, sa.String).label("sub"),
            Submission.decided_at.label("since"),
            Recommendation.id.label("rec_id"),
        )
        .join(Recommendation, Submission.recommendation_id == Recommendation.id)
        .where(
            office,
            Submission.decision == "rejected",
            Recommendation.status.in_(OPEN_STATUSES),
            ~sa.select(later.id)
            .where(
                later.recommendation_id == Submission.recommendation_id,
                later.kind == Submission.kind,
                later.number > Submission.number,
            )
            .exists(),
        )
    )
    flags = (
        sa.select(
            sa.literal("flag").label("kind"),
            Flag.id.label("id"),
            Metric.name.label("title"),
            (Flag.component + ", " + Flag.period).label("sub"),
            Flag.raised_at.label("since"),
            Recommendation.id.label("rec_id"),
        )
        .join(Metric, Flag.metric_id == Metric.id)
        .join(LineOfEffort, Metric.line_of_effort_id == LineOfEffort.id)
        .join(Recommendation, LineOfEffort.recommendation_id == Recommendation.id)
        .where(office, Flag.status == "open", LineOfEffort.lead_owner_id == user_id)
    )
    every = sa.union_all(
        evidence, submissions, flags, *(_declined(kind, office, user_id) for kind in CHANGE_KINDS)
    ).subquery()
    page = _cut(
        sa.select(every, sa.func.count().over().label("total")).order_by(every.c.since, every.c.kind, every.c.id)
    ).subquery()
    return (
        sa.select(page, *_LABEL_COLUMNS[1:])
        .join(Recommendation, page.c.rec_id == Recommendation.id)
        .join(Report, Recommendation.report_id == Report.id)
        .order_by(page.c.since, page.c.kind, page.c.id)
    )


def _returned_item(r) -> QueueItem:
    label = recommendation_label(r.report_number, r.rec_number)
    if r.kind == "returned_evidence":
        return QueueItem(r.kind, r.id, r.title, "Evidence judged insufficient by OIG", r.since, r.rec_id, label)
    if r.kind == "returned_submission":
        return QueueItem(
            r.kind, r.id, f"Submission {r.title}: {KIND_LABELS[r.sub]}", "Not accepted by OIG", r.since, r.rec_id, label
        )
    if r.kind == "flag":
        return QueueItem(r.kind, r.id, r.title, f"Open flag: {r.sub}", r.since, r.rec_id, label)
    declined = f"{BY_RETURNED[r.kind].label} declined" + (f": {r.sub}" if r.sub else "")
    return QueueItem(r.kind, r.id, r.title, declined, r.since, r.rec_id, label)


def queue_page(user, on: date, page: int, per_page: int) -> Page | None:
    """The page of ``user``'s queue, or None when their role has none."""
    if not has_queue(user):
        return None
    if user.role == "oig_reviewer":
        return _page(review_page_statement(), {}, page, per_page, _review_item(on))
    if user.role == "manager":
        return approval_page(user, page, per_page)
    return _page(returned_statement(), _person(user), page, per_page, _returned_item)


def review_count_statement() -> sa.ColumnElement[int]:
    """How many items await OIG (the header's count): the same two sets, counted."""
    subs = sa.select(sa.func.count(Submission.id)).where(Submission.decision.is_(None)).scalar_subquery()
    ev = (
        sa.select(sa.func.count(EvidenceItem.id))
        .join(Recommendation, EvidenceItem.recommendation_id == Recommendation.id)
        .where(
            EvidenceItem.review_status == "pending",
            EvidenceItem.withdrawn_at.is_(None),
            Recommendation.status.in_(OPEN_STATUSES),
        )
        .scalar_subquery()
    )
    return subs + ev
