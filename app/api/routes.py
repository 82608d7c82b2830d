"""/api/v1: JSON over the same records and the same permission rules as the pages.

Reads need a token with the read scope, writes one with the write scope; the object
rules are app.permissions', applied to the token's user.
"""

import sqlalchemy as sa
from flask import abort, jsonify, request
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from werkzeug.exceptions import HTTPException

from app.api import bp
from app.api.auth import api_user
from app.api.openapi import openapi_document
from app.api.serializers import (
    audit_event_json,
    evidence_json,
    metric_json,
    milestone_json,
    reading_json,
    recommendation_json,
    report_json,
)
from app.audit import AuditEvent
from app.dbtypes import MAX_ID
from app.errors import render_error
from app.evidence.models import EvidenceItem
from app.extensions import db
from app.inputs import json_body
from app.metrics.models import Metric, Reading
from app.metrics.periods import parse_period
from app.metrics.services import ReadingTaken, save_reading, sync_flags
from app.metrics.values import parse_value
from app.metrics.reading_rules import reading_period_problem, reading_version_problem, stored_readings
from app.milestones import services as milestone_services
from app.milestones.models import MILESTONE_STATUSES, Milestone
from app.querystring import audit_filters, milestone_filters, recommendation_filters
from app.permissions import (
    can_edit_metrics,
    can_edit_plan,
    can_view_recommendation,
    token_scope,
    visible_audit_events,
    visible_recommendations,
)
from app.recommendations.models import LineOfEffort, Recommendation
from app.reports.models import Report
from app.timeutil import today

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100


def api_error(error: HTTPException):
    """Errors as JSON with the view's own message (the site-wide pages' handlers say less)."""
    response, code = render_error(error.code or 500, error.description)
    for name, value in error.get_headers():
        if name.lower() == "www-authenticate":
            response.headers[name] = value
    return response, code


# Registered per code: Flask prefers an app handler for a code over a blueprint's for a class.
for _code in (400, 401, 403, 404, 405, 409, 413):
    bp.register_error_handler(_code, api_error)


@bp.after_request
def commit_token_use(response):
    if response.status_code < 400:
        db.session.commit()  # the token's last_used_at
    return response


def _positive_int(name: str, default: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, f"`{name}` must be a whole number.")
    maximum = maximum or MAX_ID
    if value < 1 or value > maximum:
        abort(400, f"`{name}` must be between 1 and {maximum}.")
    return value


