"""What each role's dashboard shows beyond the recommendation list: ages, slipping work, clocks.

Every figure is computed in the database, in a fixed number of queries whatever the number
of rows (tests/web/test_query_budgets.py, bench/README.md):

- counts by status and by age, and the late milestones' count, are one ``GROUP BY`` over
  ``recommendation_totals`` (recommendations counted by office and status) and the open
  statuses' last two years of ``recommendation_days`` (counted by office, status and issue day),
  both kept by triggers (migrations 1950_dash1m, 2030_dash2);
- the deadlines about to pass are found in SQL. Each clock's date is a monotonic function of
  one stored date (issue date, management decision, latest submission), so "due within 30
  days or passed" is a range condition on that date, with its boundary worked out here from
  ``app.recommendations.clocks`` itself (``latest_base_on``). The submission dates are the
  recommendation's own columns (set when a submission is sent), so no aggregate over the
  submissions runs. The earliest few candidates of each clock are read and their clocks
  recomputed by ``clocks_for``: what the list shows is exactly what the recommendation page shows.
- overdue milestones are a sum over ``open_milestone_days`` (open milestones counted by action
  office and due day, kept by triggers: migration 1910_dash), one row per day before today,
  and one LIMITed list.
"""

import functools
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from app.dbtypes import bound, literal_in
from app.extensions import db
from app.milestones.models import OPEN_MILESTONE_STATUSES, Milestone
from app.offices.models import Office
from app.permissions import reads_every_office, visible_recommendations_bound
from app.recommendations.clocks import (
    DUE_SOON_DAYS,
    IMPLEMENTATION_MONTHS,
    PLAN_RESPONSE_DAYS,
    RESOLUTION_MONTHS,
    STATUS_UPDATE_DAYS,
    add_months,
    clocks_for,
)
from app.recommendations.models import (
    CLOCK_COLUMNS,
    OPEN_STATUSES,
    STATUSES,
    LineOfEffort,
    Recommendation,
    RecommendationStatus,
    recommendation_label,
)
from app.reports.models import Report
from app.metrics.models import Flag, Metric
from app.submissions.services import awaiting_decision, awaiting_decision_count

