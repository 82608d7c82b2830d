"""Filters read from a query string, the same for the export lists and the API.

An unknown or malformed value is ignored, or matches nothing; never a 500.
"""

from datetime import date

import sqlalchemy as sa

from app.audit import AuditEvent
from app.dashboard import filters
from app.dashboard.filters import ListFilter
from app.dbtypes import MAX_ID
from app.metrics.models import Metric, Reading
from app.milestones.models import MILESTONE_STATUSES, OPEN_MILESTONE_STATUSES, Milestone
from app.offices.models import Office
from app.recommendations.models import LineOfEffort
from app.search.services import recommendation_text_match
from app.timeutil import today


def parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def parse_int(value: str | None) -> int | None:
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    return number if number is None or abs(number) <= MAX_ID else -1


def recommendation_filters(args, on: date | None = None, *, every_office: bool = True) -> tuple[list, dict]:
    """WHERE clauses from the query string, and the values they are bound with: the dashboard
    list's filters (office code, status or "open", age, priority, report number, issuing OIG:
    app/dashboard/filters.py) and q (words)."""
    chosen = ListFilter.from_args(args, every_office=every_office)
    clauses = filters.conditions(chosen.shape)
    if args.get("q"):
        clauses.append(recommendation_text_match(args["q"]))
    return clauses, chosen.values(on or today())


def milestone_filters(args, on: date) -> list:
    """status, recommendation (id), office (code), overdue=1, due_from, due_to."""
    clauses = []
    if args.get("status") in MILESTONE_STATUSES:
        clauses.append(Milestone.status == args["status"])
    if (rec_id := parse_int(args.get("recommendation"))) is not None:
        clauses.append(LineOfEffort.recommendation_id == rec_id)
    if args.get("office"):
        clauses.append(Milestone.office_id.in_(sa.select(Office.id).where(Office.code == args["office"])))
    if args.get("overdue") == "1":
        clauses.append(sa.and_(Milestone.status.in_(OPEN_MILESTONE_STATUSES), Milestone.current_due_on < on))
    if due_from := parse_date(args.get("due_from")):
        clauses.append(Milestone.current_due_on >= due_from)
    if due_to := parse_date(args.get("due_to")):
        clauses.append(Milestone.current_due_on <= due_to)
    return clauses


def audit_filters(args) -> list:
    """action (prefix, e.g. "milestone."), recommendation (id), since, until (dates, inclusive)."""
    clauses = []
    if args.get("action"):
        clauses.append(AuditEvent.action.startswith(args["action"], autoescape=True))
    if (rec_id := parse_int(args.get("recommendation"))) is not None:
        clauses.append(AuditEvent.recommendation_id == rec_id)
    if since := parse_date(args.get("since")):
        clauses.append(sa.func.date(AuditEvent.occurred_at) >= since)
    if until := parse_date(args.get("until")):
        clauses.append(sa.func.date(AuditEvent.occurred_at) <= until)
    return clauses


def reading_filters(args) -> list:
    """recommendation (id), metric (id), component."""
    clauses = []
    if (rec_id := parse_int(args.get("recommendation"))) is not None:
        clauses.append(LineOfEffort.recommendation_id == rec_id)
    if (metric_id := parse_int(args.get("metric"))) is not None:
        clauses.append(Metric.id == metric_id)
    if args.get("component"):
        clauses.append(Reading.component == args["component"])
    return clauses
