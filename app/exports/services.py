"""Record lists for export, filtered as the pages filter them and limited to what the user may read.

Each ``*_export`` returns (columns, rows); the routes turn them into CSV or XLSX.
Filters arrive as the page's query string; an unknown value is ignored, never a 500.
"""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from app.audit import AuditEvent
from app.dashboard import filters
from app.exports.tables import issued_cell
from app.extensions import db
from app.milestones.models import Milestone
from app.metrics.models import Metric, Reading
from app.metrics.flags import is_off_target
from app.querystring import audit_filters, milestone_filters, reading_filters, recommendation_filters
from app.permissions import reads_every_office, visible_audit_events, visible_recommendations
from app.recommendations.models import LineOfEffort, Recommendation
from app.reports.models import Report

#: Exports are meant to be complete, but a runaway query must not take the server down.
MAX_ROWS = 50_000


def recommendations_query(user, args, on: date | None = None):
    """What the dashboard lists for these filters, in its order when ``sort`` is given (an
    export "as shown"), else report by report."""
    clauses, values = recommendation_filters(args, on, every_office=reads_every_office(user))
    query = (
        sa.select(Recommendation)
        .join(Recommendation.report)
        .join(Recommendation.action_office)
        .where(visible_recommendations(user, Recommendation), *clauses)
        .options(contains_eager(Recommendation.report), contains_eager(Recommendation.action_office))
    )
    if args.get("sort") in filters.SORTS:
        query = query.order_by(*filters.order_by(args["sort"]))
    else:
        query = query.order_by(Report.issued_on, Report.number, Recommendation.number)
    return query.params(values)


RECOMMENDATION_COLUMNS = (
    "Report",
    "Report title",
    "Issued",
    "Recommendation",
    "Text",
    "Status",
    "Concurrence",
    "Action office",
    "Responsible official",
    "Target completion",
    "Management decision",
    "Final action",
    "Priority",
    "Questioned costs",
    "Funds put to better use",
)


def recommendations_export(user, args):
    recs = db.session.scalars(recommendations_query(user, args).limit(MAX_ROWS)).unique().all()
    rows = [
        (
            r.report.number,
            r.report.title,
            issued_cell(r.report, r.issued_on),
            r.number,
            r.text,
            r.status,
            r.concurrence or "",
            r.action_office.code,
            r.responsible_official,
            r.target_completion_on,
            r.management_decision_on,
            r.final_action_on,
            "yes" if r.priority else "no",
            r.questioned_costs,
            r.funds_put_to_better_use,
        )
        for r in recs
    ]
    return RECOMMENDATION_COLUMNS, rows


def milestones_query(user, args, on: date):
    return (
        sa.select(Milestone)
        .join(Milestone.line_of_effort)
        .join(LineOfEffort.recommendation)
        .join(Recommendation.report)
        .where(visible_recommendations(user, Recommendation), *milestone_filters(args, on))
        .options(
            contains_eager(Milestone.line_of_effort)
            .contains_eager(LineOfEffort.recommendation)
            .contains_eager(Recommendation.report),
            joinedload(Milestone.owner),
            joinedload(Milestone.office),
        )
        .order_by(Milestone.current_due_on, Milestone.id)
    )


MILESTONE_COLUMNS = (
    "Report",
    "Recommendation",
    "Line of effort",
    "Milestone",
    "Owner",
    "Responsible office",
    "Start",
    "Baseline due",
    "Current due",
    "Slip (days)",
    "Status",
    "% complete",
    "Completed",
    "Overdue",
)


def milestones_export(user, args, on: date):
    milestones = db.session.scalars(milestones_query(user, args, on).limit(MAX_ROWS)).unique().all()
    rows = []
    for m in milestones:
        rec = m.line_of_effort.recommendation
        rows.append(
            (
                rec.report.number,
                rec.number,
                m.line_of_effort.title,
                m.title,
                m.owner.name if m.owner else "",
                m.office.code,
                m.start_on,
                m.baseline_due_on,
                m.current_due_on,
                m.slip_days(),
                m.status,
                m.percent_complete,
                m.completed_on,
                "yes" if m.is_overdue(on) else "no",
            )
        )
    return MILESTONE_COLUMNS, rows


def audit_query(user, args):
    return (
        sa.select(AuditEvent)
        .where(visible_audit_events(user, AuditEvent, Recommendation), *audit_filters(args))
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.id)
    )


AUDIT_COLUMNS = (
    "Event",
    "When (UTC)",
    "Actor",
    "Action",
    "Object",
    "Object id",
    "Recommendation id",
    "Before",
    "After",
    "IP",
    "Hash",
)


def audit_export(user, args):
    events = db.session.scalars(audit_query(user, args).limit(MAX_ROWS)).all()
    rows = [
        (
            e.id,
            e.occurred_at,
            e.actor.email if e.actor else "system",
            e.action,
            e.object_type,
            e.object_id,
            e.recommendation_id,
            e.before,
            e.after,
            e.ip,
            e.hash,
        )
        for e in events
    ]
    return AUDIT_COLUMNS, rows


READING_COLUMNS = (
    "Recommendation",
    "Metric",
    "Component",
    "Period",
    "Value",
    "Target",
    "Unit",
    "Direction",
    "Off target",
    "Note",
    "Entered (UTC)",
    # What the readings import needs to correct a reading from this file (app/metrics/reading_rules.py).
    "Version",
)


def metric_readings_export(user, args):
    """Metric readings the user may read, filtered as ``reading_filters`` says."""
    query = (
        sa.select(Reading, Metric, Recommendation)
        .join(Metric, Reading.metric_id == Metric.id)
        .join(LineOfEffort, Metric.line_of_effort_id == LineOfEffort.id)
        .join(Recommendation, LineOfEffort.recommendation_id == Recommendation.id)
        .where(visible_recommendations(user, Recommendation), *reading_filters(args))
        .order_by(Recommendation.id, Metric.id, Reading.period_end, Reading.component, Reading.id)
    )
    rows = [
        (
            rec.label,
            metric.name,
            reading.component,
            reading.period,
            reading.value,
            metric.target_value,
            metric.unit,
            metric.direction,
            "yes" if is_off_target(reading.value, metric.target_value, metric.direction) else "no",
            reading.note,
            reading.entered_at,
            reading.version,
        )
        for reading, metric, rec in db.session.execute(query.limit(MAX_ROWS))
    ]
    return READING_COLUMNS, rows


EXPORTS = {
    "recommendations": ("Recommendations", lambda user, args, on: recommendations_export(user, args)),
    "milestones": ("Milestones", milestones_export),
    "metric-readings": ("Metric readings", lambda user, args, on: metric_readings_export(user, args)),
    "audit-trail": ("Audit trail", lambda user, args, on: audit_export(user, args)),
}
