"""Is a recommendation ready to close? Pure rules, no database (like app/reminders/decide.py).

``readiness(...)`` names every thing that is not done: open milestones, evidence awaiting
review or judged insufficient, metrics without a reading or off target, open monitoring flags.
The same list stands at the top of the closure package, beside OIG's decision form, and on
the office's confirmation page, where each item must be acknowledged in words before a
closure request is sent.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.metrics.values import with_unit
from app.milestones.models import OPEN_MILESTONE_STATUSES
from app.timeutil import human_date


@dataclass(frozen=True)
class MilestoneFact:
    id: int
    title: str
    status: str
    percent_complete: int
    current_due_on: date | None


@dataclass(frozen=True)
class EvidenceFact:
    id: int
    title: str
    review_status: str


@dataclass(frozen=True)
class MetricFact:
    """A metric's latest reading for one component (value None: no reading yet)."""

    metric_id: int
    name: str
    component: str
    unit: str
    direction: str
    target: Decimal | None
    value: Decimal | None
    period: str | None


@dataclass(frozen=True)
class FlagFact:
    id: int
    metric_name: str
    component: str
    period: str
    kind: str


@dataclass(frozen=True)
class ReadinessItem:
    #: Stable across page loads ("milestone-6"): the acknowledgement field's name.
    key: str
    #: milestone, evidence, metric, flag
    kind: str
    #: The object's id, for a link (a metric's id for a metric).
    ref_id: int
    text: str


def _num(value: Decimal) -> str:
    text = f"{value:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _with_unit(value: Decimal, unit: str) -> str:
    return with_unit(_num(value), unit)


def _off_target(value: Decimal, target: Decimal, direction: str) -> bool:
    return value < target if direction == "higher" else value > target


def readiness(
    milestones: list[MilestoneFact], evidence: list[EvidenceFact], metrics: list[MetricFact], flags: list[FlagFact]
) -> list[ReadinessItem]:
    """What stands between the recommendation and closure, in the order a reviewer reads it."""
    items: list[ReadinessItem] = []
    for m in milestones:
        if m.status not in OPEN_MILESTONE_STATUSES:
            continue
        state = f"in progress ({m.percent_complete}%)" if m.status == "in_progress" else "not started"
        items.append(
            ReadinessItem(
                f"milestone-{m.id}",
                "milestone",
                m.id,
                f"Milestone “{m.title}” is {state}, due {human_date(m.current_due_on)}.",
            )
        )
    if not evidence:
        items.append(ReadinessItem("evidence-none", "evidence", 0, "No evidence is offered for closure."))
    for e in evidence:
        if e.review_status == "pending":
            items.append(
                ReadinessItem(
                    f"evidence-{e.id}", "evidence", e.id, f"Evidence “{e.title}” has not been reviewed by OIG yet."
                )
            )
        elif e.review_status == "insufficient":
            items.append(
                ReadinessItem(f"evidence-{e.id}", "evidence", e.id, f"OIG judged evidence “{e.title}” insufficient.")
            )
    for r in metrics:
        key = f"metric-{r.metric_id}-{r.component}"
        if r.value is None:
            items.append(
                ReadinessItem(key, "metric", r.metric_id, f"Metric “{r.name}” has no reading for {r.component}.")
            )
        elif r.target is not None and _off_target(r.value, r.target, r.direction):
            bound = "at least" if r.direction == "higher" else "at most"
            items.append(
                ReadinessItem(
                    key,
                    "metric",
                    r.metric_id,
                    f"Metric “{r.name}” for {r.component} is {_with_unit(r.value, r.unit)} in {r.period}, "
                    f"off its target of {bound} {_with_unit(r.target, r.unit)}.",
                )
            )
    for f in flags:
        what = "a missing reading" if f.kind == "missing" else "a reading off target"
        items.append(
            ReadinessItem(
                f"flag-{f.id}",
                "flag",
                f.id,
                f"Open flag on “{f.metric_name}” for {f.component}, {f.period}: {what}, not yet answered.",
            )
        )
    return items
