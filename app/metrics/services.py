"""Metrics: pure decisions (periods, targets, flags, CSV rows) apart from the changes they lead to.

``decide_flags(metric, readings, today)`` says which flags should exist; ``sync_flags`` makes
the stored flags agree with it. Both the reading form and the CSV import go through
``parse_value`` and ``save_reading``, so the two can never disagree.
"""

import calendar
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import sqlalchemy as sa
from flask import abort
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from app import audit, versioning
from app.extensions import db
from app.inputs import EARLIEST_YEAR, LATEST_YEAR, control_character_message
from app.notifications import services as notify
from app.metrics.models import (
    COMPONENTS,
    DATA_QUALITY_DIRECTION,
    DATA_QUALITY_KINDS,
    Flag,
    ImprovementAction,
    Metric,
    Reading,
    ReadingRevision,
    TargetChange,
)
from app.milestones.models import Milestone
from app.milestones.services import plan_accepted
from app.permissions import require_decide_target_change, require_edit_metrics, require_view_recommendation
from app.recommendations.models import LineOfEffort, Recommendation
from app.timeutil import utcnow

#: Numeric(18, 4) holds at most 14 digits before the point.
MAX_ABS_VALUE = Decimal("1e14")
CSV_COLUMNS = ("period", "component", "metric", "value", "note")
HUNDRED = Decimal(100)


# --- periods ------------------------------------------------------------------

_MONTHLY = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTERLY = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_ANNUAL = re.compile(r"^(?:FY|CY)?(\d{4})$", re.IGNORECASE)
PERIOD_HINTS = {"monthly": "YYYY-MM, e.g. 2026-03", "quarterly": "YYYY-Qn, e.g. 2026-Q1", "annually": "YYYY, e.g. 2026"}


def parse_period(frequency: str, text: str) -> str:
    """The canonical label of a period written ``text``; ValueError explains what is wrong."""
    text = (text or "").strip()
    pattern = {"monthly": _MONTHLY, "quarterly": _QUARTERLY, "annually": _ANNUAL}[frequency]
    match = pattern.match(text)
    if not match:
        raise ValueError(f"period {text!r} is not a {frequency} period ({PERIOD_HINTS[frequency]})")
    year = int(match.group(1))
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise ValueError(f"period {text!r} is not between {EARLIEST_YEAR} and {LATEST_YEAR}")
    if frequency == "monthly":
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"period {text!r} has no month {month}")
        return f"{year}-{month:02d}"
    if frequency == "quarterly":
        return f"{year}-Q{match.group(2)}"
    return str(year)


def period_bounds(frequency: str, label: str) -> tuple[date, date]:
    """First and last day of a canonical period label."""
    if frequency == "monthly":
        year, month = (int(p) for p in label.split("-"))
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if frequency == "quarterly":
        year, quarter = int(label[:4]), int(label[-1])
        first = 3 * quarter - 2
        last = first + 2
        return date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])
    year = int(label)
    return date(year, 1, 1), date(year, 12, 31)


def period_of(frequency: str, day: date) -> str:
    if frequency == "monthly":
        return f"{day.year}-{day.month:02d}"
    if frequency == "quarterly":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def previous_periods(frequency: str, day: date, count: int) -> list[str]:
    """The ``count`` periods that ended before the one containing ``day``, oldest first."""
    labels = []
    start, _ = period_bounds(frequency, period_of(frequency, day))
    for _ in range(count):
        label = period_of(frequency, start - timedelta(days=1))
        labels.append(label)
        start, _ = period_bounds(frequency, label)
    return labels[::-1]


def due_periods(frequency: str, collect_from: date, today: date) -> list[str]:
    """Periods whose reading is due by ``today``: from the one holding ``collect_from``, each
    period whose last day is past."""
    labels: list[str] = []
    label = period_of(frequency, collect_from)
    while True:
        start, end = period_bounds(frequency, label)
        if end >= today:
            return labels
        labels.append(label)
        label = period_of(frequency, end + timedelta(days=1))


