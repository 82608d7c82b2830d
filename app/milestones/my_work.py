"""My work: the signed-in user's milestones, filtered and paged with statements built once."""

import functools
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.dbtypes import bound
from app.milestones.models import OPEN_MILESTONE_STATUSES, Milestone, MilestoneRow
from app.offices.models import Office
from app.recommendations.models import LineOfEffort, Recommendation, recommendation_label
from app.reports.models import Report
from app.timeutil import today


@dataclass(frozen=True)
class MyWorkStatements:
    """My work's statements for one combination of filters, built once (``my_work_statements``):
    building them cost more than running them (bench/README.md, "Figures behind the code").
    They run with ``my_work_values``; ``page`` with ``limit`` and ``offset`` too."""

    #: The user's milestones, counted on the milestones table alone (index ix_milestones_owner_due):
    #: every milestone has its line, recommendation, report and office, so the page's joins drop none.
    count: sa.Select
    #: The milestones, overdue first, then by due date: the columns of ``MilestoneRow``.
    page: sa.Select
    #: The filters' choices: the lines of effort and the offices the user's milestones point at,
    #: as DISTINCT subqueries so that the planner starts from those milestones. A line is named
    #: with its recommendation: two plans may both have a "Governance" line.
    lines: sa.Select
    offices: sa.Select


@functools.cache
def my_work_statements(line: bool = False, status: str | None = None, office: bool = False) -> MyWorkStatements:
    """``line``, ``office``: filtered by one; ``status``: None, "open" (not started or in
    progress) or "one" (the status bound)."""
    mine = Milestone.owner_id == bound("owner_id", Milestone.owner_id.type)
    conditions = [mine]
    if line:
        conditions.append(Milestone.line_of_effort_id == bound("line_id", Milestone.line_of_effort_id.type))
    if status == "open":
        conditions.append(Milestone.status.in_(OPEN_MILESTONE_STATUSES))
    elif status:
        conditions.append(Milestone.status == bound("status", Milestone.status.type))
    if office:
        conditions.append(Milestone.office_id == bound("office_id", Milestone.office_id.type))
    is_open = Milestone.status.in_(OPEN_MILESTONE_STATUSES)
    overdue = sa.and_(is_open, Milestone.current_due_on < bound("on", Milestone.current_due_on.type))
    # Overdue first, then the other open ones, completed and cancelled last; by due date. The
    # page is cut from the milestones alone, then joined: joined first, every milestone of the
    # person (216 at 1,000,000) looked up its line, recommendation and report before the sort.
    rank = sa.case((overdue, 0), (is_open, 1), else_=2).label("rank")
    ordered = (
        sa.select(
            Milestone.id,
            Milestone.title,
            Milestone.status,
            Milestone.percent_complete,
            Milestone.current_due_on,
            Milestone.baseline_due_on,
            Milestone.line_of_effort_id,
            Milestone.office_id,
            rank,
        )
        .where(*conditions)
        .order_by(rank, Milestone.current_due_on, Milestone.id)
        .limit(bound("limit", sa.Integer))
        .offset(bound("offset", sa.Integer))
        .subquery()
    )
    page = (
        sa.select(
            ordered.c.id,
            ordered.c.title,
            ordered.c.status,
            ordered.c.percent_complete,
            ordered.c.current_due_on,
            ordered.c.baseline_due_on,
            LineOfEffort.title,
            Report.number,
            Recommendation.number,
            Office.code,
        )
        .join(LineOfEffort, LineOfEffort.id == ordered.c.line_of_effort_id)
        .join(LineOfEffort.recommendation)
        .join(Recommendation.report)
        .join(Office, Office.id == ordered.c.office_id)
        .order_by(ordered.c.rank, ordered.c.current_due_on, ordered.c.id)
    )
    my_lines = sa.select(Milestone.line_of_effort_id.label("id")).where(mine).distinct().subquery()
    my_offices = sa.select(Milestone.office_id.label("id")).where(mine).distinct().subquery()
    return MyWorkStatements(
        count=sa.select(sa.func.count(Milestone.id)).where(*conditions),
        page=page,
        lines=(
            sa.select(LineOfEffort.id, LineOfEffort.title, Recommendation.number, Report.number)
            .join(my_lines, my_lines.c.id == LineOfEffort.id)
            .join(LineOfEffort.recommendation)
            .join(Recommendation.report)
            .order_by(Report.number, Recommendation.number, LineOfEffort.position, LineOfEffort.id)
        ),
        offices=(
            sa.select(Office.id, Office.code).join(my_offices, my_offices.c.id == Office.id).order_by(Office.code)
        ),
    )


def my_work_values(
    user, *, line_id: int | None = None, status: str | None = None, office_id: int | None = None, on: date | None = None
) -> dict:
    return {"owner_id": user.id, "line_id": line_id, "status": status, "office_id": office_id, "on": on or today()}


def my_work_row(row) -> MilestoneRow:
    id_, title, status, percent, due, baseline, line_title, report_number, rec_number, office_code = row
    return MilestoneRow(
        id_,
        title,
        status,
        percent,
        due,
        baseline,
        line_title,
        recommendation_label(report_number, rec_number),
        office_code,
    )
