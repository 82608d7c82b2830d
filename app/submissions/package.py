"""The closure package: what a reviewer decides a closure request from, read in a few queries.

Per line of effort its milestones (status, dates, slip, progress); the evidence offered; each
metric's trend against baseline and target; the flags still open or answered; and the
readiness list (``readiness.readiness``) built from the same rows.
"""

from dataclasses import dataclass
import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from app.evidence.models import EvidenceItem, EvidenceVersion
from app.extensions import db
from app.metrics.models import Flag, ImprovementAction, Metric, Reading
from app.metrics.charts import metric_chart
from app.recommendations.models import LineOfEffort, Recommendation
from app.submissions.readiness import EvidenceFact, FlagFact, MetricFact, MilestoneFact, ReadinessItem, readiness


def percent_complete(milestones) -> int:
    """A line's (or a plan's) progress: the mean of its milestones' progress, completed ones at
    100 and cancelled ones left out."""
    counted = [100 if m.status == "completed" else m.percent_complete for m in milestones if m.status != "cancelled"]
    return round(sum(counted) / len(counted)) if counted else 0


@dataclass
class MetricResult:
    metric: Metric
    chart: dict
    #: (component, latest reading or None)
    latest: list[tuple[str, Reading | None]]


@dataclass
class ClosurePackage:
    recommendation: Recommendation
    lines: list[LineOfEffort]
    evidence: list[EvidenceItem]
    milestone_titles: dict[int, str]
    metrics: list[MetricResult]
    flags: list[Flag]
    readiness: list[ReadinessItem]

    @property
    def percent_complete(self) -> int:
        return percent_complete([m for line in self.lines for m in line.milestones])


def _evidence(recommendation_id: int) -> list[EvidenceItem]:
    return list(
        db.session.scalars(
            sa.select(EvidenceItem)
            .where(EvidenceItem.recommendation_id == recommendation_id, EvidenceItem.withdrawn_at.is_(None))
            .options(selectinload(EvidenceItem.versions).joinedload(EvidenceVersion.uploaded_by))
            .order_by(EvidenceItem.milestone_id.is_(None), EvidenceItem.milestone_id, EvidenceItem.id)
        )
    )


def _metrics(recommendation_id: int) -> list[MetricResult]:
    metrics = list(
        db.session.scalars(
            sa.select(Metric)
            .join(Metric.line_of_effort)
            .where(LineOfEffort.recommendation_id == recommendation_id)
            .options(joinedload(Metric.line_of_effort))
            .order_by(LineOfEffort.position, Metric.id)
        )
    )
    if not metrics:
        return []
    by_metric: dict[int, list[Reading]] = {m.id: [] for m in metrics}
    for reading in db.session.scalars(
        sa.select(Reading)
        .where(Reading.metric_id.in_(list(by_metric)))
        .order_by(Reading.period_end, Reading.component, Reading.id)
    ):
        by_metric[reading.metric_id].append(reading)
    results = []
    for m in metrics:
        readings = by_metric[m.id]
        latest = {r.component: r for r in readings}
        results.append(MetricResult(m, metric_chart(m, readings), [(c, latest.get(c)) for c in m.component_list]))
    return results


def _flags(recommendation_id: int) -> list[Flag]:
    return list(
        db.session.scalars(
            sa.select(Flag)
            .join(Flag.metric)
            .join(Metric.line_of_effort)
            .where(LineOfEffort.recommendation_id == recommendation_id, Flag.status.in_(("open", "answered")))
            .options(
                joinedload(Flag.metric),
                selectinload(Flag.actions).options(
                    joinedload(ImprovementAction.owner), joinedload(ImprovementAction.milestone)
                ),
            )
            .order_by(Flag.status != "open", Flag.period_end.desc(), Flag.id)
        ).unique()
    )


def readiness_of(lines, evidence, metrics: list[MetricResult], flags) -> list[ReadinessItem]:
    return readiness(
        [
            MilestoneFact(m.id, m.title, m.status, m.percent_complete, m.current_due_on)
            for line in lines
            for m in line.milestones
        ],
        [EvidenceFact(e.id, e.title, e.review_status) for e in evidence],
        [
            MetricFact(
                r.metric.id,
                r.metric.name,
                component,
                r.metric.unit,
                r.metric.direction,
                r.metric.target_value,
                reading.value if reading else None,
                reading.period if reading else None,
            )
            for r in metrics
            for component, reading in r.latest
        ],
        [FlagFact(f.id, f.metric.name, f.component, f.period, f.kind) for f in flags if f.status == "open"],
    )


def closure_package(recommendation: Recommendation) -> ClosurePackage:
    lines = list(
        db.session.scalars(
            sa.select(LineOfEffort)
            .where(LineOfEffort.recommendation_id == recommendation.id)
            .options(selectinload(LineOfEffort.milestones))
            .order_by(LineOfEffort.position, LineOfEffort.id)
        )
    )
    evidence = _evidence(recommendation.id)
    metrics = _metrics(recommendation.id)
    flags = _flags(recommendation.id)
    titles = {m.id: m.title for line in lines for m in line.milestones}
    return ClosurePackage(
        recommendation, lines, evidence, titles, metrics, flags, readiness_of(lines, evidence, metrics, flags)
    )


def readiness_for(recommendation: Recommendation) -> list[ReadinessItem]:
    """The readiness list alone (the status form, the submission's confirmation)."""
    return closure_package(recommendation).readiness