def period_problem(frequency: str, collect_from: date, label: str, today: date) -> str | None:
    """Why a reading cannot be entered for the period ``label`` yet or at all, or None."""
    start, end = period_bounds(frequency, label)
    first = period_of(frequency, collect_from)
    if start < period_bounds(frequency, first)[0]:
        return f"{label} is before the metric's first period ({first}); readings are due from {first} on."
    if end >= today:
        return f"{label} has not ended yet (it ends {end:%b} {end.day}, {end.year}); enter its reading once it is over."
    return None


def period_choices(frequency: str, collect_from: date, today: date, have: set[str]) -> list[tuple[str, str]]:
    """The periods a reading may be entered for: those missing one first, oldest first, then
    those that have one (to correct), newest first. ``have``: the periods with a reading for
    every component."""
    periods = due_periods(frequency, collect_from, today)
    missing = [p for p in periods if p not in have]
    done = [p for p in reversed(periods) if p in have]
    return [(p, f"{p}: missing") for p in missing] + [(p, f"{p}: has a reading (enter to correct)") for p in done]


# --- values and targets ---------------------------------------------------------


def parse_number(text: str) -> Decimal:
    """A finite decimal number; thousands separators are allowed. ValueError otherwise."""
    cleaned = (text or "").strip().replace(",", "").replace("_", "")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text.strip()!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{text.strip()!r} is not a number")
    if abs(number) >= MAX_ABS_VALUE:
        raise ValueError(f"{text.strip()!r} is too large")
    return number


def data_quality_value(kind: str, numerator: Decimal, denominator: Decimal) -> Decimal:
    """The percentage a data-quality reading stands for, from its two inputs."""
    if denominator <= 0:
        raise ValueError("the number expected, due or sampled must be more than zero")
    if numerator < 0:
        raise ValueError("counts cannot be negative")
    if numerator > denominator:
        raise ValueError("the first count cannot exceed the second")
    share = numerator / denominator * HUNDRED
    if kind == "accuracy":  # discrepancies found among the sampled records
        share = HUNDRED - share
    return share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class ParsedValue:
    value: Decimal
    numerator: Decimal | None = None
    denominator: Decimal | None = None


def parse_value(kind: str, text: str) -> ParsedValue:
    """A reading's value as written in a CSV cell. A data-quality metric also takes
    "numerator/denominator" (e.g. "940/1000"), from which the percentage is computed."""
    if kind in DATA_QUALITY_KINDS and "/" in (text or ""):
        top, _, bottom = text.partition("/")
        numerator, denominator = parse_number(top), parse_number(bottom)
        return ParsedValue(data_quality_value(kind, numerator, denominator), numerator, denominator)
    value = parse_number(text)
    if kind in DATA_QUALITY_KINDS and not 0 <= value <= 100:
        raise ValueError(f"{text.strip()!r} is not a percentage between 0 and 100")
    return ParsedValue(value)


def is_off_target(value: Decimal, target: Decimal, direction: str) -> bool:
    return value < target if direction == "higher" else value > target


def normalise_definition(metric: Metric) -> None:
    """Data-quality measures are percentages whose good direction their kind fixes."""
    if metric.kind in DATA_QUALITY_KINDS:
        metric.unit = "%"
        metric.direction = DATA_QUALITY_DIRECTION[metric.kind]


def parse_components(text: str) -> list[str]:
    """Component codes from "ICE, CBP, ICE/Houston"; ValueError names an unknown one."""
    result = []
    for part in (text or "").split(","):
        code = part.strip()
        if not code:
            continue
        agency, _, field_office = code.partition("/")
        agency = agency.strip().upper()
        if agency not in COMPONENTS:
            raise ValueError(
                f"unknown component {code!r}: use {', '.join(COMPONENTS)}, or a field office written like ICE/Houston"
            )
        code = f"{agency}/{field_office.strip()}" if field_office.strip() else agency
        if len(code) > 60:
            raise ValueError(f"component {code[:20]!r}… is longer than 60 characters")
        if code not in result:
            result.append(code)
    if not result:
        raise ValueError("name at least one component")
    return result


