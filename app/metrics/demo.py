"""Demo metrics for OIG-15-85: the report's own figures as baselines (with their period and page),
the data the report says DHS could gather, and data-quality measures; a few illustrative past
readings (so that charts show something), the flags they raise and two improvement actions."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from app.demo_report import baseline_period, no_baseline
from app.extensions import db
from app.metrics.models import Flag, Metric
from app.metrics.actions import take_action
from app.metrics.definitions import create_metric
from app.metrics.periods import period_bounds, period_of, previous_periods
from app.metrics.services import save_reading, sync_flags
from app.metrics.values import data_quality_value, ParsedValue
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
    #: The report's figure this baseline is (app/demo_report.py FIGURES), or the data element
    #: it measures (DATA_ELEMENTS).
    figure: str | None = None
    element: str | None = None


METRICS = [
    # The report's own figures, as baselines with their period and page (app/demo_report.py).
    DemoMetric(
        "data_collection",
        "ICE prosecutorial-discretion releases recorded",
        "outcome",
        "releases",
        "higher",
        "12757",
        baseline_period("ice_pd_releases"),
        "14000",
        "annually",
        "ICE",
        "ICE EARM release records",
        "Releases after an officer interviewed the person, found them not an enforcement priority and used "
        "prosecutorial discretion, recorded with the decision. ICE said its data may not always be accurate "
        "and complete and may count one person several times: recording every decision should raise the count.",
        {"ICE": ["13120", "13480"]},
        figure="ice_pd_releases",
    ),
    DemoMetric(
        "data_collection",
        "DACA-eligible individuals released by CBP Border Patrol, since June 15, 2012",
        "outcome",
        "people",
        "higher",
        "650",
        baseline_period("cbp_daca_released"),
        "700",
        "quarterly",
        "CBP",
        "CBP e3 (Border Patrol) release records",
        "People the Office of Border Patrol released without starting removal because they appeared "
        "eligible for DACA, counted from June 15, 2012 as the report counts them (a running total).",
        {"CBP": ["712", "748", "781"]},
        figure="cbp_daca_released",
    ),
    DemoMetric(
        "data_collection",
        "DACA requests approved by USCIS, since August 15, 2012",
        "outcome",
        "requests",
        "higher",
        "632855",
        baseline_period("uscis_daca_approved"),
        "632855",
        "quarterly",
        "USCIS",
        "USCIS CLAIMS 3 DACA decisions",
        "DACA requests approved, counted from August 15, 2012 as the report counts them (a running total); "
        "reported beside the referrals from ICE and CBP.",
        {"USCIS": ["655210", "671934", "688402"]},
        figure="uscis_daca_approved",
    ),
    # The data the report says DHS could gather (p. 5): no baseline, the data did not exist.
    DemoMetric(
        "data_collection",
        "Releases because the home country will not cooperate",
        "outcome",
        "releases",
        "lower",
        None,
        no_baseline("home_country"),
        "60",
        "quarterly",
        "ICE",
        "ICE EARM release records, coded release reason",
        "Aliens released because their home country's lack of cooperation makes removal difficult, recorded "
        "with that reason, so that DHS can see how often removal fails for that reason.",
        {"ICE": ["31", "44", "52"]},
        element="home_country",
    ),
    DemoMetric(
        "data_collection",
        "Not placed in or taken out of removal as not a priority, with the basis recorded",
        "outcome",
        "% of decisions",
        "higher",
        None,
        no_baseline("not_a_priority"),
        "95",
        "quarterly",
        "ICE, CBP",
        "Component case management systems (EARM, e3)",
        "Decisions not to place a person in removal, or to take them out of it, because they are not an "
        "enforcement priority, whose basis is recorded in a coded field.",
        {"ICE": ["81", "90", "96"], "CBP": ["96", "97", "98"]},
        element="not_a_priority",
    ),
    DemoMetric(
        "data_collection",
        "Granted discretion, later arrested for a crime or found a threat",
        "outcome",
        "people",
        "lower",
        None,
        no_baseline("later_crime"),
        "40",
        "quarterly",
        "ICE, CBP, USCIS",
        "Person identifier matched to later ICE arrests and criminal history records",
        "People granted prosecutorial discretion who later commit a crime or pose a threat to national "
        "security or public safety; tracked once the unique person identifier links the records.",
        {"ICE": ["22", "18", "17"], "CBP": ["4", "3", "5"], "USCIS": ["2", "1", "2"]},
        element="later_crime",
    ),
    DemoMetric(
        "data_collection",
        "DACA referrals with a recorded USCIS decision",
        "outcome",
        "% of referrals",
        "higher",
        None,
        no_baseline("daca_referral"),
        "90",
        "quarterly",
        "ICE, CBP",
        "Referral log matched to USCIS CLAIMS decisions",
        "People referred to USCIS because they appear eligible for DACA whose request, and USCIS's decision "
        "to grant or deny it, are recorded against the referral. ICE could not count DACA-eligible releases "
        "(p. 4, note 3).",
        {"ICE": ["62", "78", "91"], "CBP": ["70", "88", "93"]},
        element="daca_referral",
    ),
    # The enforcement totals the report cites (p. 1): the annual report will put the prosecutorial
    # discretion data beside them. The first reading is due after this year ends.
    DemoMetric(
        "data_reporting",
        "Aliens apprehended",
        "outcome",
        "aliens",
        "higher",
        "662483",
        baseline_period("dhs_apprehended"),
        "662483",
        "annually",
        "DHS",
        "Office of Immigration Statistics, Immigration Enforcement Actions",
        "Reported beside the prosecutorial discretion data in the annual report; the target only keeps "
        "the baseline in view.",
        {},
        figure="dhs_apprehended",
    ),
    DemoMetric(
        "data_reporting",
        "Aliens removed",
        "outcome",
        "aliens",
        "higher",
        "438421",
        baseline_period("dhs_removed"),
        "438421",
        "annually",
        "DHS",
        "Office of Immigration Statistics, Immigration Enforcement Actions",
        "Reported beside the prosecutorial discretion data in the annual report; the target only keeps "
        "the baseline in view.",
        {},
        figure="dhs_removed",
    ),
    DemoMetric(
        "data_reporting",
        "Aliens with prior criminal convictions removed",
        "outcome",
        "aliens",
        "higher",
        "198394",
        baseline_period("dhs_removed_criminal"),
        "198394",
        "annually",
        "DHS",
        "Office of Immigration Statistics, Immigration Enforcement Actions",
        "The report's concern: DHS may be missing opportunities to remove aliens who pose a threat to "
        "national security and public safety.",
        {},
        figure="dhs_removed_criminal",
    ),
    DemoMetric(
        "data_reporting",
        "Leadership reports published on schedule",
        "outcome",
        "reports",
        "higher",
        "0",
        "FY2014: DHS's immigration enforcement reports did not include prosecutorial discretion data. "
        "Source: OIG-15-85, pp. 4-5",
        "1",
        "quarterly",
        "DHS",
        "Office of Immigration Statistics publication log",
        "Quarterly prosecutorial discretion reports delivered to DHS leadership.",
        {"DHS": ["1", "1"]},
    ),
    DemoMetric(
        "data_collection",
        "Required fields received",
        "completeness",
        "%",
        "higher",
        None,
        "",
        "95",
        "monthly",
        "ICE, CBP, USCIS",
        "Monthly component submissions to OIS",
        "Required fields of the data standard received, against those expected.",
        {
            "ICE": [(946, 1100), (1001, 1100), (1056, 1100)],
            "CBP": [(388, 400), (392, 400), (396, 400)],
            "USCIS": [(1485, 1500), (1490, 1500), (1500, 1500)],
        },
    ),
    DemoMetric(
        "data_collection",
        "Monthly submissions on time",
        "timeliness",
        "%",
        "higher",
        None,
        "",
        "100",
        "monthly",
        "ICE, CBP, USCIS",
        "OIS submission log",
        "Monthly data submissions received by their due date.",
        {"ICE": [(1, 1), (1, 1), (1, 1)], "CBP": [(1, 1), (0, 1), (1, 1)], "USCIS": [(1, 1), (1, 1), None]},
    ),
    DemoMetric(
        "data_collection",
        "Sampled records verified without discrepancy",
        "accuracy",
        "%",
        "higher",
        None,
        "",
        "98",
        "quarterly",
        "ICE, CBP, USCIS",
        "Quarterly sample of 200 records checked against case files",
        "Records sampled and verified against the case file; discrepancies found lower the score.",
        {"ICE": [(14, 200)], "CBP": [(3, 200)], "USCIS": [(1, 200)]},
    ),
    DemoMetric(
        "data_collection",
        "Records counting a person already counted",
        "duplicates",
        "%",
        "lower",
        None,
        "",
        "1",
        "monthly",
        "ICE, CBP, USCIS",
        "De-duplication run on the unique person identifier",
        "The same person counted more than once: ICE said its data may count one person several times.",
        {"ICE": [(46, 1100), (23, 1100)], "CBP": [(2, 400), (2, 400)], "USCIS": [(3, 1500), (2, 1500)]},
    ),
]


def seed_metrics(lines: dict, users: dict, on: date) -> None:
    """Add the demo metrics to the OIG-15-85 lines of effort (once)."""
    line_ids = [line.id for line in lines.values()]
    if db.session.scalar(sa.select(sa.func.count()).select_from(Metric).where(Metric.line_of_effort_id.in_(line_ids))):
        return
    staff = users["action_office"]
    created = {}
    for d in METRICS:
        count = max((len(v) for v in d.readings.values()), default=0)
        periods = previous_periods(d.frequency, on, count) if count else [period_of(d.frequency, on)]
        metric = create_metric(
            lines[d.line],
            {
                "name": d.name,
                "description": d.description,
                "kind": d.kind,
                "unit": d.unit,
                "direction": d.direction,
                "baseline_value": Decimal(d.baseline) if d.baseline else None,
                "baseline_period": d.baseline_period,
                "target_value": Decimal(d.target),
                "target_on": on + timedelta(days=300),
                "frequency": d.frequency,
                "components": d.components.replace(" ", ""),
                "data_source": d.source,
                "collect_from": period_bounds(d.frequency, periods[0])[0],
            },
            on,
            sync=False,
        )
        for component, values in d.readings.items():
            for period, value in zip(periods[-len(values) :], values):
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
    period = previous_periods("annually", on, 2)[0]
    save_reading(
        releases,
        period,
        "ICE",
        ParsedValue(Decimal("13205")),
        "Corrected: late release records from two field offices added.",
        staff,
    )
    for metric in created.values():
        sync_flags(metric, on)

    def first_open(metric_name: str, component: str) -> Flag:
        return db.session.scalars(
            sa.select(Flag)
            .where(Flag.metric_id == created[metric_name].id, Flag.component == component, Flag.status == "open")
            .order_by(Flag.period_end)
            .limit(1)
        ).one()

    take_action(
        first_open("Required fields received", "ICE"),
        "fix_data_source",
        staff,
        "EARM exports leave the basis field empty for releases entered in bulk; ICE is fixing the export.",
        on,
        actor=staff,
    )
    identifier = db.session.scalar(
        sa.select(Milestone).where(
            Milestone.line_of_effort_id == lines["data_collection"].id,
            Milestone.title.like("Add a unique person identifier%"),
        )
    )
    take_action(
        first_open("Records counting a person already counted", "ICE"),
        "change_milestone",
        staff,
        "Duplicates come from records without a person identifier: bring the identifier work forward.",
        on,
        actor=staff,
        milestone=identifier,
    )
    db.session.flush()
