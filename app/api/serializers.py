"""Our records as the API's JSON objects (described by the schemas in openapi.py)."""

from datetime import date, datetime


def _d(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None


def _money(value) -> str | None:
    return str(value) if value is not None else None


def report_json(report) -> dict:
    return {
        "id": report.id,
        "number": report.number,
        "title": report.title,
        "issued_on": _d(report.issued_on),
        "oig_office": report.oig_office,
        "agency": report.agency,
        "summary": report.summary,
    }


def recommendation_json(rec) -> dict:
    return {
        "id": rec.id,
        "report_id": rec.report_id,
        "report_number": rec.report.number,
        "number": rec.number,
        "text": rec.text,
        "status": rec.status,
        "concurrence": rec.concurrence,
        "action_office": rec.action_office.code,
        "responsible_official": rec.responsible_official,
        "priority": rec.priority,
        "issued_on": _d(rec.issued_on),
        "target_completion_on": _d(rec.target_completion_on),
        "management_decision_on": _d(rec.management_decision_on),
        "final_action_on": _d(rec.final_action_on),
        "questioned_costs": _money(rec.questioned_costs),
        "funds_put_to_better_use": _money(rec.funds_put_to_better_use),
    }


def milestone_json(m, on: date) -> dict:
    return {
        "id": m.id,
        "recommendation_id": m.line_of_effort.recommendation_id,
        "line_of_effort": m.line_of_effort.title,
        "title": m.title,
        "description": m.description,
        "office": m.office.code,
        "owner": m.owner.email if m.owner else None,
        "start_on": _d(m.start_on),
        "baseline_due_on": _d(m.baseline_due_on),
        "current_due_on": _d(m.current_due_on),
        "status": m.status,
        "percent_complete": m.percent_complete,
        "completed_on": _d(m.completed_on),
        "overdue": m.is_overdue(on),
        "at_risk": m.is_at_risk(on),
        "version": m.version,
    }


def audit_event_json(e) -> dict:
    return {
        "id": e.id,
        "occurred_at": _d(e.occurred_at),
        "actor": e.actor.email if e.actor else None,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "recommendation_id": e.recommendation_id,
        "before": e.before_data,
        "after": e.after_data,
    }


def evidence_json(item) -> dict:
    """Metadata only: the file's bytes are never part of the API."""
    return {
        "id": item.id,
        "title": item.title,
        "description": item.description,
        "milestone_id": item.milestone_id,
        "recommendation_id": item.recommendation_id,
        "review_status": item.review_status,
        "withdrawn": item.is_withdrawn,
        "versions": [
            {
                "number": v.number,
                "original_filename": v.original_filename,
                "content_type": v.content_type,
                "size_bytes": v.size_bytes,
                "sha256": v.sha256,
                "uploaded_at": _d(v.uploaded_at),
            }
            for v in item.versions
        ],
    }


def metric_json(m) -> dict:
    return {
        "id": m.id,
        "recommendation_id": m.line_of_effort.recommendation_id,
        "line_of_effort": m.line_of_effort.title,
        "name": m.name,
        "description": m.description,
        "kind": m.kind,
        "unit": m.unit,
        "direction": m.direction,
        "baseline_value": _money(m.baseline_value),
        "baseline_period": m.baseline_period,
        "target_value": _money(m.target_value),
        "target_on": _d(m.target_on),
        "frequency": m.frequency,
        "components": m.component_list,
        "data_source": m.data_source,
        "collect_from": _d(m.collect_from),
    }


def reading_json(r) -> dict:
    return {
        "id": r.id,
        "metric_id": r.metric_id,
        "period": r.period,
        "period_end": _d(r.period_end),
        "component": r.component,
        "value": _money(r.value),
        "numerator": _money(r.numerator),
        "denominator": _money(r.denominator),
        "note": r.note,
        "entered_at": _d(r.entered_at),
        "version": r.version,
        "history": [
            {
                "value": _money(h.value),
                "numerator": _money(h.numerator),
                "denominator": _money(h.denominator),
                "note": h.note,
                "entered_at": _d(h.entered_at),
                "replaced_at": _d(h.replaced_at),
            }
            for h in r.history
        ],
    }