# --- flags: the decision --------------------------------------------------------


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


def sync_flags(metric: Metric, today: date, actor=None) -> list[Flag]:
    """Make the stored flags of ``metric`` agree with ``decide_flags``; returns those raised."""
    readings = db.session.scalars(sa.select(Reading).where(Reading.metric_id == metric.id)).all()
    stored = {
        (f.component, f.period, f.kind): f
        for f in db.session.scalars(sa.select(Flag).where(Flag.metric_id == metric.id)).all()
    }
    wanted = decide_flags(metric, readings, today)
    rec_id = metric.line_of_effort.recommendation_id
    raised = []
    for key, d in wanted.items():
        flag = stored.get(key)
        if flag is None:
            flag = Flag(
                metric=metric,
                component=d.component,
                period=d.period,
                period_end=d.period_end,
                kind=d.kind,
                value=d.value,
                target_value=d.target_value,
                status="open",
            )
            db.session.add(flag)
            db.session.flush()
            audit.record("metric.flag.raise", flag, after=_flag_snapshot(flag), recommendation_id=rec_id, actor=actor)
            notify.flag_raised(flag, actor, "raised")
            raised.append(flag)
        elif flag.status == "cleared":
            before = _flag_snapshot(flag)
            flag.status, flag.closed_at = "open", None
            flag.value, flag.target_value = d.value, d.target_value
            event = audit.record(
                "metric.flag.reopen",
                flag,
                before=before,
                after=_flag_snapshot(flag),
                recommendation_id=rec_id,
                actor=actor,
            )
            notify.flag_raised(flag, actor, f"reopened-{event.id}")
            raised.append(flag)
        elif flag.status == "open" and (flag.value, flag.target_value) != (d.value, d.target_value):
            before = _flag_snapshot(flag)
            flag.value, flag.target_value = d.value, d.target_value
            audit.record(
                "metric.flag.update",
                flag,
                before=before,
                after=_flag_snapshot(flag),
                recommendation_id=rec_id,
                actor=actor,
            )
    for key, flag in stored.items():
        if key not in wanted and flag.status == "open":
            before = _flag_snapshot(flag)
            flag.status, flag.closed_at = "cleared", utcnow()
            audit.record(
                "metric.flag.clear",
                flag,
                before=before,
                after=_flag_snapshot(flag),
                recommendation_id=rec_id,
                actor=actor,
            )
    db.session.flush()
    return raised


def check_all(today: date) -> int:
    """Bring every metric's flags up to date (for the scheduler); returns how many were raised."""
    metrics = db.session.scalars(sa.select(Metric).options(joinedload(Metric.line_of_effort))).all()
    return sum(len(sync_flags(m, today)) for m in metrics)


def _flag_snapshot(flag: Flag) -> dict:
    return {
        "metric_id": flag.metric_id,
        "component": flag.component,
        "period": flag.period,
        "kind": flag.kind,
        "status": flag.status,
        "value": flag.value,
        "target": flag.target_value,
    }


# --- definitions -----------------------------------------------------------------

DEFINITION_FIELDS = (
    "name",
    "description",
    "kind",
    "unit",
    "direction",
    "baseline_value",
    "baseline_period",
    "target_value",
    "target_on",
    "frequency",
    "components",
    "data_source",
    "collect_from",
    "line_of_effort_id",
)


def create_metric(line: LineOfEffort, data: dict, today: date, *, sync: bool = True) -> Metric:
    metric = Metric(line_of_effort=line, **data)
    normalise_definition(metric)
    db.session.add(metric)
    db.session.flush()
    audit.record(
        "metric.create",
        metric,
        after=audit.snapshot(metric, DEFINITION_FIELDS),
        recommendation_id=line.recommendation_id,
    )
    if sync:
        sync_flags(metric, today)
    return metric


