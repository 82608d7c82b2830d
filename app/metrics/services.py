"""Metric changes every path shares: readings saved (the form, the CSV import and the API alike)
and the stored flags kept in step with ``flags.decide_flags``; loading metrics, then authorising."""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from app import audit
from app.dbtypes import Taken, unique_or_taken
from app.extensions import db
from app.metrics.flags import decide_flags
from app.metrics.models import Flag, ImprovementAction, Metric, Reading, ReadingRevision
from app.metrics.periods import period_bounds
from app.metrics.values import ParsedValue
from app.notifications import services as notify
from app.permissions import authorise
from app.recommendations.models import LineOfEffort, Recommendation
from app.timeutil import utcnow


def sync_flags(metric: Metric, today: date, actor=None) -> list[Flag]:
    """Make the stored flags of ``metric`` agree with ``decide_flags``; returns those raised."""
    readings = db.session.scalars(
        sa.select(Reading)
        .where(Reading.metric_id == metric.id)
        .order_by(Reading.period_end, Reading.component, Reading.id)
    ).all()
    stored = stored_flags(metric)
    wanted = decide_flags(metric, readings, today)
    rec_id = metric.line_of_effort.recommendation_id
    raised = []
    for key, d in wanted.items():
        flag = stored.get(key)
        if flag is None:
            try:
                with unique_or_taken():
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
            except Taken:
                # Raised by a request (or the scheduler's check) that committed since ``stored``
                # was read: that one audited it and told whom to tell.
                continue
            audit.record("metric.flag.raise", flag, after=flag_snapshot(flag), recommendation_id=rec_id, actor=actor)
            notify.flag_raised(flag, actor, "raised")
            raised.append(flag)
        elif flag.status == "cleared":
            before = flag_snapshot(flag)
            flag.status, flag.closed_at = "open", None
            flag.value, flag.target_value = d.value, d.target_value
            event = audit.record(
                "metric.flag.reopen",
                flag,
                before=before,
                after=flag_snapshot(flag),
                recommendation_id=rec_id,
                actor=actor,
            )
            notify.flag_raised(flag, actor, f"reopened-{event.id}")
            raised.append(flag)
        elif flag.status == "open" and (flag.value, flag.target_value) != (d.value, d.target_value):
            before = flag_snapshot(flag)
            flag.value, flag.target_value = d.value, d.target_value
            audit.record(
                "metric.flag.update",
                flag,
                before=before,
                after=flag_snapshot(flag),
                recommendation_id=rec_id,
                actor=actor,
            )
    for key, flag in stored.items():
        if key not in wanted and flag.status == "open":
            before = flag_snapshot(flag)
            flag.status, flag.closed_at = "cleared", utcnow()
            audit.record(
                "metric.flag.clear",
                flag,
                before=before,
                after=flag_snapshot(flag),
                recommendation_id=rec_id,
                actor=actor,
            )
    db.session.flush()
    return raised


def stored_flags(metric: Metric) -> dict[tuple[str, str, str], Flag]:
    """The flags of ``metric`` by their unique key (component, period, kind)."""
    flags = db.session.scalars(sa.select(Flag).where(Flag.metric_id == metric.id).order_by(Flag.id))
    return {(f.component, f.period, f.kind): f for f in flags}


def check_all(today: date) -> int:
    """Bring every metric's flags up to date (for the scheduler); returns how many were raised."""
    metrics = db.session.scalars(sa.select(Metric).options(joinedload(Metric.line_of_effort)).order_by(Metric.id)).all()
    return sum(len(sync_flags(m, today)) for m in metrics)


def flag_snapshot(flag: Flag) -> dict:
    return {
        "metric_id": flag.metric_id,
        "component": flag.component,
        "period": flag.period,
        "kind": flag.kind,
        "status": flag.status,
        "value": flag.value,
        "target": flag.target_value,
    }


# --- readings ------------------------------------------------------------------------

READING_FIELDS = ("period", "component", "value", "numerator", "denominator", "note")
#: What ``save_reading()`` did; the API answers with it (and documents these values).
READING_OUTCOMES = ("created", "corrected", "unchanged")


class ReadingTaken(Taken):
    """Another request stored the reading of this metric, period and component at the same
    moment; its text says so in the words of ``reading_rules``' other refusals."""

    #: The line of a CSV file the reading came from, set by the import.
    line: int = 0

    @property
    def problem(self) -> str:
        return str(self.args[0])


def reading_taken_problem(period: str, component: str) -> str:
    return (
        f"a reading for {period} {component} was stored by someone else at the same moment; "
        "read it, then give its version to correct it"
    )


def stored_reading(metric: Metric, period: str, component: str) -> Reading | None:
    return db.session.scalar(
        sa.select(Reading).where(
            Reading.metric_id == metric.id, Reading.period == period, Reading.component == component
        )
    )


def save_reading(
    metric: Metric, period: str, component: str, parsed: ParsedValue, note: str, actor=None
) -> tuple[Reading, str]:
    """Record a reading, or correct the one already there (its earlier value goes to history).

    Returns the reading and "created", "corrected" or "unchanged". The caller syncs flags.
    Raises ``ReadingTaken`` when another request stored the reading since this one looked.
    """
    rec_id = metric.line_of_effort.recommendation_id
    reading = stored_reading(metric, period, component)
    if reading is None:
        try:
            with unique_or_taken():
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
        except Taken as taken:
            raise ReadingTaken(reading_taken_problem(period, component)) from taken
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


def metrics_in_scope(recommendation_id: int | None = None) -> list[Metric]:
    query = sa.select(Metric).options(joinedload(Metric.line_of_effort)).order_by(Metric.id)
    if recommendation_id is not None:
        query = query.join(Metric.line_of_effort).where(LineOfEffort.recommendation_id == recommendation_id)
    return list(db.session.scalars(query).unique())


# --- loading, then authorising ------------------------------------------------------------


def get_metric_or_404(metric_id: int, *, for_edit: bool = False) -> Metric:
    metric = db.session.scalar(
        sa.select(Metric)
        .where(Metric.id == metric_id)
        .options(joinedload(Metric.line_of_effort).joinedload(LineOfEffort.recommendation))
    )
    return authorise(metric, "edit_metrics" if for_edit else "view")


def get_flag_or_404(flag_id: int, *, for_edit: bool = False) -> Flag:
    flag = db.session.scalar(
        sa.select(Flag)
        .where(Flag.id == flag_id)
        .options(joinedload(Flag.metric).joinedload(Metric.line_of_effort).joinedload(LineOfEffort.recommendation))
    )
    return authorise(flag, "edit_metrics" if for_edit else "view")


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
    return authorise(action, "edit_metrics" if for_edit else "view")


def get_loop_recommendation_or_404(recommendation_id: int) -> Recommendation:
    """The recommendation with its lines of effort and their milestones (no owners: the loop
    page names none), authorised for reading."""
    recommendation = db.session.scalar(
        sa.select(Recommendation)
        .where(Recommendation.id == recommendation_id)
        .options(selectinload(Recommendation.lines_of_effort).selectinload(LineOfEffort.milestones))
    )
    return authorise(recommendation)
