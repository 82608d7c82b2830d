"""The feedback loop made of data: metrics (plan), readings (monitor), flags and
improvement actions (improve). Milestones (implement) live in app/milestones."""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.approvals import APPROVAL_STATUSES, ApprovalRequest, one_pending_index
from app.dbtypes import UTCDateTime, enum
from app.extensions import db
from app.timeutil import utcnow

FREQUENCIES = ("monthly", "quarterly", "annually")
FREQUENCY_LABELS = {"monthly": "Monthly", "quarterly": "Quarterly", "annually": "Annually"}
DIRECTIONS = ("higher", "lower")
DIRECTION_LABELS = {"higher": "Higher is better", "lower": "Lower is better"}

#: ``outcome`` measures results; the other kinds measure the quality of the data itself.
METRIC_KINDS = ("outcome", "completeness", "timeliness", "accuracy", "duplicates")
DATA_QUALITY_KINDS = METRIC_KINDS[1:]
METRIC_KIND_LABELS = {
    "outcome": "Outcome",
    "completeness": "Completeness",
    "timeliness": "Timeliness",
    "accuracy": "Accuracy",
    "duplicates": "Duplicates",
}
#: The two inputs a data-quality reading is made of: (numerator label, denominator label).
DATA_QUALITY_INPUTS = {
    "completeness": ("Records or required fields received", "Records or fields expected"),
    "timeliness": ("Submissions received by their due date", "Submissions due"),
    "accuracy": ("Sampled records with a discrepancy", "Records sampled and verified"),
    "duplicates": ("Records counting a person already counted", "Records received"),
}
#: Data-quality measures are percentages whose good direction is fixed by their kind.
DATA_QUALITY_DIRECTION = {"completeness": "higher", "timeliness": "higher", "accuracy": "higher", "duplicates": "lower"}

#: Components a metric may be broken down by; a field office is written "ICE/Houston".
COMPONENTS = ("DHS", "ICE", "CBP", "USCIS")

FLAG_KINDS = ("off_target", "missing")
FLAG_KIND_LABELS = {"off_target": "Off target", "missing": "Missing"}
#: open: waiting for an answer; answered: an improvement action was taken;
#: cleared: the condition went away by itself (a reading arrived or was corrected).
FLAG_STATUSES = ("open", "answered", "cleared")
FLAG_STATUS_LABELS = {"open": "Open", "answered": "Answered", "cleared": "Cleared"}

DECISIONS = ("adjust_target", "add_milestone", "change_milestone", "fix_data_source", "accept")
DECISION_LABELS = {
    "adjust_target": "Adjust the target",
    "add_milestone": "Add a milestone",
    "change_milestone": "Change a milestone",
    "fix_data_source": "Fix the data source",
    "accept": "Accept as is",
}
ACTION_STATUSES = ("open", "done")

NUMBER = sa.Numeric(18, 4)