TARGET_FIELDS = ("target_value", "target_on")
#: How the edit form and the conflict page name a metric's fields.
DEFINITION_LABELS = {
    "name": "Name",
    "description": "Description",
    "kind": "Kind",
    "unit": "Unit",
    "direction": "Direction",
    "baseline_value": "Baseline value",
    "baseline_period": "Baseline period",
    "target_value": "Target value",
    "target_on": "Target date",
    "frequency": "Collection frequency",
    "components": "Components",
    "data_source": "Data source",
    "collect_from": "Collect readings from",
    "line_of_effort_id": "Line of effort",
}


def update_metric(
    metric: Metric, data: dict, today: date, *, justification: str = "", actor=None
) -> TargetChange | None:
    """Save the definition. A new target goes through ``change_target`` (returned): after the
    plan is accepted, the office's change waits for a manager."""
    actor = actor or current_user
    target = {name: data.pop(name) for name in TARGET_FIELDS if name in data}
    change = None
    if target and (target.get("target_value", metric.target_value), target.get("target_on", metric.target_on)) != (
        metric.target_value,
        metric.target_on,
    ):
        change = change_target(
            metric,
            target.get("target_value", metric.target_value),
            target.get("target_on", metric.target_on),
            justification,
            today,
            actor=actor,
        )
    before = audit.snapshot(metric, DEFINITION_FIELDS)
    for name, value in data.items():
        setattr(metric, name, value)
    normalise_definition(metric)
    after = audit.snapshot(metric, DEFINITION_FIELDS)
    if after == before:
        return change
    db.session.flush()
    audit.record(
        "metric.update", metric, before=before, after=after, recommendation_id=metric.line_of_effort.recommendation_id
    )
    sync_flags(metric, today)
    return change


def pending_target_change(metric: Metric) -> TargetChange | None:
    return next((c for c in metric.target_changes if c.status == "pending"), None)


def change_target(
    metric: Metric, value: Decimal, target_on: date | None, justification: str, today: date, *, actor
) -> TargetChange:
    """Before the plan is accepted the target moves at once, as does OIG's or an administrator's
    change; after, the action office's change is a request a manager approves or declines."""
    recommendation = metric.line_of_effort.recommendation
    if pending_target_change(metric):
        abort(409, "A target change for this metric already awaits a manager's decision.")
    accepted = plan_accepted(recommendation)
    pending = accepted and actor.role == "action_office"
    change = TargetChange(
        metric=metric,
        old_target_value=metric.target_value,
        new_target_value=value,
        old_target_on=metric.target_on,
        new_target_on=target_on,
        justification=justification,
        requested_by_id=actor.id,
        status="pending" if pending else "applied",
    )
    db.session.add(change)
    before = audit.snapshot(metric, DEFINITION_FIELDS)
    if pending:
        versioning.touch(metric)  # a stale request is refused like any other edit
        db.session.flush()
        audit.record(
            "metric.target_request",
            metric,
            before={"target_value": metric.target_value, "target_on": metric.target_on},
            after={
                "requested_target_value": value,
                "requested_target_on": target_on,
                "justification": justification,
                "change_id": change.id,
            },
            recommendation_id=recommendation.id,
            actor=actor,
        )
        return change
    metric.target_value, metric.target_on = value, target_on
    db.session.flush()
    audit.record(
        "metric.target_change",
        metric,
        before=before,
        after={**audit.snapshot(metric, DEFINITION_FIELDS), "justification": justification, "change_id": change.id},
        recommendation_id=recommendation.id,
        actor=actor,
    )
    sync_flags(metric, today, actor=actor)
    return change


def get_target_change_or_404(change_id: int, *, for_decision: bool = False) -> TargetChange:
    change = db.session.get(TargetChange, change_id)
    if change is None:
        abort(404)
    require_view_recommendation(change.metric.line_of_effort.recommendation)
    if for_decision:
        require_decide_target_change(change)
    return change


