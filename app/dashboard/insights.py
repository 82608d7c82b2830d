"""What each role's dashboard shows beyond the recommendation list: ages, slipping work, clocks.

Every figure is computed in the database, in a fixed number of queries whatever the number
of rows (tests/test_query_budgets.py, bench/README.md):

- counts by status and by age are one ``GROUP BY``;
- the deadlines about to pass are found in SQL. Each clock's date is a monotonic function of
  one stored date (issue date, management decision, latest submission), so "due within 30
  days or passed" is a range condition on that date, with its boundary worked out here from
  ``app.recommendations.clocks`` itself (``latest_base_on``). The earliest few candidates of
  each clock are read with their submission dates and their clocks recomputed by
  ``clocks_for``: what the list shows is exactly what the recommendation page shows.
- overdue milestones are one indexed COUNT and one LIMITed list.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.milestones.models import Milestone
from app.permissions import READ_ALL_ROLES, visible_recommendations
from app.recommendations.clocks import (DUE_SOON_DAYS, IMPLEMENTATION_MONTHS, PLAN_RESPONSE_DAYS,
                                        RESOLUTION_MONTHS, STATUS_UPDATE_DAYS, add_months, clocks_for)
from app.recommendations.models import OPEN_STATUSES, STATUSES, LineOfEffort, Recommendation
from app.reports.models import Report
from app.submissions.models import Submission

AGE_BUCKETS = ("0–6 months", "6–12 months", "1–2 years", "Over 2 years")
AGE_MONTHS = (6, 12, 24)
LIST_LIMIT = 10
#: Candidates read per clock beyond the list's length: month-end clamping (Aug 30 and Aug 31
#: both give Feb 28) can reorder recommendations whose base dates are a day or two apart.
CANDIDATE_MARGIN = 10
ALERT_STATES = ("due_soon", "past_due")


def age_bucket(issued_on: date, today: date) -> int:
    for index, months in enumerate(AGE_MONTHS):
        if add_months(issued_on, months) > today:
            return index
    return len(AGE_MONTHS)


def latest_base_on(months: int, on: date) -> date:
    """The last day ``d`` with ``add_months(d, months) <= on``.

    ``add_months`` never decreases, so "the clock's date is on or before ``on``" is
    "its base date is on or before this day": a condition an index can answer.
    """
    day = add_months(on, -months) + timedelta(days=4)
    while add_months(day, months) > on:
        day -= timedelta(days=1)
    return day


@dataclass
class ClockAlert:
    recommendation: Recommendation
    label: str
    due_on: date
    state: str


@dataclass
class Insights:
    ages: list[tuple[str, int]]
    overdue_count: int
    overdue: list[Milestone]
    clock_alerts: list[ClockAlert]
    open_flags: int | None = None
    submissions_waiting: list | None = None
    submissions_waiting_count: int = 0
    extra: dict = field(default_factory=dict)


def status_and_age_counts(scope, today: date) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Recommendations by status, and open ones by age since issue, in one GROUP BY."""
    bucket = sa.case(*((Recommendation.issued_on > latest_base_on(months, today), index)
                       for index, months in enumerate(AGE_MONTHS)), else_=len(AGE_MONTHS))
    rows = db.session.execute(
        sa.select(Recommendation.status, bucket, sa.func.count()).where(scope)
        .group_by(Recommendation.status, bucket)).all()
    by_status = dict.fromkeys(STATUSES, 0)
    ages = [0] * len(AGE_BUCKETS)
    for status, index, count in rows:
        by_status[status] += count
        if status in OPEN_STATUSES:
            ages[index] += count
    return by_status, list(zip(AGE_BUCKETS, ages))


def _submission_dates():
    first_plan = sa.func.min(sa.case((Submission.kind == "plan", Submission.submitted_on)))
    return (sa.select(Submission.recommendation_id.label("recommendation_id"),
                      sa.type_coerce(first_plan, sa.Date).label("plan_on"),
                      sa.type_coerce(sa.func.max(Submission.submitted_on), sa.Date).label("last_on"))
            .group_by(Submission.recommendation_id).subquery("submitted"))


def _earliest(statement: sa.Select, order_by) -> sa.Select:
    """The first candidates of one clock, as a subquery of ids (SQLite wants LIMIT inside one)."""
    limited = statement.order_by(order_by, Recommendation.id).limit(LIST_LIMIT + CANDIDATE_MARGIN).subquery()
    return sa.select(limited.c.id)


