"""The tables of the Inspector General's semiannual report to Congress, for one period.

Periods end March 31 and September 30 (shared/DOMAIN.md). ``qualifies_*`` are the pure
rules, tested on both sides of every boundary date; ``semiannual_tables()`` applies
them to the recommendations a user may read.

- unresolved: still without a management decision at the period end, more than
  6 months after issue (OMB Circular A-50);
- open: issued by the period end and without final action at it;
- over one year (GAO-IG Act, 2019): open at the period end and issued at least one year
  before it, with the office's explanation and timeline.

A recommendation's state at a past period end is read from its dates: management
decision date, final action date, and for one closed without implementation the day it
was closed (``closed_on``): it stays listed in the periods it was open in.

The IG Act section 5 money tables are built in app/exports/section5.py.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from app.exports.section5 import MoneyTable, section5_tables
from app.exports.tables import issued_cell
from app.extensions import db
from app.milestones.models import OPEN_MILESTONE_STATUSES, Milestone
from app.permissions import visible_recommendations
from app.recommendations.clocks import RESOLUTION_MONTHS, add_months, previous_semiannual_period_end
from app.recommendations.models import LineOfEffort, Recommendation
from app.reports.models import Report
from app.submissions.models import Submission
from flask import render_template
from app.exports.plan import pdf_from_html

#: The GAO-IG Act lists recommendations open at least this long.
GAO_IG_MONTHS = 12


def is_period_end(day: date) -> bool:
    return (day.month, day.day) in ((3, 31), (9, 30))


def latest_period_end(on: date) -> date:
    """The most recent period end on or before ``on``."""
    return on if is_period_end(on) else previous_semiannual_period_end(on)


def recent_period_ends(on: date, count: int = 6) -> list[date]:
    ends = [latest_period_end(on)]
    while len(ends) < count:
        ends.append(previous_semiannual_period_end(ends[-1]))
    return ends


def _open_at(rec, period_end: date) -> bool:
    if rec.issued_on > period_end:
        return False
    if rec.status == "closed_not_implemented":
        # Open until the day it was closed; without that day (none recorded), never listed.
        return rec.closed_on is not None and rec.closed_on > period_end
    return rec.final_action_on is None or rec.final_action_on > period_end


def qualifies_unresolved(rec, period_end: date) -> bool:
    """No management decision by the period end, and more than 6 months after issue at it."""
    if not _open_at(rec, period_end):
        return False
    decided = rec.management_decision_on is not None and rec.management_decision_on <= period_end
    return not decided and add_months(rec.issued_on, RESOLUTION_MONTHS) < period_end


def qualifies_open(rec, period_end: date) -> bool:
    """Issued by the period end and without final action at it."""
    return _open_at(rec, period_end)


def qualifies_over_one_year(rec, period_end: date) -> bool:
    """Open at the period end, and issued at least one year before it."""
    return _open_at(rec, period_end) and add_months(rec.issued_on, GAO_IG_MONTHS) <= period_end


def explanations(recommendation_ids: list[int]) -> dict[int, str]:
    """The office's latest explanation per recommendation.

    That is the narrative of the latest status update (or plan) sent to OIG; where none was
    sent, the table shows the management response.
    """
    if not recommendation_ids:
        return {}
    latest: dict[int, str] = {}
    for rec_id, narrative in db.session.execute(
        sa.select(Submission.recommendation_id, Submission.narrative)
        .where(Submission.recommendation_id.in_(recommendation_ids), Submission.kind.in_(("plan", "status_update")))
        .order_by(Submission.submitted_at, Submission.id)
    ):
        if narrative.strip():
            latest[rec_id] = narrative
    return latest


@dataclass
class SemiannualRow:
    recommendation: Recommendation
    explanation: str
    next_milestone: Milestone | None

    @property
    def timeline(self) -> str:
        parts = []
        if self.recommendation.target_completion_on:
            parts.append(f"target completion {self.recommendation.target_completion_on.isoformat()}")
        if self.next_milestone:
            parts.append(
                f"next milestone due {self.next_milestone.current_due_on.isoformat()}: {self.next_milestone.title}"
            )
        return "; ".join(parts) or "no timeline given"


@dataclass
class SemiannualTables:
    period_end: date
    unresolved: list[SemiannualRow]
    open: list[SemiannualRow]
    over_one_year: list[SemiannualRow]
    #: The IG Act section 5 tables: questioned costs, funds put to better use.
    questioned: MoneyTable
    better_use: MoneyTable

    @property
    def period_start(self) -> date:
        return period_start(self.period_end)

    @property
    def money(self) -> tuple[MoneyTable, MoneyTable]:
        return self.questioned, self.better_use


def period_start(period_end: date) -> date:
    return date.fromordinal(previous_semiannual_period_end(period_end).toordinal() + 1)


def semiannual_tables(user, period_end: date) -> SemiannualTables:
    if not is_period_end(period_end):
        raise ValueError("a semiannual period ends on March 31 or September 30")
    recs = (
        db.session.scalars(
            sa.select(Recommendation)
            .join(Recommendation.report)
            .where(visible_recommendations(user, Recommendation), Recommendation.issued_on <= period_end)
            .options(contains_eager(Recommendation.report))
            .order_by(Recommendation.issued_on, Report.number, Recommendation.number)
        )
        .unique()
        .all()
    )
    recs = [r for r in recs if qualifies_open(r, period_end)]
    ids = [r.id for r in recs]
    notes = explanations(ids)
    next_due = _next_milestones(ids)
    rows = {r.id: SemiannualRow(r, notes.get(r.id) or r.concurrence_response, next_due.get(r.id)) for r in recs}
    questioned, better_use = section5_tables(user, period_start(period_end), period_end)
    return SemiannualTables(
        questioned=questioned,
        better_use=better_use,
        period_end=period_end,
        unresolved=[rows[r.id] for r in recs if qualifies_unresolved(r, period_end)],
        open=[rows[r.id] for r in recs],
        over_one_year=[rows[r.id] for r in recs if qualifies_over_one_year(r, period_end)],
    )


def _next_milestones(recommendation_ids: list[int]) -> dict[int, Milestone]:
    if not recommendation_ids:
        return {}
    rows = db.session.execute(
        sa.select(LineOfEffort.recommendation_id, Milestone)
        .join(Milestone.line_of_effort)
        .where(LineOfEffort.recommendation_id.in_(recommendation_ids), Milestone.status.in_(OPEN_MILESTONE_STATUSES))
        .order_by(Milestone.current_due_on, Milestone.id)
    ).all()
    result: dict[int, Milestone] = {}
    for rec_id, milestone in rows:
        result.setdefault(rec_id, milestone)
    return result


TABLES = (
    ("unresolved", "Unresolved more than 6 months after issue"),
    ("open", "Open recommendations without final action"),
    ("over_one_year", "Open at least one year (GAO-IG Act)"),
)
COLUMNS = (
    "Report",
    "Report title",
    "Issued",
    "Recommendation",
    "Action office",
    "Status",
    "Management decision",
    "Questioned costs",
    "Funds put to better use",
    "Explanation",
    "Timeline",
)


def table_rows(rows: list[SemiannualRow]):
    for row in rows:
        rec = row.recommendation
        yield (
            rec.report.number,
            rec.report.title,
            issued_cell(rec.report, rec.issued_on),
            rec.number,
            rec.action_office.name,
            rec.status_label,
            rec.management_decision_on,
            rec.questioned_costs,
            rec.funds_put_to_better_use,
            row.explanation,
            row.timeline,
        )


def semiannual_pdf(tables: SemiannualTables, generated_on: date) -> bytes:
    """The period's tables on paper, through the same WeasyPrint setup as the plan."""
    html = render_template(
        "exports/semiannual_document.html", tables=tables, table_keys=TABLES, generated_on=generated_on
    )
    return pdf_from_html(html)
