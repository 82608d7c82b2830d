"""What a submission freezes: the plan as sent, section by section.

``SECTIONS`` is the whole recipe. A section is a key, a title, the submission kinds it
belongs to and a builder ``(recommendation, kind) -> JSON-ready data``. Adding what a
closure request rests on (evidence, metric results) is one more line in ``SECTIONS``;
its page rendering is ``templates/submissions/sections/_<key>.html`` (a generic
rendering is used when there is none).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.metrics.charts import metric_results
from app.milestones.models import Milestone
from app.recommendations.models import LineOfEffort
from app.submissions.models import SUBMISSION_KINDS
from app.timeutil import utcnow
from app.evidence.services import evidence_list

SCHEMA_VERSION = 1


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def recommendation_section(recommendation, kind: str) -> dict:
    return {
        "report": recommendation.report.number,
        "number": recommendation.number,
        "text": recommendation.text,
        "issued_on": _day(recommendation.issued_on),
        "status": recommendation.status,
        "concurrence": recommendation.concurrence,
        "concurrence_response": recommendation.concurrence_response,
        "action_office": recommendation.action_office.name,
        "responsible_official": recommendation.responsible_official,
        "target_completion_on": _day(recommendation.target_completion_on),
        "management_decision_on": _day(recommendation.management_decision_on),
    }


def _milestone(m: Milestone) -> dict:
    return {
        "id": m.id,
        "title": m.title,
        "description": m.description,
        "owner": m.owner.name if m.owner else None,
        "office": m.office.code,
        "start_on": _day(m.start_on),
        "baseline_due_on": _day(m.baseline_due_on),
        "current_due_on": _day(m.current_due_on),
        "status": m.status,
        "percent_complete": m.percent_complete,
        "completed_on": _day(m.completed_on),
        "expected_evidence": m.expected_evidence,
    }


def plan_section(recommendation, kind: str) -> list[dict]:
    lines = db.session.scalars(
        sa.select(LineOfEffort)
        .where(LineOfEffort.recommendation_id == recommendation.id)
        .options(
            selectinload(LineOfEffort.lead_owner),
            selectinload(LineOfEffort.milestones).options(
                selectinload(Milestone.owner), selectinload(Milestone.office)
            ),
        )
        .order_by(LineOfEffort.position, LineOfEffort.id)
    )
    return [
        {
            "id": line.id,
            "kind": line.kind,
            "title": line.title,
            "description": line.description,
            "objective": line.objective,
            "lead_owner": line.lead_owner.name if line.lead_owner else None,
            "milestones": [_milestone(m) for m in line.milestones],
        }
        for line in lines
    ]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    build: Callable[[object, str], object]
    kinds: tuple[str, ...] = SUBMISSION_KINDS


def evidence_section(recommendation, kind: str) -> list[dict]:
    return evidence_list(recommendation.id)


def metrics_section(recommendation, kind: str) -> list[dict]:
    return metric_results(recommendation.id)


SECTIONS: list[Section] = [
    Section("recommendation", "Recommendation and responsible official", recommendation_section),
    Section("plan", "Lines of effort and milestones", plan_section),
    Section("evidence", "Evidence offered for closure", evidence_section, kinds=("closure_request",)),
    Section("metrics", "Metric results against targets", metrics_section, kinds=("closure_request",)),
]


def build_snapshot(recommendation, kind: str, *, narrative: str = "") -> dict:
    """The frozen document a submission carries: every section that applies to ``kind``, in order."""
    if kind not in SUBMISSION_KINDS:
        raise ValueError(f"unknown submission kind {kind!r}")
    return {
        "schema": SCHEMA_VERSION,
        "kind": kind,
        "taken_at": utcnow().isoformat(timespec="seconds"),
        "narrative": narrative,
        "sections": [
            {"key": s.key, "title": s.title, "data": s.build(recommendation, kind)} for s in SECTIONS if kind in s.kinds
        ],
    }
