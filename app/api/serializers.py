"""Our records as the API's JSON objects (described by the schemas in openapi.py)."""
from datetime import date, datetime


def _d(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None


def _money(value) -> str | None:
    return str(value) if value is not None else None


def report_json(report) -> dict:
    return {"id": report.id, "number": report.number, "title": report.title, "issued_on": _d(report.issued_on),
            "oig_office": report.oig_office, "agency": report.agency, "summary": report.summary}


def recommendation_json(rec) -> dict:
    return {"id": rec.id, "report_id": rec.report_id, "report_number": rec.report.number, "number": rec.number,
            "text": rec.text, "status": rec.status, "concurrence": rec.concurrence,
            "action_office": rec.action_office.code, "responsible_official": rec.responsible_official,
            "priority": rec.priority, "issued_on": _d(rec.issued_on),
            "target_completion_on": _d(rec.target_completion_on),
            "management_decision_on": _d(rec.management_decision_on), "final_action_on": _d(rec.final_action_on),
            "questioned_costs": _money(rec.questioned_costs),
            "funds_put_to_better_use": _money(rec.funds_put_to_better_use)}


def milestone_json(m, on: date) -> dict:
    return {"id": m.id, "recommendation_id": m.line_of_effort.recommendation_id,
            "line_of_effort": m.line_of_effort.title, "title": m.title, "description": m.description,
            "office": m.office.code, "owner": m.owner.email if m.owner else None, "start_on": _d(m.start_on),
            "baseline_due_on": _d(m.baseline_due_on), "current_due_on": _d(m.current_due_on),
            "status": m.status, "percent_complete": m.percent_complete, "completed_on": _d(m.completed_on),
            "overdue": m.is_overdue(on), "at_risk": m.is_at_risk(on), "version": m.version}


def audit_event_json(e) -> dict:
    return {"id": e.id, "occurred_at": _d(e.occurred_at), "actor": e.actor.email if e.actor else None,
            "action": e.action, "object_type": e.object_type, "object_id": e.object_id,
            "recommendation_id": e.recommendation_id, "before": e.before_data, "after": e.after_data}
