"""The OpenAPI 3 description of /api/v1 (tests check it against the routes and fuzz the API with it)."""

from app.dbtypes import MAX_ID
from app.evidence.models import REVIEW_STATUSES
from app.metrics.models import DIRECTIONS, FREQUENCIES, METRIC_KINDS
from app.metrics.services import READING_OUTCOMES
from app.milestones.models import MILESTONE_STATUSES
from app.recommendations.models import CONCURRENCES, STATUSES


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _date(nullable: bool = False) -> dict:
    return {"type": "string", "format": "date", "nullable": nullable}


def _string(nullable: bool = False) -> dict:
    return {"type": "string", "nullable": nullable}


def _page_of(item: str) -> dict:
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total", "pages"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "total": {"type": "integer", "minimum": 0},
            "pages": {"type": "integer", "minimum": 0},
        },
    }


def _obj(required_all: dict) -> dict:
    return {"type": "object", "required": sorted(required_all), "properties": required_all}


SCHEMAS = {
    "Error": _obj({"error": _string(), "message": _string(), "status": {"type": "integer"}}),
    "Report": _obj(
        {
            "id": {"type": "integer"},
            "number": _string(),
            "title": _string(),
            "issued_on": _date(),
            "oig_office": _string(),
            "agency": _string(),
            "summary": _string(),
        }
    ),
    "Recommendation": _obj(
        {
            "id": {"type": "integer"},
            "report_id": {"type": "integer"},
            "report_number": _string(),
            "number": _string(),
            "text": _string(),
            "status": {"type": "string", "enum": list(STATUSES)},
            "concurrence": {"type": "string", "enum": [*CONCURRENCES, None], "nullable": True},
            "action_office": _string(),
            "responsible_official": _string(),
            "priority": {"type": "boolean"},
            "issued_on": _date(),
            "target_completion_on": _date(True),
            "management_decision_on": _date(True),
            "final_action_on": _date(True),
            "questioned_costs": _string(True),
            "funds_put_to_better_use": _string(True),
        }
    ),
    "Milestone": _obj(
        {
            "id": {"type": "integer"},
            "recommendation_id": {"type": "integer"},
            "line_of_effort": _string(),
            "title": _string(),
            "description": _string(),
            "office": _string(),
            "owner": _string(True),
            "start_on": _date(True),
            "baseline_due_on": _date(),
            "current_due_on": _date(),
            "status": {"type": "string", "enum": list(MILESTONE_STATUSES)},
            "percent_complete": {"type": "integer", "minimum": 0, "maximum": 100},
            "completed_on": _date(True),
            "overdue": {"type": "boolean"},
            "at_risk": {"type": "boolean"},
            "version": {"type": "integer"},
        }
    ),
    "MilestoneUpdate": {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            "status": {"type": "string", "enum": list(MILESTONE_STATUSES)},
            "percent_complete": {"type": "integer", "minimum": 0, "maximum": 100},
            "version": {"type": "integer", "description": "The version read; a mismatch answers 409."},
        },
    },
    "AuditEvent": _obj(
        {
            "id": {"type": "integer"},
            "occurred_at": {"type": "string", "format": "date-time"},
            "actor": _string(True),
            "action": _string(),
            "object_type": _string(),
            "object_id": {"type": "integer", "nullable": True},
            "recommendation_id": {"type": "integer", "nullable": True},
            "before": {"type": "object"},
            "after": {"type": "object"},
        }
    ),
    "Evidence": _obj(
        {
            "id": {"type": "integer"},
            "title": _string(),
            "description": _string(),
            "milestone_id": {"type": "integer", "nullable": True},
            "recommendation_id": {"type": "integer"},
            "review_status": {"type": "string", "enum": list(REVIEW_STATUSES)},
            "withdrawn": {"type": "boolean"},
            "versions": {
                "type": "array",
                "items": _obj(
                    {
                        "number": {"type": "integer"},
                        "original_filename": _string(),
                        "content_type": _string(),
                        "size_bytes": {"type": "integer"},
                        "sha256": _string(),
                        "uploaded_at": {"type": "string", "format": "date-time"},
                    }
                ),
            },
        }
    ),
    "Metric": _obj(
        {
            "id": {"type": "integer"},
            "recommendation_id": {"type": "integer"},
            "line_of_effort": _string(),
            "name": _string(),
            "description": _string(),
            "kind": {"type": "string", "enum": list(METRIC_KINDS)},
            "unit": _string(),
            "direction": {"type": "string", "enum": list(DIRECTIONS)},
            "baseline_value": _string(True),
            "baseline_period": _string(),
            "target_value": _string(),
            "target_on": _date(True),
            "frequency": {"type": "string", "enum": list(FREQUENCIES)},
            "components": {"type": "array", "items": _string()},
            "data_source": _string(),
            "collect_from": _date(),
        }
    ),
    "Reading": _obj(
        {
            "id": {"type": "integer"},
            "metric_id": {"type": "integer"},
            "period": _string(),
            "period_end": _date(),
            "component": _string(),
            "value": _string(),
            "numerator": _string(True),
            "denominator": _string(True),
            "note": _string(),
            "entered_at": {"type": "string", "format": "date-time"},
            "version": {"type": "integer", "description": "Give it back to correct this reading"},
            "history": {
                "type": "array",
                "description": "Earlier values, newest first",
                "items": _obj(
                    {
                        "value": _string(),
                        "numerator": _string(True),
                        "denominator": _string(True),
                        "note": _string(),
                        "entered_at": {"type": "string", "format": "date-time"},
                        "replaced_at": {"type": "string", "format": "date-time"},
                    }
                ),
            },
        }
    ),
    "SavedReading": {
        "allOf": [
            _ref("Reading"),
            {
                "type": "object",
                "required": ["outcome"],
                "properties": {
                    "outcome": {
                        "type": "string",
                        "enum": list(READING_OUTCOMES),
                        "description": "created (201): a new reading; corrected (200): the reading for this period and "
                        "component had another value, now in its history; unchanged (200): it already had "
                        "this value and note, nothing was written",
                    }
                },
            },
        ]
    },
    "ReadingInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["period", "component", "value"],
        "properties": {
            "period": {
                "type": "string",
                "maxLength": 20,
                "description": "2026-03, 2026-Q1 or 2026 (the metric's frequency)",
            },
            "component": {"type": "string", "maxLength": 60, "description": "One of the metric's components"},
            "value": {
                "oneOf": [{"type": "string", "maxLength": 80}, {"type": "number"}],
                "description": 'A number; a data-quality metric also takes "numerator/denominator"',
            },
            "note": {"type": "string", "maxLength": 2000},
            "version": {
                "type": "integer",
                "description": "The version of the stored reading you read; needed to change a stored reading, "
                "and a mismatch answers 409 (sending the same values again needs none)",
            },
        },
    },
}
for _name in ("Report", "Recommendation", "Milestone", "AuditEvent", "Evidence", "Metric", "Reading"):
    SCHEMAS[f"{_name}Page"] = _page_of(_name)


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


