"""Demo metrics for OIG-15-85: the report's own figures as baselines, a few past readings
(so that charts show something), flags they raise and two improvement actions."""
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from app.extensions import db
from app.metrics.models import Flag, Metric
from app.metrics.services import (ParsedValue, create_metric, data_quality_value, period_bounds,
                                  previous_periods, save_reading, sync_flags, take_action)
from app.milestones.models import Milestone


@dataclass
class DemoMetric:
    line: str
    name: str
    kind: str
    unit: str
    direction: str
    baseline: str | None
    baseline_period: str
    target: str
    frequency: str
    components: str
    source: str
    description: str = ""
    #: component -> values (or (numerator, denominator) pairs), oldest period first,
    #: ending with the last period before today; None leaves a period without a reading.
    readings: dict = field(default_factory=dict)


METRICS = [
    DemoMetric("data_collection", "ICE prosecutorial-discretion releases recorded", "outcome", "releases", "higher",
               "3189", "FY2014, quarterly average of 12,757 releases recorded after interview",
               "3400", "quarterly", "ICE", "ICE EARM release records",
               "Releases after a prosecutorial-discretion decision recorded with the decision and its basis.",
               {"ICE": ["3020", "3280", "3460"]}),
    DemoMetric("data_collection", "DACA referrals with a recorded USCIS decision", "outcome", "% of referrals", "higher",
               "0", "2012-06-15 to 2014-09-30: 650 DACA-eligible releases by CBP, no USCIS decision recorded",
               "90", "quarterly", "ICE, CBP", "Referral log matched to USCIS CLAIMS decisions",
               "Share of DACA-eligible people referred to USCIS whose USCIS decision is recorded against the referral.",
               {"ICE": ["62", "78", "91"], "CBP": ["70", "88", "93"]}),
    DemoMetric("data_collection", "Share of releases with a recorded basis for discretion", "outcome", "% of releases",
               "higher", "0", "FY2014: basis not recorded as data", "95", "quarterly", "ICE, CBP",
               "Component case management systems (EARM, e3)",
               "Releases and decisions not to place in removal whose basis (not a priority, country will not "
               "cooperate, DACA-eligible) is recorded in a coded field.",
               {"ICE": ["81", "90", "96"], "CBP": ["96", "97", "98"]}),
    DemoMetric("data_reporting", "Leadership reports published on schedule", "outcome", "reports", "higher",
               "0", "FY2014", "1", "quarterly", "DHS", "Office of Immigration Statistics publication log",
               "Quarterly prosecutorial discretion reports delivered to DHS leadership.",
               {"DHS": ["1", "1"]}),
    DemoMetric("data_collection", "Required fields received", "completeness", "%", "higher", None, "", "95",
               "monthly", "ICE, CBP, USCIS", "Monthly component submissions to OIS",
               "Required fields of the data standard received, against those expected.",
               {"ICE": [(946, 1100), (1001, 1100), (1056, 1100)], "CBP": [(388, 400), (392, 400), (396, 400)],
                "USCIS": [(1485, 1500), (1490, 1500), (1500, 1500)]}),
    DemoMetric("data_collection", "Monthly submissions on time", "timeliness", "%", "higher", None, "", "100",
               "monthly", "ICE, CBP, USCIS", "OIS submission log",
               "Monthly data submissions received by their due date.",
               {"ICE": [(1, 1), (1, 1), (1, 1)], "CBP": [(1, 1), (0, 1), (1, 1)], "USCIS": [(1, 1), (1, 1), None]}),
    DemoMetric("data_collection", "Sampled records verified without discrepancy", "accuracy", "%", "higher", None, "",
               "98", "quarterly", "ICE, CBP, USCIS", "Quarterly sample of 200 records checked against case files",
               "Records sampled and verified against the case file; discrepancies found lower the score.",
               {"ICE": [(14, 200)], "CBP": [(3, 200)], "USCIS": [(1, 200)]}),
    DemoMetric("data_collection", "Records counting a person already counted", "duplicates", "%", "lower", None, "",
               "1", "monthly", "ICE, CBP, USCIS", "De-duplication run on the unique person identifier",
               "The same person counted more than once: ICE said its data may count one person several times.",
               {"ICE": [(46, 1100), (23, 1100)], "CBP": [(2, 400), (2, 400)], "USCIS": [(3, 1500), (2, 1500)]}),
]


def seed_metrics(lines: dict, users: dict, on: date) -> None:
    """Add the demo metrics to the OIG-15-85 lines of effort (once)."""
    line_ids = [line.id for line in lines.values()]
    if db.session.scalar(sa.select(sa.func.count()).select_from(Metric)
                         .where(Metric.line_of_effort_id.in_(line_ids))):
        return
    staff = users["action_office"]
    created = {}
    for d in METRICS:
        count = max(len(v) for v in d.readings.values())
        periods = previous_periods(d.frequency, on, count)
        metric = create_metric(lines[d.line], {
            "name": d.name, "description": d.description, "kind": d.kind, "unit": d.unit,
            "direction": d.direction, "baseline_value": Decimal(d.baseline) if d.baseline else None,
            "baseline_period": d.baseline_period, "target_value": Decimal(d.target),
            "target_on": on + timedelta(days=300), "frequency": d.frequency, "components": d.components.replace(" ", ""),
            "data_source": d.source, "collect_from": period_bounds(d.frequency, periods[0])[0],
        }, on, sync=False)
        for component, values in d.readings.items():
            for period, value in zip(periods[-len(values):], values):
                if value is None:
                    continue
                if isinstance(value, tuple):
                    numerator, denominator = Decimal(value[0]), Decimal(value[1])
                    parsed = ParsedValue(data_quality_value(d.kind, numerator, denominator), numerator, denominator)
                else:
                    parsed = ParsedValue(Decimal(value))
                save_reading(metric, period, component, parsed, "", staff)
        created[d.name] = metric

    # A correction, so that a reading shows its history.
    releases = created["ICE prosecutorial-discretion releases recorded"]
    period = previous_periods("quarterly", on, 2)[0]
    save_reading(releases, period, "ICE", ParsedValue(Decimal("3350")),
                 "Corrected: late release records from two field offices added.", staff)
    for metric in created.values():
        sync_flags(metric, on)

    def first_open(metric_name: str, component: str) -> Flag:
        return db.session.scalars(sa.select(Flag).where(
            Flag.metric_id == created[metric_name].id, Flag.component == component, Flag.status == "open")
            .order_by(Flag.period_end).limit(1)).one()

    take_action(first_open("Required fields received", "ICE"), "fix_data_source", staff,
                "EARM exports leave the basis field empty for releases entered in bulk; ICE is fixing the export.",
                on, actor=staff)
    identifier = db.session.scalar(sa.select(Milestone).where(
        Milestone.line_of_effort_id == lines["data_collection"].id,
        Milestone.title.like("Add a unique person identifier%")))
    take_action(first_open("Records counting a person already counted", "ICE"), "change_milestone", staff,
                "Duplicates come from records without a person identifier: bring the identifier work forward.",
                on, actor=staff, milestone=identifier)
    db.session.flush()
