"""What the readings show: a metric's trend, a component's data quality, their CSV, and the
latest result of each metric against its target (for the plan's documents)."""

import csv
import io
from decimal import Decimal

import sqlalchemy as sa

from app.extensions import db
from app.metrics.flags import is_off_target
from app.metrics.models import Metric, Reading
from app.metrics.services import metrics_in_scope


def _num(value: Decimal | None):
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def metric_chart(metric: Metric, readings) -> dict:
    """Trend by component against target and baseline, for Chart.js and for the table beside it."""
    periods = sorted({(r.period_end, r.period) for r in readings})
    labels = [p for _, p in periods]
    values = {(r.period, r.component): r.value for r in readings}
    components = list(metric.component_list)
    components += sorted({r.component for r in readings} - set(components))
    return {
        "title": metric.name,
        "unit": metric.unit,
        "labels": labels,
        "series": [{"label": c, "data": [_num(values.get((p, c))) for p in labels]} for c in components],
        "target": _num(metric.target_value),
        "baseline": _num(metric.baseline_value),
    }


def data_quality_chart(component: str, metrics, readings) -> dict:
    """One component's data-quality measures over time (periods placed by their last month)."""
    mine = [r for r in readings if r.component == component]
    months = sorted({r.period_end.strftime("%Y-%m") for r in mine})
    values = {(r.metric_id, r.period_end.strftime("%Y-%m")): r.value for r in mine}
    return {
        "title": f"Data quality, {component}",
        "unit": "%",
        "labels": months,
        "series": [{"label": m.name, "data": [_num(values.get((m.id, month))) for month in months]} for m in metrics],
        "target": None,
        "baseline": None,
    }


def _text_cell(text: str) -> str:
    # A name typed by a user must not run as a spreadsheet formula when the file is opened.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def chart_csv(chart: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    extra = [name for name in ("target", "baseline") if chart.get(name) is not None]
    writer.writerow(["period"] + [_text_cell(s["label"]) for s in chart["series"]] + extra)
    for i, label in enumerate(chart["labels"]):
        writer.writerow(
            [label]
            + ["" if s["data"][i] is None else s["data"][i] for s in chart["series"]]
            + [chart[name] for name in extra]
        )
    return out.getvalue()


def metric_results(recommendation_id: int) -> list[dict]:
    """Each metric of the plan with its latest reading per component, against its target."""
    metrics = metrics_in_scope(recommendation_id)
    if not metrics:
        return []
    latest: dict[tuple[int, str], Reading] = {}
    for each in db.session.scalars(
        sa.select(Reading)
        .where(Reading.metric_id.in_([m.id for m in metrics]))
        .order_by(Reading.period_end, Reading.id)
    ):
        latest[(each.metric_id, each.component)] = each
    rows = []
    for m in metrics:
        for component in m.component_list:
            reading = latest.get((m.id, component))
            rows.append(
                {
                    "metric": m.name,
                    "line_of_effort": m.line_of_effort.title,
                    "component": component,
                    "unit": m.unit,
                    "direction": m.direction,
                    "baseline": _num(m.baseline_value),
                    "target": _num(m.target_value),
                    "target_on": m.target_on.isoformat() if m.target_on else None,
                    "period": reading.period if reading else None,
                    "value": _num(reading.value) if reading else None,
                    "on_target": (
                        None if reading is None else not is_off_target(reading.value, m.target_value, m.direction)
                    ),
                }
            )
    return rows