AGE_BUCKETS = ("0–6 months", "6–12 months", "1–2 years", "Over 2 years")
AGE_MONTHS = (6, 12, 24)
LIST_LIMIT = 10
#: Candidates read per clock beyond the list's length: month-end clamping (Aug 30 and Aug 31
#: both give Feb 28) can reorder recommendations whose base dates are a day or two apart.
CANDIDATE_MARGIN = 10
ALERT_STATES = ("due_soon", "past_due")
#: The open milestones of each action office by due day, and of every office as office 0, kept by
#: the database's triggers in the transaction that changes them (migration 1910_dash; not a
#: model, so backups leave it out and a restore rebuilds it): the overdue count is the sum of the
#: days before today.
OPEN_MILESTONE_DAYS = sa.table(
    "open_milestone_days",
    sa.column("office_id", sa.Integer),
    sa.column("due_on", sa.Date),
    sa.column("milestones", sa.Integer),
)
#: The recommendations of each action office by status and issue day, and of every office as
#: office 0, kept by the database's triggers (migration 1950_dash1m): the figures sum an office's
#: rows, at most one a status and issue day, whatever the number of recommendations.
RECOMMENDATION_DAYS = sa.table(
    "recommendation_days",
    sa.column("office_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("issued_on", sa.Date),
    sa.column("recommendations", sa.Integer),
)
#: The recommendations of each action office by status, and of every office as office 0, kept by
#: the same triggers (migration 2030_dash2): the counts by status, so that only the ages sum days.
RECOMMENDATION_TOTALS = sa.table(
    "recommendation_totals",
    sa.column("office_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("recommendations", sa.Integer),
)
EVERY_OFFICE = 0


def age_bucket(issued_on: date, today: date) -> int:
    """The age bucket of one recommendation: the definition ``status_and_age_counts`` computes in
    SQL, and the reference its tests compare it with."""
    for index, months in enumerate(AGE_MONTHS):
        if add_months(issued_on, months) > today:
            return index
    return len(AGE_MONTHS)


@functools.lru_cache(maxsize=64)
def latest_base_on(months: int, on: date) -> date:
    """The last day ``d`` with ``add_months(d, months) <= on``.

    ``add_months`` never decreases, so "the clock's date is on or before ``on``" is
    "its base date is on or before this day": a condition an index can answer.
    """
    day = add_months(on, -months) + timedelta(days=4)
    while add_months(day, months) > on:
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class RecommendationDates(RecommendationStatus):
    """What a deadline alert needs of a recommendation: its clocks' inputs and its label."""

    id: int
    report_number: str
    number: str
    status: str
    issued_on: date
    management_decision_on: date | None
    final_action_on: date | None
    plan_submitted_on: date | None
    last_submitted_on: date | None

    @property
    def label(self) -> str:
        return recommendation_label(self.report_number, self.number)

    @staticmethod
    def columns() -> tuple:
        """What to select for one, in the order of the fields."""
        return (
            Recommendation.id,
            Report.number,
            Recommendation.number,
            *CLOCK_COLUMNS,
        )


@dataclass(frozen=True)
class RecommendationLine(RecommendationDates):
    """A line of the dashboard's list of recommendations: plain columns, no ORM objects."""

    text: str
    priority: bool
    report_title: str
    report_issued_on: date
    #: The printed issue date of a replayed (demo) report, else None.
    report_printed_issued_on: date | None
    office_name: str

    @staticmethod
    def columns() -> tuple:
        return (
            *RecommendationDates.columns(),
            Recommendation.text,
            Recommendation.priority,
            Report.title,
            Report.issued_on,
            Report.printed_issued_on,
            Office.name,
        )


@dataclass
class ClockAlert:
    recommendation: RecommendationDates
    label: str
    due_on: date
    state: str


@dataclass(frozen=True)
class OverdueMilestone:
    """A line of the overdue list: plain columns, no ORM objects."""

    title: str
    current_due_on: date
    recommendation_id: int
    recommendation_label: str


@dataclass
class Insights:
    ages: list[tuple[str, int]]
    overdue_count: int
    overdue: list[OverdueMilestone]
    clock_alerts: list[ClockAlert]
    open_flags: int | None = None
    #: (recommendation id, its label, its open flags): where the count links to.
    open_flags_by_recommendation: list[tuple[int, str, int]] = field(default_factory=list)
    submissions_waiting: list | None = None
    submissions_waiting_count: int = 0
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DashboardStatements:
    """The dashboard's statements for one kind of scope, built once (``dashboard_statements``):
    building them cost more than running several of them. They run with ``dashboard_values``."""

    #: The figures, a row per status: its recommendations (``recommendation_totals``), those
    #: issued after each age boundary (newest first; summed over the scope's open days of
    #: ``recommendation_days`` after the oldest boundary, a range of its key for each open status),
    #: and on every row the late milestones (``overdue_count``, a subquery run once).
    figures: sa.Select
    #: Late milestones, counted from ``open_milestone_days`` (a row per office and due day),
    #: and the longest-late few (index ix_milestones_open_due).
    overdue_count: sa.Select
    overdue: sa.Select
    #: A page of the list of recommendations (``limit`` and ``offset`` bound): newest first, each
    #: report's recommendations in the order recorded, the order of the indexes
    #: ix_recommendations_(office_)list_order, so a page is read, not sorted.
    page: sa.Select


@functools.cache
def dashboard_statements(every_office: bool) -> DashboardStatements:
    scope = visible_recommendations_bound(every_office, Recommendation)
    boundaries = [bound(f"age_{months}", sa.Date) for months in AGE_MONTHS]  # newest first
    late = (
        literal_in(Milestone.status, OPEN_MILESTONE_STATUSES),
        Milestone.current_due_on < bound("today", sa.Date),
    )
    office = EVERY_OFFICE if every_office else bound("office_id", sa.Integer)
    days = OPEN_MILESTONE_DAYS.c
    overdue_count = sa.select(sa.func.coalesce(sa.func.sum(days.milestones), 0)).where(  # a range of its key
        days.office_id == office,
        days.due_on < bound("today", sa.Date),
    )
    counted, totals = RECOMMENDATION_DAYS.c, RECOMMENDATION_TOTALS.c
    recent = sa.select(
        counted.status.label("status"),
        sa.literal(0).label("recommendations"),
        *(
            sa.case((counted.issued_on > day, counted.recommendations), else_=0).label(f"after_{i}")
            for i, day in enumerate(boundaries)
        ),
    ).where(
        counted.office_id == office,
        literal_in(counted.status, OPEN_STATUSES),
        counted.issued_on > boundaries[-1],
    )
    by_status = sa.select(
        totals.status.label("status"),
        totals.recommendations.label("recommendations"),
        *(sa.literal(0).label(f"after_{i}") for i in range(len(boundaries))),
    ).where(totals.office_id == office)
    rows = sa.union_all(by_status, recent).subquery()
    return DashboardStatements(
        figures=(
            sa.select(
                rows.c.status,
                sa.func.sum(rows.c.recommendations),
                *(sa.func.sum(rows.c[f"after_{i}"]) for i in range(len(boundaries))),
                overdue_count.scalar_subquery(),
            ).group_by(rows.c.status)
        ),
        overdue_count=overdue_count,
        overdue=(
            sa.select(
                Milestone.title, Milestone.current_due_on, Recommendation.id, Recommendation.number, Report.number
            )
            .join(Milestone.line_of_effort)
            .join(LineOfEffort.recommendation)
            .join(Recommendation.report)
            .where(scope, *late)
            .order_by(Milestone.current_due_on, Milestone.id)
            .limit(LIST_LIMIT)
        ),
        page=(
            sa.select(*RecommendationLine.columns())
            .join(Recommendation.report)
            .join(Recommendation.action_office)
            .where(scope)
            .order_by(Recommendation.issued_on.desc(), Recommendation.report_id, Recommendation.id)
            .limit(bound("limit", sa.Integer))
            .offset(bound("offset", sa.Integer))
        ),
    )


def dashboard_values(user, today: date) -> dict:
    """What ``dashboard_statements`` run with, for ``user`` on ``today``."""
    return {
        "office_id": user.office_id,
        "today": today,
        **{f"age_{months}": latest_base_on(months, today) for months in AGE_MONTHS},
    }


@dataclass(frozen=True)
class Figures:
    """The dashboard's counts, read in one statement (``DashboardStatements.figures``)."""

    by_status: dict[str, int]
    ages: list[tuple[str, int]]
    overdue_count: int


def dashboard_figures(user, today: date) -> Figures:
    """Recommendations ``user`` may read by status, the open ones by age since issue (the oldest
    bucket is the open ones not counted in a newer one), and their late milestones."""
    statements, values = dashboard_statements(reads_every_office(user)), dashboard_values(user, today)
    by_status, newer = dict.fromkeys(STATUSES, 0), [0] * len(AGE_MONTHS)
    rows = db.session.execute(statements.figures, values).all()
    for status, count, *issued_after, _ in rows:
        by_status[status] = count
        if status in OPEN_STATUSES:
            newer = [n + m for n, m in zip(newer, issued_after)]
    overdue_count = rows[0][-1] if rows else 0  # no recommendation in scope, no milestone either
    total_open = sum(by_status[s] for s in OPEN_STATUSES)
    cumulative = [*newer, total_open]  # issued after each boundary, then all of them
    ages = [cumulative[0]] + [cumulative[i] - cumulative[i - 1] for i in range(1, len(cumulative))]
    return Figures(by_status, list(zip(AGE_BUCKETS, ages)), overdue_count)


def status_and_age_counts(user, today: date) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """``dashboard_figures``' counts by status and by age."""
    figures = dashboard_figures(user, today)
    return figures.by_status, figures.ages


def last_activity_on():
    """The day the 90-day status update clock counts from (``clocks``: the latest of the last
    submission and the management decision, else the issue date), as SQL: the expression of
    the index ix_recommendations_open_activity (migration 0900), word for word."""
    decided, sent = Recommendation.management_decision_on, Recommendation.last_submitted_on
    return sa.case(
        (sent.is_(None), sa.func.coalesce(decided, Recommendation.issued_on)),
        (decided.is_(None), sent),
        (sent > decided, sent),
        else_=decided,
    )


def _earliest(condition, order_by, scope) -> sa.Select:
    """The first candidates of one clock, as a subquery of ids (SQLite wants LIMIT inside one),
    read in order from a partial index of the open recommendations (migration 0900)."""
    limited = (
        sa.select(Recommendation.id)
        .where(scope, literal_in(Recommendation.status, OPEN_STATUSES), condition)
        .order_by(order_by, Recommendation.id)
        .limit(bound("candidates", sa.Integer))
        .subquery()
    )
    return sa.select(limited.c.id)


@functools.cache
def _candidates_statement(every_office: bool, dialect: str) -> sa.Select:
    """The deadline candidates and their clocks' inputs, built once for each kind of scope
    (building this union costs more than running it): the office, the boundary days and the
    number of candidates are bound parameters."""
    scope = visible_recommendations_bound(every_office, Recommendation)
    undecided = Recommendation.management_decision_on.is_(None)
    if dialect == "sqlite":
        # SQLite's statistics give ix_recommendations_decision_on a few rows a value, NULL
        # included, so it read every undecided recommendation through it and sorted them, a cost
        # that grows with the table (bench/README.md, "Figures behind the code"). likely() is its
        # planner hint and changes no result: it reads ix_recommendations_open_issued in order and
        # stops at the limit. PostgreSQL chooses that index itself.
        undecided = sa.func.likely(undecided)  # type: ignore[assignment]
    candidates = sa.union_all(
        _earliest(
            sa.and_(
                undecided,
                Recommendation.plan_submitted_on.is_(None),
                Recommendation.issued_on <= bound("plan_base", sa.Date),
            ),
            Recommendation.issued_on,
            scope,
        ),
        _earliest(
            sa.and_(undecided, Recommendation.issued_on <= bound("resolution_base", sa.Date)),
            Recommendation.issued_on,
            scope,
        ),
        _earliest(
            Recommendation.management_decision_on <= bound("implementation_base", sa.Date),
            Recommendation.management_decision_on,
            scope,
        ),
        _earliest(last_activity_on() <= bound("update_base", sa.Date), last_activity_on(), scope),
    ).subquery()
    return (
        sa.select(*RecommendationDates.columns())
        .join(Recommendation.report)
        .where(Recommendation.id.in_(sa.select(candidates.c.id)))
    )


def candidate_values(user, today: date) -> dict:
    """The values ``_candidates_statement`` runs with, for ``user`` on ``today``."""
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    return {
        "office_id": None if reads_every_office(user) else user.office_id,
        "candidates": LIST_LIMIT + CANDIDATE_MARGIN,
        "plan_base": horizon - timedelta(days=PLAN_RESPONSE_DAYS),
        "resolution_base": latest_base_on(RESOLUTION_MONTHS, horizon),
        "implementation_base": latest_base_on(IMPLEMENTATION_MONTHS, horizon),
        "update_base": horizon - timedelta(days=STATUS_UPDATE_DAYS),
    }


def clock_alerts(user, today: date) -> list[ClockAlert]:
    """The open recommendations ``user`` may read whose deadlines are due within 30 days or
    passed, earliest first."""
    statement = _candidates_statement(reads_every_office(user), db.session.get_bind().dialect.name)
    rows = db.session.execute(statement, candidate_values(user, today))
    # Plain rows, not ORM objects: up to 80 candidates are read for ten lines.
    alerts = []
    for row in rows:
        rec = RecommendationDates(*row)
        alerts += [
            ClockAlert(rec, clock.label, clock.due_on, clock.state)
            for clock in clocks_for(rec, today).values()
            if clock.state in ALERT_STATES and clock.due_on is not None
        ]
    alerts.sort(key=lambda a: (a.due_on, a.recommendation.id, a.label))
    return alerts[:LIST_LIMIT]


def overdue_milestones(user, today: date) -> list[OverdueMilestone]:
    """The longest-late few milestones (``dashboard_figures`` counts them all)."""
    statements, values = dashboard_statements(reads_every_office(user)), dashboard_values(user, today)
    return [
        OverdueMilestone(title, due, rec_id, recommendation_label(report_number, rec_number))
        for title, due, rec_id, rec_number, report_number in db.session.execute(statements.overdue, values)
    ]


def open_flags_by_recommendation(user) -> list[tuple[int, str, int]]:
    """Open monitor flags on the recommendations the user may see, counted per recommendation."""
    rows = db.session.execute(_open_flags_statement(reads_every_office(user)), {"office_id": user.office_id})
    return [(id_, recommendation_label(report, number), count) for id_, report, number, count in rows]


@functools.cache
def _open_flags_statement(every_office: bool) -> sa.Select:
    """Built once for each kind of scope (the office bound when it runs)."""
    return (
        sa.select(Recommendation.id, Report.number, Recommendation.number, sa.func.count(Flag.id))
        .select_from(Flag)
        .join(Flag.metric)
        .join(Metric.line_of_effort)
        .join(LineOfEffort.recommendation)
        .join(Recommendation.report)
        .where(Flag.status == "open", visible_recommendations_bound(every_office, Recommendation))
        .group_by(Recommendation.id, Report.number, Recommendation.number)
        .order_by(Report.number, Recommendation.number)
    )


def dashboard_insights(user, today: date, figures: Figures | None = None) -> Insights:
    if figures is None:
        figures = dashboard_figures(user, today)
    flags = open_flags_by_recommendation(user)
    insights = Insights(
        ages=figures.ages,
        overdue_count=figures.overdue_count,
        overdue=overdue_milestones(user, today),
        clock_alerts=clock_alerts(user, today),
        open_flags=sum(n for *_, n in flags),
        open_flags_by_recommendation=flags,
    )
    if user.role == "oig_reviewer":
        insights.submissions_waiting = awaiting_decision(limit=LIST_LIMIT)
        insights.submissions_waiting_count = awaiting_decision_count()
    return insights