def clock_alerts(scope, today: date) -> list[ClockAlert]:
    """The open recommendations' deadlines due within 30 days or passed, earliest first."""
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    submitted = _submission_dates()
    base = (sa.select(Recommendation.id)
            .outerjoin(submitted, submitted.c.recommendation_id == Recommendation.id)
            .where(scope, Recommendation.status.in_(OPEN_STATUSES)))
    no_plan_yet = sa.and_(Recommendation.management_decision_on.is_(None), submitted.c.plan_on.is_(None))
    last_activity = sa.case(
        (submitted.c.last_on.is_(None), sa.func.coalesce(Recommendation.management_decision_on,
                                                         Recommendation.issued_on)),
        (Recommendation.management_decision_on.is_(None), submitted.c.last_on),
        (submitted.c.last_on > Recommendation.management_decision_on, submitted.c.last_on),
        else_=Recommendation.management_decision_on)
    candidates = sa.union_all(
        _earliest(base.where(no_plan_yet,
                             Recommendation.issued_on <= horizon - timedelta(days=PLAN_RESPONSE_DAYS)),
                  Recommendation.issued_on),
        _earliest(base.where(Recommendation.management_decision_on.is_(None),
                             Recommendation.issued_on <= latest_base_on(RESOLUTION_MONTHS, horizon)),
                  Recommendation.issued_on),
        _earliest(base.where(Recommendation.management_decision_on
                             <= latest_base_on(IMPLEMENTATION_MONTHS, horizon)),
                  Recommendation.management_decision_on),
        _earliest(base.where(last_activity <= horizon - timedelta(days=STATUS_UPDATE_DAYS)), last_activity),
    ).subquery()
    rows = db.session.execute(
        sa.select(Recommendation, submitted.c.plan_on, submitted.c.last_on)
        .join(Recommendation.report)
        .outerjoin(submitted, submitted.c.recommendation_id == Recommendation.id)
        .where(Recommendation.id.in_(sa.select(candidates.c.id)))
        .options(contains_eager(Recommendation.report))).unique().all()
    alerts = [ClockAlert(rec, clock.label, clock.due_on, clock.state)
              for rec, plan_on, last_on in rows
              for clock in clocks_for(rec, today, plan_submitted_on=plan_on, last_update_on=last_on).values()
              if clock.state in ALERT_STATES]
    alerts.sort(key=lambda a: (a.due_on, a.recommendation.id, a.label))
    return alerts[:LIST_LIMIT]


def overdue_milestones(user, scope, today: date) -> tuple[int, list[Milestone]]:
    """How many milestones are late, and the longest-late few (index ix_milestones_status_due)."""
    # Literal values: the planner proves the partial index's WHERE from them, not from parameters.
    late = (Milestone.status.in_([sa.literal(s, literal_execute=True) for s in ("not_started", "in_progress")]),
            Milestone.current_due_on < today)
    counted = sa.select(sa.func.count(Milestone.id)).where(*late)
    if user.role not in READ_ALL_ROLES:  # every milestone belongs to a recommendation: no join needed
        counted = counted.join(Milestone.line_of_effort).join(LineOfEffort.recommendation).where(scope)
    listed = db.session.scalars(
        sa.select(Milestone).join(Milestone.line_of_effort).join(LineOfEffort.recommendation)
        .join(Recommendation.report).where(scope, *late)
        .options(contains_eager(Milestone.line_of_effort).contains_eager(LineOfEffort.recommendation)
                 .contains_eager(Recommendation.report))
        .order_by(Milestone.current_due_on, Milestone.id).limit(LIST_LIMIT)).unique().all()
    return db.session.scalar(counted), listed


def open_flag_count(user) -> int | None:
    """Open monitor flags on the recommendations the user may see."""
    from app.metrics.models import Flag, Metric
    return db.session.scalar(
        sa.select(sa.func.count(Flag.id)).join(Flag.metric).join(Metric.line_of_effort)
        .join(LineOfEffort.recommendation)
        .where(Flag.status == "open", visible_recommendations(user, Recommendation)))


def dashboard_insights(user, today: date, ages: list[tuple[str, int]] | None = None) -> Insights:
    scope = visible_recommendations(user, Recommendation)
    if ages is None:
        ages = status_and_age_counts(scope, today)[1]
    overdue_count, overdue = overdue_milestones(user, scope, today)
    insights = Insights(ages=ages, overdue_count=overdue_count, overdue=overdue,
                        clock_alerts=clock_alerts(scope, today), open_flags=open_flag_count(user))
    if user.role == "oig_reviewer":
        from app.submissions.services import awaiting_decision, awaiting_decision_count
        insights.submissions_waiting = awaiting_decision(limit=LIST_LIMIT)
        insights.submissions_waiting_count = awaiting_decision_count()
    return insights
