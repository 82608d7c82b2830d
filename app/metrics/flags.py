"""Which flags should stand (pure): a reading worse than the target is off target, a component
with no reading for a period that has ended is missing. ``services.sync_flags`` makes the
stored flags agree."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.metrics.periods import due_periods, period_bounds


def is_off_target(value: Decimal, target: Decimal, direction: str) -> bool:
    return value < target if direction == "higher" else value > target


@dataclass(frozen=True)
class FlagDecision:
    component: str
    period: str
    period_end: date
    kind: str
    value: Decimal | None
    target_value: Decimal

    @property
    def key(self) -> tuple[str, str, str]:
        return self.component, self.period, self.kind


def decide_flags(metric, readings, today: date) -> dict[tuple[str, str, str], FlagDecision]:
    """The flags that should stand for ``metric`` given its ``readings``, as of ``today``.

    A reading worse than the target (by the metric's direction) is off target; a component
    with no reading for a period that has ended since ``collect_from`` is missing.
    """
    wanted = {}
    have = set()
    for r in readings:
        have.add((r.component, r.period))
        if is_off_target(r.value, metric.target_value, metric.direction):
            d = FlagDecision(r.component, r.period, r.period_end, "off_target", r.value, metric.target_value)
            wanted[d.key] = d
    for label in due_periods(metric.frequency, metric.collect_from, today):
        end = period_bounds(metric.frequency, label)[1]
        for component in metric.component_list:
            if (component, label) not in have:
                d = FlagDecision(component, label, end, "missing", None, metric.target_value)
                wanted[d.key] = d
    return wanted
