from dataclasses import dataclass
from typing import TYPE_CHECKING
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.approvals import APPROVAL_STATUSES, ApprovalRequest, one_pending_index
from app.dbtypes import UTCDateTime, enum, partial_index
from app.extensions import db
from app.timeutil import today, utcnow

MILESTONE_STATUSES = ("not_started", "in_progress", "completed", "cancelled")
MILESTONE_STATUS_LABELS = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "completed": "Completed",
    "cancelled": "Cancelled",
}
#: A milestone still to be done; a completed or cancelled one is closed.
OPEN_MILESTONE_STATUSES = ("not_started", "in_progress")
#: The same as the SQL of the partial indexes on open milestones.
OPEN_MILESTONE_WHERE = "status IN ('not_started', 'in_progress')"
#: A milestone still open this close to its due date, and less than half done, is at risk.
AT_RISK_WINDOW = timedelta(days=14)

milestone_dependencies = sa.Table(
    "milestone_dependencies",
    db.metadata,
    sa.Column("milestone_id", sa.ForeignKey("milestones.id", ondelete="RESTRICT"), primary_key=True),
    sa.Column("depends_on_id", sa.ForeignKey("milestones.id", ondelete="RESTRICT"), primary_key=True),
    sa.CheckConstraint("milestone_id <> depends_on_id", name="not_self"),
)


class MilestoneSchedule:
    """What a milestone's status and dates say (overdue, at risk, slipped), from its ``status``,
    ``current_due_on``, ``baseline_due_on`` and ``percent_complete``: shared by the model and
    by ``MilestoneRow``, the rows of lists read without the ORM."""

    if TYPE_CHECKING:
        status: str
        current_due_on: date
        baseline_due_on: date
        percent_complete: int

    @property
    def status_label(self) -> str:
        return MILESTONE_STATUS_LABELS[self.status]

    @property
    def is_closed(self) -> bool:
        return self.status not in OPEN_MILESTONE_STATUSES

    def is_overdue(self, on: date | None = None) -> bool:
        return not self.is_closed and self.current_due_on < (on or today())

    def is_at_risk(self, on: date | None = None) -> bool:
        on = on or today()
        return (
            not self.is_closed
            and not self.is_overdue(on)
            and self.current_due_on - on <= AT_RISK_WINDOW
            and self.percent_complete < 50
        )

    def slip_days(self) -> int:
        return (self.current_due_on - self.baseline_due_on).days


class Milestone(MilestoneSchedule, db.Model):
    __tablename__ = "milestones"
    __table_args__ = (
        sa.CheckConstraint("percent_complete BETWEEN 0 AND 100", name="percent_range"),
        sa.Index("ix_milestones_owner_due", "owner_id", "current_due_on"),
        sa.Index("ix_milestones_status_due", "status", "current_due_on"),
        #: The open milestones by due date: the dashboard's overdue list and count.
        partial_index("ix_milestones_open_due", "current_due_on", "id", where=OPEN_MILESTONE_WHERE),
        #: The same by line of effort: an office's overdue count, through its lines (migration 1000).
        partial_index("ix_milestones_open_line_due", "line_of_effort_id", "current_due_on", where=OPEN_MILESTONE_WHERE),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    line_of_effort_id: Mapped[int] = mapped_column(sa.ForeignKey("lines_of_effort.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    #: The responsible office; may differ from the recommendation's action office.
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id", ondelete="RESTRICT"), index=True)
    start_on: Mapped[date | None]
    #: Frozen once OIG accepts the plan; slippage is measured against it.
    baseline_due_on: Mapped[date]
    current_due_on: Mapped[date]
    status: Mapped[str] = mapped_column(enum(*MILESTONE_STATUSES, name="milestone_status"), default="not_started")
    percent_complete: Mapped[int] = mapped_column(default=0)
    completed_on: Mapped[date | None]
    #: What evidence will prove this milestone done (free text until evidence is mapped).
    expected_evidence: Mapped[str] = mapped_column(sa.Text, default="")
    #: Optimistic lock: an edit made from an older version is refused, not merged.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    line_of_effort = relationship("LineOfEffort", back_populates="milestones")
    owner = relationship("User")
    office = relationship("Office")
    depends_on = relationship(
        "Milestone",
        secondary=milestone_dependencies,
        primaryjoin=lambda: Milestone.id == milestone_dependencies.c.milestone_id,
        secondaryjoin=lambda: Milestone.id == milestone_dependencies.c.depends_on_id,
        # Both are shown (the milestone page, the timeline, the refusal to complete): by due date, as a line's are.
        order_by="(Milestone.current_due_on, Milestone.id)",
        backref=backref("required_by", order_by="(Milestone.current_due_on, Milestone.id)"),
    )
    updates = relationship(
        "MilestoneUpdate",
        back_populates="milestone",
        order_by="(MilestoneUpdate.noted_on.desc(), MilestoneUpdate.id.desc())",
        passive_deletes="all",
    )
    date_changes = relationship(
        "DueDateChange", back_populates="milestone", order_by="DueDateChange.id.desc()", passive_deletes="all"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def recommendation(self):
        """The recommendation this belongs to (permissions authorise against it)."""
        return self.line_of_effort.recommendation

    def __repr__(self) -> str:
        return f"<Milestone {self.id} {self.title!r}>"


@dataclass(frozen=True)
class MilestoneRow(MilestoneSchedule):
    """One line of a long list of milestones (My work): plain columns, read without building ORM
    objects, which cost four times as much for the same 50 rows."""

    id: int
    title: str
    status: str
    percent_complete: int
    current_due_on: date
    baseline_due_on: date
    line_title: str
    recommendation_label: str
    office_code: str


#: A due-date change is ``applied`` at once before the plan is accepted; after, it is ``pending``
#: until a manager ``approved`` or ``declined`` it (``app/approvals.py``).
DATE_CHANGE_STATUS_LABELS = {
    "applied": "Applied (plan not yet accepted)",
    "pending": "Awaiting a manager's decision",
    "approved": "Approved",
    "declined": "Declined",
}


class MilestoneUpdate(db.Model):
    """A dated note on a milestone, with the status and percent it reported."""

    __tablename__ = "milestone_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(sa.ForeignKey("milestones.id", ondelete="RESTRICT"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    #: The day the update speaks for (may be earlier than the day it was typed in).
    noted_on: Mapped[date]
    note: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(enum(*MILESTONE_STATUSES, name="milestone_update_status"))
    percent_complete: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    milestone = relationship("Milestone", back_populates="updates")
    author = relationship("User")

    @property
    def status_label(self) -> str:
        return MILESTONE_STATUS_LABELS[self.status]


class DueDateChange(ApprovalRequest, db.Model):
    """One change of a milestone's current due date: requested, and applied or decided."""

    __tablename__ = "due_date_changes"
    __table_args__ = (
        sa.Index("ix_due_date_changes_status", "status", "milestone_id"),
        one_pending_index("uq_due_date_changes_one_pending", "milestone_id"),
    )
    STATUS_LABELS = DATE_CHANGE_STATUS_LABELS

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(sa.ForeignKey("milestones.id", ondelete="RESTRICT"), index=True)
    old_due_on: Mapped[date]
    new_due_on: Mapped[date]
    #: Before acceptance the baseline moves with the current date; after, it never does.
    baseline_moved: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(enum(*APPROVAL_STATUSES, name="date_change_status"))

    milestone = relationship("Milestone", back_populates="date_changes")

    @property
    def recommendation(self):
        """The recommendation this belongs to (permissions authorise against it)."""
        return self.milestone.recommendation