def decide_target_change(change: TargetChange, *, approve: bool, reason: str, today: date, actor) -> None:
    if change.status != "pending":
        abort(409, "This request was already decided.")
    metric = change.metric
    change.status = "approved" if approve else "declined"
    change.decided_by_id, change.decided_at, change.decision_reason = actor.id, utcnow(), reason
    before = audit.snapshot(metric, DEFINITION_FIELDS)
    if approve:
        metric.target_value, metric.target_on = change.new_target_value, change.new_target_on
    else:
        versioning.touch(metric)
    db.session.flush()
    audit.record(
        "metric.target_approve" if approve else "metric.target_decline",
        metric,
        before=before,
        after={**audit.snapshot(metric, DEFINITION_FIELDS), "decision_reason": reason, "change_id": change.id},
        recommendation_id=metric.line_of_effort.recommendation_id,
        actor=actor,
    )
    if approve:
        # The improvement action that asked for this target is done once the target moved.
        for action in db.session.scalars(
            sa.select(ImprovementAction)
            .join(ImprovementAction.flag)
            .where(
                Flag.metric_id == metric.id,
                ImprovementAction.decision == "adjust_target",
                ImprovementAction.status == "open",
                ImprovementAction.new_target_value == change.new_target_value,
            )
        ):
            action.status, action.done_at = "done", utcnow()
        sync_flags(metric, today, actor=actor)


def target_decisions_awaiting(user) -> list[TargetChange]:
    """Pending target changes a manager may decide (My work)."""
    if user.role != "manager" or user.office_id is None:
        return []
    changes = db.session.scalars(
        sa.select(TargetChange)
        .where(TargetChange.status == "pending")
        .join(TargetChange.metric)
        .join(Metric.line_of_effort)
        .join(LineOfEffort.recommendation)
        .where(Recommendation.action_office_id == user.office_id)
        .options(
            joinedload(TargetChange.metric).joinedload(Metric.line_of_effort).joinedload(LineOfEffort.recommendation),
            joinedload(TargetChange.requested_by),
        )
        .order_by(TargetChange.requested_at)
    ).all()
    return [c for c in changes if c.requested_by_id != user.id]


# --- readings ------------------------------------------------------------------------

READING_FIELDS = ("period", "component", "value", "numerator", "denominator", "note")
#: What ``save_reading()`` did; the API answers with it (and documents these values).
READING_OUTCOMES = ("created", "corrected", "unchanged")


def save_reading(
    metric: Metric, period: str, component: str, parsed: ParsedValue, note: str, actor=None
) -> tuple[Reading, str]:
    """Record a reading, or correct the one already there (its earlier value goes to history).

    Returns the reading and "created", "corrected" or "unchanged". The caller syncs flags.
    """
    rec_id = metric.line_of_effort.recommendation_id
    reading = db.session.scalar(
        sa.select(Reading).where(
            Reading.metric_id == metric.id, Reading.period == period, Reading.component == component
        )
    )
    if reading is None:
        reading = Reading(
            metric=metric,
            period=period,
            component=component,
            period_end=period_bounds(metric.frequency, period)[1],
            value=parsed.value,
            numerator=parsed.numerator,
            denominator=parsed.denominator,
            note=note or "",
            entered_by_id=actor.id if actor else None,
            entered_at=utcnow(),
        )
        db.session.add(reading)
        db.session.flush()
        audit.record(
            "metric.reading.create",
            reading,
            after=audit.snapshot(reading, READING_FIELDS),
            recommendation_id=rec_id,
            actor=actor,
        )
        return reading, "created"
    before = audit.snapshot(reading, READING_FIELDS)
    new = (parsed.value, parsed.numerator, parsed.denominator, note or "")
    if (reading.value, reading.numerator, reading.denominator, reading.note) == new:
        return reading, "unchanged"
    db.session.add(
        ReadingRevision(
            reading=reading,
            value=reading.value,
            numerator=reading.numerator,
            denominator=reading.denominator,
            note=reading.note,
            entered_by_id=reading.entered_by_id,
            entered_at=reading.entered_at,
        )
    )
    reading.value, reading.numerator, reading.denominator, reading.note = new
    reading.entered_by_id = actor.id if actor else None
    reading.entered_at = utcnow()
    db.session.flush()
    audit.record(
        "metric.reading.correct",
        reading,
        before=before,
        after=audit.snapshot(reading, READING_FIELDS),
        recommendation_id=rec_id,
        actor=actor,
    )
    return reading, "corrected"


