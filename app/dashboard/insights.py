"""What each role's dashboard shows beyond the recommendation list: ages, slipping work, clocks.

One query per figure, whatever the number of rows. ``open_flag_count`` and
``submissions_waiting`` are the hooks the monitoring (issue 6) and submissions (issue 3)
domains fill in after the merge; until then they return None and the dashboard leaves
their panels out.
"""
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.milestones.models import Milestone
from app.permissions import visible_recommendations
from app.recommendations.clocks import add_months, clocks_for
from app.recommendations.models import OPEN_STATUSES, LineOfEffort, Recommendation
from app.reports.models import Report

AGE_BUCKETS = ("0–6 months", "6–12 months", "1–2 years", "Over 2 years")
LIST_LIMIT = 10


def age_bucket(issued_on: date, today: date) -> int:
    if add_months(issued_on, 6) > today:
        return 0
    if add_months(issued_on, 12) > today:
        return 1
    if add_months(issued_on, 24) > today:
        return 2
    return 3


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
    extra: dict = field(default_factory=dict)


def open_flag_count(user) -> int | None:
    """Open monitor flags on the recommendations the user may see."""
    from app.metrics.models import Flag, Metric
    return db.session.scalar(
        sa.select(sa.func.count(Flag.id)).join(Flag.metric).join(Metric.line_of_effort)
        .join(LineOfEffort.recommendation)
        .where(Flag.status == "open", visible_recommendations(user, Recommendation)))


def submissions_waiting(user) -> list | None:
    """Submissions waiting for an OIG decision, oldest first."""
    from app.submissions.services import awaiting_decision
    return awaiting_decision()[:LIST_LIMIT]


def dashboard_insights(user, today: date) -> Insights:
    scope = visible_recommendations(user, Recommendation)
    open_recs = db.session.scalars(
        sa.select(Recommendation).join(Recommendation.report)
        .where(scope, Recommendation.status.in_(OPEN_STATUSES))
        .options(contains_eager(Recommendation.report))
        .order_by(Report.issued_on, Recommendation.id)).unique().all()
    counts = [0] * len(AGE_BUCKETS)
    alerts = []
    for rec in open_recs:
        counts[age_bucket(rec.issued_on, today)] += 1
        for clock in clocks_for(rec, today).values():
            if clock.state in ("due_soon", "past_due"):
                alerts.append(ClockAlert(rec, clock.label, clock.due_on, clock.state))
    alerts.sort(key=lambda a: (a.due_on, a.recommendation.id))

    overdue_where = (scope, Milestone.status.in_(("not_started", "in_progress")), Milestone.current_due_on < today)
    overdue_count = db.session.scalar(
        sa.select(sa.func.count(Milestone.id)).join(Milestone.line_of_effort).join(LineOfEffort.recommendation)
        .where(*overdue_where))
    overdue = db.session.scalars(
        sa.select(Milestone).join(Milestone.line_of_effort).join(LineOfEffort.recommendation)
        .join(Recommendation.report).where(*overdue_where)
        .options(contains_eager(Milestone.line_of_effort).contains_eager(LineOfEffort.recommendation)
                 .contains_eager(Recommendation.report))
        .order_by(Milestone.current_due_on, Milestone.id).limit(LIST_LIMIT)).unique().all()
    return Insights(ages=list(zip(AGE_BUCKETS, counts)), overdue_count=overdue_count, overdue=overdue,
                    clock_alerts=alerts[:LIST_LIMIT], open_flags=open_flag_count(user),
                    submissions_waiting=submissions_waiting(user) if user.role == "oig_reviewer" else None)