ERRORS = {
    "400": _error("Bad parameters"),
    "401": _error("No valid token"),
    "403": _error("Not allowed"),
    "404": _error("Not found or not visible to you"),
}
PAGING = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
    {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
]


def _q(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _id(name: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    }


def _ok(schema: str) -> dict:
    return {"200": {"description": "OK", "content": {"application/json": {"schema": _ref(schema)}}}, **ERRORS}


def _get(op_id: str, summary: str, schema: str, parameters: list) -> dict:
    return {"get": {"operationId": op_id, "summary": summary, "parameters": parameters, "responses": _ok(schema)}}


def openapi_document() -> dict:
    milestone_item = _get("getMilestone", "One milestone", "Milestone", [_id("milestone_id")])
    milestone_item["patch"] = {
        "operationId": "updateMilestone",
        "summary": "Update a milestone's status or percent complete",
        "description": "Needs a token with the write scope, held by the responsible action office.",
        "parameters": [_id("milestone_id")],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("MilestoneUpdate")}}},
        "responses": {**_ok("Milestone"), "409": _error("The milestone changed since it was read")},
    }
    readings = _get(
        "listReadings",
        "A metric's readings, each with its correction history",
        "ReadingPage",
        [*PAGING, _id("metric_id")],
    )
    readings["post"] = {
        "operationId": "saveReading",
        "summary": "Record a reading, or correct the one for the same period",
        "description": "Needs a token with the write scope, held by the responsible action office. "
        "A correction keeps the earlier value in the reading's history. The period must have ended and "
        "not lie before the metric's first period (400).",
        "parameters": [_id("metric_id")],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ReadingInput")}}},
        "responses": {
            "201": {"description": "Recorded", "content": {"application/json": {"schema": _ref("SavedReading")}}},
            **_ok("SavedReading"),
            "409": _error("A reading is stored for this period and component, and no version or another was given"),
        },
    }
    by_recommendation = _q("recommendation", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "Recommendation id")
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Corrective Action Tracker API",
            "version": "1",
            "description": "Reports, recommendations, milestones and the audit trail, "
            "with the same permission rules as the web pages.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/reports": _get("listReports", "Reports you may read", "ReportPage", PAGING),
            "/reports/{report_id}": _get("getReport", "One report", "Report", [_id("report_id")]),
            "/recommendations": _get(
                "listRecommendations",
                "Recommendations you may read",
                "RecommendationPage",
                [
                    *PAGING,
                    _q("status", {"type": "string", "enum": list(STATUSES)}, "Resolution status"),
                    _q("office", {"type": "string"}, "Action office code"),
                    _q("report", {"type": "string"}, "Report number"),
                    _q("q", {"type": "string"}, "Words or a number"),
                ],
            ),
            "/recommendations/{recommendation_id}": _get(
                "getRecommendation", "One recommendation", "Recommendation", [_id("recommendation_id")]
            ),
            "/milestones": _get(
                "listMilestones",
                "Milestones you may read",
                "MilestonePage",
                [
                    *PAGING,
                    _q("status", {"type": "string", "enum": list(MILESTONE_STATUSES)}, "Milestone status"),
                    _q("recommendation", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "Recommendation id"),
                    _q("overdue", {"type": "string", "enum": ["1"]}, "Only overdue milestones"),
                    _q("due_from", {"type": "string", "format": "date"}, "Due on or after"),
                    _q("due_to", {"type": "string", "format": "date"}, "Due on or before"),
                ],
            ),
            "/milestones/{milestone_id}": milestone_item,
            "/audit-events": _get(
                "listAuditEvents",
                "Audit events you may read",
                "AuditEventPage",
                [
                    *PAGING,
                    _q("action", {"type": "string"}, "Action prefix, e.g. milestone."),
                    _q("recommendation", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, "Recommendation id"),
                    _q("since", {"type": "string", "format": "date"}, "From this day (UTC)"),
                    _q("until", {"type": "string", "format": "date"}, "To this day (UTC)"),
                ],
            ),
            "/evidence": _get(
                "listEvidence",
                "Evidence you may read (metadata, never the files)",
                "EvidencePage",
                [*PAGING, by_recommendation],
            ),
            "/evidence/{evidence_id}": _get("getEvidence", "One evidence item", "Evidence", [_id("evidence_id")]),
            "/metrics": _get("listMetrics", "Metrics you may read", "MetricPage", [*PAGING, by_recommendation]),
            "/metrics/{metric_id}": _get("getMetric", "One metric", "Metric", [_id("metric_id")]),
            "/metrics/{metric_id}/readings": readings,
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **ERRORS,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "A personal access token"}
            },
            "schemas": SCHEMAS,
        },
    }