class Metric(db.Model):
    __tablename__ = "metrics"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_of_effort_id: Mapped[int] = mapped_column(sa.ForeignKey("lines_of_effort.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    kind: Mapped[str] = mapped_column(enum(*METRIC_KINDS, name="metric_kind"), default="outcome")
    unit: Mapped[str] = mapped_column(sa.String(60), default="")
    direction: Mapped[str] = mapped_column(enum(*DIRECTIONS, name="metric_direction"), default="higher")
    baseline_value: Mapped[Decimal | None] = mapped_column(NUMBER)
    #: As the source states it ("FY2014", "2012-08-15 to 2014-09-30").
    baseline_period: Mapped[str] = mapped_column(sa.String(200), default="")
    target_value: Mapped[Decimal] = mapped_column(NUMBER)
    target_on: Mapped[date | None]
    frequency: Mapped[str] = mapped_column(enum(*FREQUENCIES, name="metric_frequency"), default="quarterly")
    #: Comma-separated component codes, e.g. "ICE,CBP,USCIS,ICE/Houston".
    components: Mapped[str] = mapped_column(sa.String(400), default="ICE,CBP,USCIS")
    data_source: Mapped[str] = mapped_column(sa.String(300), default="")
    #: Readings are due for every period from the one containing this date on.
    collect_from: Mapped[date]
    #: Optimistic lock (app/versioning.py): an edit made from an older version is refused, not merged.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    line_of_effort = relationship("LineOfEffort")
    readings = relationship(
        "Reading",
        back_populates="metric",
        passive_deletes="all",
        # With the id: after a change of frequency two periods may end on the same day ("2026-03", "2026-Q1").
        order_by="(Reading.period_end, Reading.component, Reading.id)",
    )
    flags = relationship("Flag", back_populates="metric", passive_deletes="all")
    target_changes = relationship(
        "TargetChange", back_populates="metric", passive_deletes="all", order_by="TargetChange.id.desc()"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def recommendation(self):
        """The recommendation this belongs to (permissions authorise against it)."""
        return self.line_of_effort.recommendation

    @property
    def component_list(self) -> list[str]:
        return [c for c in (part.strip() for part in self.components.split(",")) if c]

    @property
    def is_data_quality(self) -> bool:
        return self.kind in DATA_QUALITY_KINDS

    @property
    def kind_label(self) -> str:
        return METRIC_KIND_LABELS[self.kind]

    @property
    def frequency_label(self) -> str:
        return FREQUENCY_LABELS[self.frequency]

    @property
    def direction_label(self) -> str:
        return DIRECTION_LABELS[self.direction]

    def __repr__(self) -> str:
        return f"<Metric {self.id} {self.name!r}>"


class Reading(db.Model):
    __tablename__ = "metric_readings"
    __table_args__ = (
        sa.UniqueConstraint("metric_id", "period", "component", name="uq_metric_readings_metric_period_component"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    metric_id: Mapped[int] = mapped_column(sa.ForeignKey("metrics.id", ondelete="RESTRICT"), index=True)
    #: Canonical label: "2026-03", "2026-Q1" or "2026".
    period: Mapped[str] = mapped_column(sa.String(10))
    #: Last day of the period; orders readings and tells when one was due.
    period_end: Mapped[date]
    component: Mapped[str] = mapped_column(sa.String(60))
    value: Mapped[Decimal] = mapped_column(NUMBER)
    #: Data-quality inputs (see DATA_QUALITY_INPUTS); ``value`` is computed from them.
    numerator: Mapped[Decimal | None] = mapped_column(NUMBER)
    denominator: Mapped[Decimal | None] = mapped_column(NUMBER)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Optimistic lock (app/versioning.py): an edit made from an older version is refused, not merged.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    metric = relationship("Metric", back_populates="readings")
    entered_by = relationship("User")
    history = relationship(
        "ReadingRevision", back_populates="reading", passive_deletes="all", order_by="ReadingRevision.id.desc()"
    )

    __mapper_args__ = {"version_id_col": version}


class ReadingRevision(db.Model):
    """A value a reading held before it was corrected."""

    __tablename__ = "metric_reading_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    reading_id: Mapped[int] = mapped_column(sa.ForeignKey("metric_readings.id", ondelete="RESTRICT"), index=True)
    value: Mapped[Decimal] = mapped_column(NUMBER)
    numerator: Mapped[Decimal | None] = mapped_column(NUMBER)
    denominator: Mapped[Decimal | None] = mapped_column(NUMBER)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reading = relationship("Reading", back_populates="history")
    entered_by = relationship("User")


class Flag(db.Model):
    __tablename__ = "metric_flags"
    __table_args__ = (
        # One flag per condition: checking twice never raises a second one.
        sa.UniqueConstraint("metric_id", "component", "period", "kind", name="uq_metric_flags_condition"),
        sa.Index("ix_metric_flags_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    metric_id: Mapped[int] = mapped_column(sa.ForeignKey("metrics.id", ondelete="RESTRICT"), index=True)
    component: Mapped[str] = mapped_column(sa.String(60))
    period: Mapped[str] = mapped_column(sa.String(10))
    period_end: Mapped[date]
    kind: Mapped[str] = mapped_column(enum(*FLAG_KINDS, name="metric_flag_kind"))
    status: Mapped[str] = mapped_column(enum(*FLAG_STATUSES, name="metric_flag_status"), default="open")
    #: The reading and target when the flag was raised (or last updated while open).
    value: Mapped[Decimal | None] = mapped_column(NUMBER)
    target_value: Mapped[Decimal | None] = mapped_column(NUMBER)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    metric = relationship("Metric", back_populates="flags")
    actions = relationship(
        "ImprovementAction", back_populates="flag", passive_deletes="all", order_by="ImprovementAction.id"
    )

    @property
    def recommendation(self):
        """The recommendation this belongs to (permissions authorise against it)."""
        return self.metric.recommendation

    @property
    def gap(self) -> Decimal | None:
        """Reading minus target: how far off, in the metric's unit."""
        if self.value is None or self.target_value is None:
            return None
        return self.value - self.target_value

    @property
    def kind_label(self) -> str:
        return FLAG_KIND_LABELS[self.kind]

    @property
    def status_label(self) -> str:
        return FLAG_STATUS_LABELS[self.status]


class ImprovementAction(db.Model):
    __tablename__ = "improvement_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(sa.ForeignKey("metric_flags.id", ondelete="RESTRICT"), index=True)
    decision: Mapped[str] = mapped_column(enum(*DECISIONS, name="improvement_decision"))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    #: The milestone added or changed in answer to the flag.
    milestone_id: Mapped[int | None] = mapped_column(sa.ForeignKey("milestones.id", ondelete="RESTRICT"), index=True)
    #: For "adjust the target": the target before and after.
    old_target_value: Mapped[Decimal | None] = mapped_column(NUMBER)
    new_target_value: Mapped[Decimal | None] = mapped_column(NUMBER)
    status: Mapped[str] = mapped_column(
        enum(*ACTION_STATUSES, name="improvement_action_status"), default="open", index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    flag = relationship("Flag", back_populates="actions")
    owner = relationship("User", foreign_keys=[owner_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    milestone = relationship("Milestone")

    @property
    def recommendation(self):
        """The recommendation this belongs to (permissions authorise against it)."""
        return self.flag.recommendation

    @property
    def decision_label(self) -> str:
        return DECISION_LABELS[self.decision]


#: A target change is ``applied`` at once before the plan is accepted (or when OIG or an
#: administrator makes it); an action office's change after acceptance is ``pending`` until a
#: manager who did not ask for it ``approved`` or ``declined`` it (``app/approvals.py``).
TARGET_CHANGE_STATUS_LABELS = {
    "applied": "Applied",
    "pending": "Awaiting a manager's decision",
    "approved": "Approved",
    "declined": "Declined",
}


class TargetChange(ApprovalRequest, db.Model):
    """One change of a metric's target (value and date): requested, and applied or decided."""

    __tablename__ = "metric_target_changes"
    __table_args__ = (
        # The declined ones start an office's "Returned to you" queue (migration 2050).
        sa.Index("ix_metric_target_changes_status", "status", "metric_id"),
        one_pending_index("uq_metric_target_changes_one_pending", "metric_id"),
    )
    STATUS_LABELS = TARGET_CHANGE_STATUS_LABELS

    id: Mapped[int] = mapped_column(primary_key=True)
    metric_id: Mapped[int] = mapped_column(sa.ForeignKey("metrics.id", ondelete="RESTRICT"), index=True)
    old_target_value: Mapped[Decimal] = mapped_column(NUMBER)
    new_target_value: Mapped[Decimal] = mapped_column(NUMBER)
    old_target_on: Mapped[date | None]
    new_target_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(enum(*APPROVAL_STATUSES, name="target_change_status"))

    metric = relationship("Metric", back_populates="target_changes")

    @property
    def recommendation(self):
        """The recommendation this belongs to (permissions authorise against it)."""
        return self.metric.recommendation