# --- CSV import ------------------------------------------------------------------------


@dataclass
class ImportRow:
    line: int
    metric: Metric
    period: str
    component: str
    parsed: ParsedValue
    note: str


@dataclass
class ImportCheck:
    rows: list[ImportRow] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def check_csv(content: bytes | str, metrics: list[Metric]) -> ImportCheck:
    """Validate a whole CSV file (``period,component,metric,value,note``) against ``metrics``.

    Pure: reads nothing from the database. Every problem is reported with its line number
    (the header is line 1); the file is importable only when there is none.
    """
    check = ImportCheck()
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            check.problems.append((0, "the file is not UTF-8 text (save it as CSV UTF-8)"))
            return check
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff"), newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        check.problems.append((1, f"not a readable CSV file: {error}"))
        return check
    if header is None:
        check.problems.append((0, "the file is empty"))
        return check
    for number, name in enumerate(header, start=1):
        message = control_character_message(f"the name of column {number}", name)
        if message:
            check.problems.append((1, message))
            return check
    columns = [h.strip().lower() for h in header]
    missing = [c for c in CSV_COLUMNS[:4] if c not in columns]
    if missing:
        check.problems.append(
            (1, f"the header must name the columns {','.join(CSV_COLUMNS)}; missing: {', '.join(missing)}")
        )
        return check
    index = {name: columns.index(name) for name in CSV_COLUMNS if name in columns}
    by_id = {str(m.id): m for m in metrics}
    by_name: dict[str, list[Metric]] = {}
    for m in metrics:
        by_name.setdefault(m.name.strip().lower(), []).append(m)
    seen: dict[tuple[int, str, str], int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < len(columns):
                row = row + [""] * (len(columns) - len(row))

            def cell(name, row=row):
                return row[index[name]].strip() if name in index else ""

            problems = [
                message
                for number, text in enumerate(row)
                if (
                    message := control_character_message(
                        columns[number] if number < len(columns) else f"column {number + 1}",
                        text,
                        multiline=number < len(columns) and columns[number] == "note",
                    )
                )
            ]
            metric_text = cell("metric")
            metric = by_id.get(metric_text.lstrip("#"))
            if metric is None:
                matches = by_name.get(metric_text.lower(), [])
                if len(matches) > 1:
                    problems.append(f"metric {metric_text!r} names several metrics: use its number")
                elif matches:
                    metric = matches[0]
                else:
                    problems.append(f"unknown metric {metric_text!r}")
            component = cell("component")
            period = None
            parsed = None
            if metric is not None:
                known = {c.upper(): c for c in metric.component_list}
                if component.upper() not in known:
                    problems.append(
                        f"unknown component {component!r} for metric {metric.name!r} "
                        f"(expected one of {', '.join(metric.component_list)})"
                    )
                else:
                    component = known[component.upper()]
                try:
                    period = parse_period(metric.frequency, cell("period"))
                except ValueError as error:
                    problems.append(str(error))
                try:
                    parsed = parse_value(metric.kind, cell("value"))
                except ValueError as error:
                    problems.append(f"value: {error}")
            if not problems:
                assert metric is not None and period is not None  # no problems: both were found
                key = (metric.id, period, component)
                if key in seen:
                    problems.append(f"the same metric, period and component as line {seen[key]}")
                seen[key] = line
            for problem in problems:
                check.problems.append((line, problem))
            if not problems:
                assert metric is not None and period is not None and parsed is not None  # no problems
                check.rows.append(ImportRow(line, metric, period, component, parsed, cell("note")[:2000]))
    except csv.Error as error:
        check.problems.append((reader.line_num, f"not a readable CSV row: {error}"))
    if not check.rows and not check.problems:
        check.problems.append((0, "the file has no rows to import"))
    return check


def apply_import(check: ImportCheck, today: date, actor=None) -> dict[str, int]:
    """Save every row of a checked file (all or nothing: the caller commits once)."""
    if not check.ok:
        raise ValueError("the file has problems; nothing may be imported")
    counts = {"created": 0, "corrected": 0, "unchanged": 0}
    touched = {}
    for row in check.rows:
        _, outcome = save_reading(row.metric, row.period, row.component, row.parsed, row.note, actor)
        counts[outcome] += 1
        touched[row.metric.id] = row.metric
    for metric in touched.values():
        sync_flags(metric, today, actor=actor)
    return counts


def metrics_in_scope(recommendation_id: int | None = None) -> list[Metric]:
    query = sa.select(Metric).options(joinedload(Metric.line_of_effort)).order_by(Metric.id)
    if recommendation_id is not None:
        query = query.join(Metric.line_of_effort).where(LineOfEffort.recommendation_id == recommendation_id)
    return list(db.session.scalars(query).unique())


# --- improvement actions ---------------------------------------------------------------

ACTION_FIELDS = (
    "flag_id",
    "decision",
    "owner_id",
    "reason",
    "milestone_id",
    "old_target_value",
    "new_target_value",
    "status",
)


def take_action(
    flag: Flag,
    decision: str,
    owner,
    reason: str,
    today: date,
    *,
    actor,
    new_target: Decimal | None = None,
    milestone_title: str = "",
    milestone_due: date | None = None,
    milestone: Milestone | None = None,
) -> ImprovementAction:
    """Answer a flag. "Add a milestone" creates it on the metric's line of effort, linked back."""
    metric = flag.metric
    line = metric.line_of_effort
    rec_id = line.recommendation_id
    action = ImprovementAction(
        flag=flag,
        decision=decision,
        owner_id=owner.id,
        reason=reason,
        created_by_id=actor.id if actor else None,
        status="open",
    )
    db.session.add(action)
    target_change = None
    if decision == "adjust_target":
        if new_target is None:  # the action form requires it with this decision
            raise ValueError("adjust_target needs new_target")
        # The same road as the metric's edit form: after acceptance, a manager approves it.
        action.old_target_value, action.new_target_value = metric.target_value, new_target
        target_change = change_target(metric, new_target, metric.target_on, reason, today, actor=actor)
    elif decision == "add_milestone":
        milestone = Milestone(
            line_of_effort=line,
            title=milestone_title,
            owner_id=owner.id,
            office_id=line.recommendation.action_office_id,
            start_on=today,
            baseline_due_on=milestone_due,
            current_due_on=milestone_due,
            description=f"Added to answer the flag on {metric.name} ({flag.component}, {flag.period}): {reason}",
        )
        db.session.add(milestone)
        db.session.flush()
        audit.record(
            "milestone.create",
            milestone,
            after={
                "title": milestone.title,
                "line_of_effort_id": line.id,
                "current_due_on": milestone_due,
                "owner_id": owner.id,
                "flag_id": flag.id,
            },
            recommendation_id=rec_id,
            actor=actor,
        )
        action.milestone_id = milestone.id
    elif decision == "change_milestone":
        assert milestone is not None  # the form requires one for this decision
        action.milestone_id = milestone.id
    if decision == "accept" or (target_change is not None and target_change.status == "applied"):
        action.status, action.done_at = "done", utcnow()
    db.session.flush()
    audit.record(
        "metric.action.create",
        action,
        after=audit.snapshot(action, ACTION_FIELDS),
        recommendation_id=rec_id,
        actor=actor,
    )
    before = _flag_snapshot(flag)
    flag.status, flag.closed_at = "answered", utcnow()
    audit.record(
        "metric.flag.answer", flag, before=before, after=_flag_snapshot(flag), recommendation_id=rec_id, actor=actor
    )
    return action


def complete_action(action: ImprovementAction, actor) -> None:
    if action.status == "done":
        abort(409, "This improvement action is already done.")
    before = audit.snapshot(action, ACTION_FIELDS)
    action.status, action.done_at = "done", utcnow()
    audit.record(
        "metric.action.done",
        action,
        before=before,
        after=audit.snapshot(action, ACTION_FIELDS),
        recommendation_id=action.flag.metric.line_of_effort.recommendation_id,
        actor=actor,
    )


def next_reading_after(flag: Flag, readings) -> Reading | None:
    """The first reading of the flag's metric and component after the flagged period."""
    later = [
        r
        for r in readings
        if r.metric_id == flag.metric_id and r.component == flag.component and r.period_end > flag.period_end
    ]
    return min(later, key=lambda r: r.period_end) if later else None


@dataclass
class Outcome:
    """What the next reading says about an answered flag: did the action work?"""

    reading: Reading | None
    worked: bool | None = None


def outcomes_of(flags, readings, metrics_by_id: dict) -> dict[int, Outcome]:
    result = {}
    for flag in flags:
        if flag.status != "answered":
            continue
        reading = next_reading_after(flag, readings)
        metric = metrics_by_id[flag.metric_id]
        worked = None if reading is None else not is_off_target(reading.value, metric.target_value, metric.direction)
        result[flag.id] = Outcome(reading, worked)
    return result


# --- charts ---------------------------------------------------------------------------


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


# --- loading, then authorising ------------------------------------------------------------


def get_metric_or_404(metric_id: int, *, for_edit: bool = False) -> Metric:
    metric = db.session.scalar(
        sa.select(Metric)
        .where(Metric.id == metric_id)
        .options(joinedload(Metric.line_of_effort).joinedload(LineOfEffort.recommendation))
    )
    if metric is None:
        abort(404)
    recommendation = metric.line_of_effort.recommendation
    require_view_recommendation(recommendation)
    if for_edit:
        require_edit_metrics(recommendation)
    return metric


def get_flag_or_404(flag_id: int, *, for_edit: bool = False) -> Flag:
    flag = db.session.scalar(
        sa.select(Flag)
        .where(Flag.id == flag_id)
        .options(joinedload(Flag.metric).joinedload(Metric.line_of_effort).joinedload(LineOfEffort.recommendation))
    )
    if flag is None:
        abort(404)
    recommendation = flag.metric.line_of_effort.recommendation
    require_view_recommendation(recommendation)
    if for_edit:
        require_edit_metrics(recommendation)
    return flag


def get_action_or_404(action_id: int, *, for_edit: bool = False) -> ImprovementAction:
    action = db.session.scalar(
        sa.select(ImprovementAction)
        .where(ImprovementAction.id == action_id)
        .options(
            joinedload(ImprovementAction.flag)
            .joinedload(Flag.metric)
            .joinedload(Metric.line_of_effort)
            .joinedload(LineOfEffort.recommendation)
        )
    )
    if action is None:
        abort(404)
    recommendation = action.flag.metric.line_of_effort.recommendation
    require_view_recommendation(recommendation)
    if for_edit:
        require_edit_metrics(recommendation)
    return action


def get_loop_recommendation_or_404(recommendation_id: int) -> Recommendation:
    """The recommendation with its lines of effort and their milestones (no owners: the loop
    page names none), authorised for reading."""
    recommendation = db.session.scalar(
        sa.select(Recommendation)
        .where(Recommendation.id == recommendation_id)
        .options(selectinload(Recommendation.lines_of_effort).selectinload(LineOfEffort.milestones))
    )
    if recommendation is None:
        abort(404)
    require_view_recommendation(recommendation)
    return recommendation


def metric_results(recommendation_id: int) -> list[dict]:
    """Each metric of the plan with its latest reading per component, against its target."""
    metrics = metrics_in_scope(recommendation_id)
    if not metrics:
        return []
    latest: dict[tuple[int, str], Reading] = {}
    for each in db.session.scalars(
        sa.select(Reading).where(Reading.metric_id.in_([m.id for m in metrics])).order_by(Reading.period_end)
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