def paginate(query, to_json):
    page = _positive_int("page", 1)
    per_page = _positive_int("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return jsonify(
        {
            "items": [to_json(r) for r in rows],
            "page": page,
            "per_page": per_page,
            "total": total,
            "pages": -(-(total or 0) // per_page),
        }
    )


# --- reports -------------------------------------------------------------------------


def _visible_or_404(query: sa.Select, noun: str):
    """The one row of ``query`` (which keeps only what the token's user may read), or 404: another
    office's record is as absent as a missing one, its existence is not disclosed."""
    found = db.session.scalar(query)
    if found is None:
        abort(404, f"No such {noun}, or not one you may read.")
    return found


def _visible_report_ids(user):
    return sa.select(Recommendation.report_id).where(visible_recommendations(user, Recommendation))


@bp.route("/reports")
@token_scope("read")
def list_reports():
    query = (
        sa.select(Report)
        .where(Report.id.in_(_visible_report_ids(api_user())))
        .order_by(Report.issued_on.desc(), Report.id)
    )
    return paginate(query, report_json)


@bp.route(f"/reports/<int(max={MAX_ID}):report_id>")
@token_scope("read")
def get_report(report_id: int):
    query = sa.select(Report).where(Report.id == report_id, Report.id.in_(_visible_report_ids(api_user())))
    return jsonify(report_json(_visible_or_404(query, "report")))


# --- recommendations -------------------------------------------------------------------


@bp.route("/recommendations")
@token_scope("read")
def list_recommendations():
    clauses, values = recommendation_filters(request.args)
    query = (
        sa.select(Recommendation)
        .join(Recommendation.report)
        .where(visible_recommendations(api_user(), Recommendation), *clauses)
        .options(contains_eager(Recommendation.report))
        .order_by(Recommendation.id)
        .params(values)
    )
    return paginate(query, recommendation_json)


def _recommendation_or_404(recommendation_id: int) -> Recommendation:
    rec = db.session.get(Recommendation, recommendation_id)
    if rec is None or not can_view_recommendation(api_user(), rec):
        # Another office's record is as absent as a missing one: its existence is not disclosed.
        abort(404, "No such recommendation, or not one you may read.")
    return rec


@bp.route(f"/recommendations/<int(max={MAX_ID}):recommendation_id>")
@token_scope("read")
def get_recommendation(recommendation_id: int):
    return jsonify(recommendation_json(_recommendation_or_404(recommendation_id)))


# --- milestones ------------------------------------------------------------------------


def _on_visible_lines(model: type[Milestone] | type[Metric]) -> sa.Select:
    """Milestones or metrics, with their line of effort and recommendation, of the
    recommendations the token's user may read."""
    return (
        sa.select(model)
        .join(model.line_of_effort)
        .join(LineOfEffort.recommendation)
        .where(visible_recommendations(api_user(), Recommendation))
        .options(contains_eager(model.line_of_effort).contains_eager(LineOfEffort.recommendation))
    )


def _milestone_query():
    return _on_visible_lines(Milestone).options(joinedload(Milestone.owner), joinedload(Milestone.office))


@bp.route("/milestones")
@token_scope("read")
def list_milestones():
    on = today()
    query = _milestone_query().where(*milestone_filters(request.args, on)).order_by(Milestone.id)
    return paginate(query, lambda m: milestone_json(m, on))


def _milestone_or_404(milestone_id: int) -> Milestone:
    return _visible_or_404(_milestone_query().where(Milestone.id == milestone_id), "milestone")


@bp.route(f"/milestones/<int(max={MAX_ID}):milestone_id>")
@token_scope("read")
def get_milestone(milestone_id: int):
    return jsonify(milestone_json(_milestone_or_404(milestone_id), today()))


UPDATABLE = {"status", "percent_complete", "version"}


def _validated_update(data) -> dict:
    if not isinstance(data, dict):
        abort(400, "The body must be a JSON object.")
    unknown = set(data) - UPDATABLE
    if unknown:
        abort(400, f"Unknown field(s): {', '.join(sorted(unknown))}. Allowed: status, percent_complete, version.")
    if not set(data) & {"status", "percent_complete"}:
        abort(400, "Give `status`, `percent_complete` or both.")
    if "status" in data and data["status"] not in MILESTONE_STATUSES:
        abort(400, f"`status` must be one of {', '.join(MILESTONE_STATUSES)}.")
    for key in ("percent_complete", "version"):
        if key in data and (type(data[key]) is not int or abs(data[key]) > MAX_ID):
            abort(400, f"`{key}` must be a whole number.")
    if "percent_complete" in data and not 0 <= data["percent_complete"] <= 100:
        abort(400, "`percent_complete` must be between 0 and 100.")
    return data


@bp.route(f"/milestones/<int(max={MAX_ID}):milestone_id>", methods=["PATCH"])
@token_scope("write")
def update_milestone(milestone_id: int):
    milestone = _milestone_or_404(milestone_id)
    rec = milestone.line_of_effort.recommendation
    if not can_edit_plan(api_user(), rec):
        abort(
            403,
            "Only the action office responsible for this recommendation may update its milestones, "
            "and only while it is open.",
        )
    data = _validated_update(json_body())
    if "version" in data and data["version"] != milestone.version:
        abort(409, "The milestone changed since you read it (version differs). Read it again, then retry.")
    # The same services as the milestone page's forms: their rules (a closed milestone takes no
    # update, open dependencies block completion: 409) and their audit events hold here too.
    user, note = api_user(), "Updated through the API."
    status = data.get("status", milestone.status)
    if status == "completed":
        milestone_services.complete(milestone, completed_on=today(), note=note, actor=user)
    elif status == "cancelled":
        milestone_services.cancel(milestone, note=note, actor=user)
    else:
        percent = data.get(
            "percent_complete", 0 if status == "not_started" and "status" in data else milestone.percent_complete
        )
        milestone_services.post_update(
            milestone, noted_on=today(), note=note, status=status, percent=percent, actor=user
        )
    db.session.commit()
    return jsonify(milestone_json(milestone, today()))


# --- evidence (metadata only) --------------------------------------------------------------


def _recommendation_filter(column):
    rec_id = request.args.get("recommendation")
    if rec_id is None:
        return sa.true()
    if not rec_id.isdigit() or not 1 <= int(rec_id) <= MAX_ID:
        abort(400, "`recommendation` must be a recommendation id.")
    return column == int(rec_id)


def _evidence_query():
    return (
        sa.select(EvidenceItem)
        .join(EvidenceItem.recommendation)
        .where(visible_recommendations(api_user(), Recommendation))
        .options(selectinload(EvidenceItem.versions))
    )


@bp.route("/evidence")
@token_scope("read")
def list_evidence():
    query = _evidence_query().where(_recommendation_filter(EvidenceItem.recommendation_id)).order_by(EvidenceItem.id)
    return paginate(query, evidence_json)


@bp.route(f"/evidence/<int(max={MAX_ID}):evidence_id>")
@token_scope("read")
def get_evidence(evidence_id: int):
    return jsonify(evidence_json(_visible_or_404(_evidence_query().where(EvidenceItem.id == evidence_id), "evidence")))


# --- metrics and readings -----------------------------------------------------------------


def _metric_or_404(metric_id: int) -> Metric:
    return _visible_or_404(_on_visible_lines(Metric).where(Metric.id == metric_id), "metric")


@bp.route("/metrics")
@token_scope("read")
def list_metrics():
    query = _on_visible_lines(Metric).where(_recommendation_filter(LineOfEffort.recommendation_id)).order_by(Metric.id)
    return paginate(query, metric_json)


@bp.route(f"/metrics/<int(max={MAX_ID}):metric_id>")
@token_scope("read")
def get_metric(metric_id: int):
    return jsonify(metric_json(_metric_or_404(metric_id)))


@bp.route(f"/metrics/<int(max={MAX_ID}):metric_id>/readings")
@token_scope("read")
def list_readings(metric_id: int):
    metric = _metric_or_404(metric_id)
    query = (
        sa.select(Reading)
        .where(Reading.metric_id == metric.id)
        .options(selectinload(Reading.history))
        .order_by(Reading.period_end, Reading.component, Reading.id)
    )
    return paginate(query, reading_json)


READING_FIELDS = {"period", "component", "value", "note", "version"}


def _text(data: dict, key: str, max_length: int, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if key == "value" and type(value) in (int, float):
        value = str(value)
    if not isinstance(value, str) or (required and not value.strip()):
        abort(400, f"`{key}` must be a non-empty string.")
    if len(value) > max_length or "\x00" in value:
        abort(400, f"`{key}` must be at most {max_length} characters, without NUL.")
    return value


@bp.route(f"/metrics/<int(max={MAX_ID}):metric_id>/readings", methods=["POST"])
@token_scope("write")
def save_metric_reading(metric_id: int):
    """Record a reading, or correct the one for the same period and component (its history is kept)."""
    metric = _metric_or_404(metric_id)
    user = api_user()
    if not can_edit_metrics(user, metric.line_of_effort.recommendation):
        abort(
            403,
            "Only the action office responsible for this recommendation may enter readings, and only while it is open.",
        )
    data = json_body(multiline=frozenset({"note"}))
    if not isinstance(data, dict):
        abort(400, "The body must be a JSON object.")
    unknown = set(data) - READING_FIELDS
    if unknown:
        abort(400, f"Unknown field(s): {', '.join(sorted(unknown))}. Allowed: period, component, value, note, version.")
    version = data.get("version")
    if version is not None and (type(version) is not int or not 0 < version <= MAX_ID):
        abort(400, "`version` must be a whole number.")
    period_text, component = _text(data, "period", 20), _text(data, "component", 60)
    value_text, note = _text(data, "value", 80), _text(data, "note", 2000, required=False).strip()
    if component not in metric.component_list:
        abort(400, f"`component` must be one of {', '.join(metric.component_list)}.")
    try:
        period = parse_period(metric.frequency, period_text)
        parsed = parse_value(metric.kind, value_text)
    except ValueError as error:
        message = str(error)
        abort(400, message[:1].upper() + message[1:] + ".")
    # The form's rules, through the same functions (app/metrics/reading_rules.py).
    problem = reading_period_problem(metric, period, today())
    if problem:
        abort(400, f"`period`: {problem}")
    stored = stored_readings({metric.id}).get((metric.id, period, component))
    problem = reading_version_problem(stored, version, parsed, note)
    if problem:
        abort(409, problem[:1].upper() + problem[1:] + ".")
    try:
        reading, outcome = save_reading(metric, period, component, parsed, note, user)
    except ReadingTaken as taken:
        abort(409, taken.problem[:1].upper() + taken.problem[1:] + ".")
    sync_flags(metric, today(), actor=user)
    db.session.commit()
    db.session.refresh(reading, ["history"])
    return jsonify({**reading_json(reading), "outcome": outcome}), 201 if outcome == "created" else 200


# --- audit trail ------------------------------------------------------------------------


@bp.route("/audit-events")
@token_scope("read")
def list_audit_events():
    query = (
        sa.select(AuditEvent)
        .where(visible_audit_events(api_user(), AuditEvent, Recommendation), *audit_filters(request.args))
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.id)
    )
    return paginate(query, audit_event_json)


@bp.route("/openapi.json")
@token_scope("read")
def openapi():
    return jsonify(openapi_document())
