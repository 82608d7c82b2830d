from datetime import date, datetime
from typing import TYPE_CHECKING
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.dbtypes import UTCDateTime, enum, partial_index
from app.extensions import db
from app.timeutil import utcnow

#: Resolution status, as OIG decides it (shared/DOMAIN.md).
STATUSES = ("unresolved_open", "resolved_open", "closure_pending", "resolved_closed", "closed_not_implemented")
STATUS_LABELS = {
    "unresolved_open": "Unresolved, open",
    "resolved_open": "Resolved, open",
    "closure_pending": "Closure pending",
    "resolved_closed": "Resolved, closed",
    "closed_not_implemented": "Closed, not implemented",
}
OPEN_STATUSES = ("unresolved_open", "resolved_open", "closure_pending")
#: The same, as the WHERE of partial indexes (queries use ``dbtypes.literal_in``).
OPEN_WHERE = "status IN ('unresolved_open', 'resolved_open', 'closure_pending')"

#: Every legal move of the status machine. Each is made by an oig_reviewer, with a reason.
TRANSITIONS = {
    ("unresolved_open", "resolved_open"),
    ("resolved_open", "closure_pending"),
    ("closure_pending", "resolved_closed"),
    ("closure_pending", "resolved_open"),
    ("resolved_open", "unresolved_open"),
    *((s, "closed_not_implemented") for s in OPEN_STATUSES),
}

CONCURRENCES = ("concur", "partially_concur", "non_concur")
CONCURRENCE_LABELS = {
    "concur": "Concur",
    "partially_concur": "Partially concur",
    "non_concur": "Non-concur",
}

#: The three lines of effort of OIG-15-85; other plans may name their own.
LINE_OF_EFFORT_KINDS = ("governance", "data_collection", "data_reporting", "other")
LINE_OF_EFFORT_KIND_LABELS = {
    "governance": "Governance and standardization",
    "data_collection": "Data collection",
    "data_reporting": "Data reporting",
    "other": "Other",
}


def recommendation_label(report_number: str, number: str) -> str:
    """How a recommendation is named everywhere: "OIG-15-85 Rec. 1"."""
    return f"{report_number} Rec. {number}"


class RecommendationStatus:
    """What a recommendation's ``status`` says: shared by the model and by the rows of lists read
    without the ORM (app/dashboard/insights.py)."""

    if TYPE_CHECKING:
        status: str

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Recommendation(RecommendationStatus, db.Model):
    __tablename__ = "recommendations"
    __table_args__ = (
        sa.UniqueConstraint("report_id", "number", name="uq_recommendations_report_number"),
        sa.Index("ix_recommendations_status_issued", "status", "issued_on"),
        sa.Index("ix_recommendations_decision_on", "management_decision_on"),
        # Made in migration 0900, as Alembic cannot compare them (app/dbtypes.py):
        # ix_recommendations_(office_)list_order: the dashboard's list order (issued_on DESC, ...).
        #: Open recommendations by issue date: the plan-response and resolution clocks.
        partial_index("ix_recommendations_open_issued", "issued_on", "id", where=OPEN_WHERE),
        # ix_recommendations_open_activity: the open ones by the status-update clock's base day.
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("reports.id", ondelete="RESTRICT"), index=True)
    #: The number as the report prints it ("1", "2a").
    number: Mapped[str] = mapped_column(sa.String(20))
    text: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(
        enum(*STATUSES, name="recommendation_status"), default="unresolved_open", index=True
    )
    concurrence: Mapped[str | None] = mapped_column(enum(*CONCURRENCES, name="concurrence"))
    #: The office's management comments, as quoted in or attached to the report.
    concurrence_response: Mapped[str] = mapped_column(sa.Text, default="")
    priority: Mapped[bool] = mapped_column(default=False)
    questioned_costs: Mapped[Decimal | None] = mapped_column(sa.Numeric(16, 2))
    #: The part of the questioned costs not supported by adequate documentation (IG Act 5(f)).
    unsupported_costs: Mapped[Decimal | None] = mapped_column(sa.Numeric(16, 2))
    funds_put_to_better_use: Mapped[Decimal | None] = mapped_column(sa.Numeric(16, 2))
    #: The management decision's answer on the money, recorded when OIG accepts the plan:
    #: questioned costs sustained (disallowed), funds agreed to be put to better use.
    disallowed_costs: Mapped[Decimal | None] = mapped_column(sa.Numeric(16, 2))
    agreed_funds: Mapped[Decimal | None] = mapped_column(sa.Numeric(16, 2))
    #: The auditee office responsible for corrective action.
    action_office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id", ondelete="RESTRICT"), index=True)
    responsible_official: Mapped[str] = mapped_column(sa.String(200), default="")
    target_completion_on: Mapped[date | None]
    #: Usually the report's issue date; kept here because the clocks run per recommendation.
    issued_on: Mapped[date]
    #: Set when OIG accepts the corrective action plan (unresolved_open -> resolved_open).
    management_decision_on: Mapped[date | None]
    #: Set when OIG closes the recommendation as implemented.
    final_action_on: Mapped[date | None]
    #: The day it was closed, implemented or not: a recommendation closed without implementation
    #: keeps it, so that the semiannual tables still count it in the periods it was open.
    closed_on: Mapped[date | None]
    #: The day the first corrective action plan went to OIG, and the day of the latest
    #: submission of any kind: set by ``submissions.services.submit`` in the sending
    #: transaction (submissions are never changed or deleted). The clocks count from them.
    plan_submitted_on: Mapped[date | None]
    last_submitted_on: Mapped[date | None]
    #: Optimistic lock (app/versioning.py): an edit made from an older version is refused, not merged.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    report = relationship("Report", back_populates="recommendations", lazy="joined")
    action_office = relationship("Office", lazy="joined")
    lines_of_effort = relationship(
        "LineOfEffort",
        back_populates="recommendation",
        # With the id: two lines added at once may share a position (create_line reads the last one).
        order_by="(LineOfEffort.position, LineOfEffort.id)",
        passive_deletes="all",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def concurrence_label(self) -> str:
        return CONCURRENCE_LABELS.get(self.concurrence or "", "Not recorded")

    @property
    def label(self) -> str:
        return recommendation_label(self.report.number, self.number)

    def __repr__(self) -> str:
        return f"<Recommendation {self.report_id}/{self.number} {self.status}>"


#: What ``clocks.clocks_for`` reads of a recommendation, under the same names: a list read without
#: the ORM selects these beside its own columns and passes each row to ``clocks_for``.
CLOCK_COLUMNS = (
    Recommendation.status,
    Recommendation.issued_on,
    Recommendation.management_decision_on,
    Recommendation.final_action_on,
    Recommendation.plan_submitted_on,
    Recommendation.last_submitted_on,
)


class LineOfEffort(db.Model):
    __tablename__ = "lines_of_effort"
    __table_args__ = (
        # With the id: an office's lines found from its recommendations by an index-only scan on
        # PostgreSQL (the office dashboard's overdue count; migration 1850_bench).
        sa.Index("ix_lines_of_effort_recommendation_line", "recommendation_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(sa.ForeignKey("recommendations.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(enum(*LINE_OF_EFFORT_KINDS, name="line_of_effort_kind"), default="other")
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    objective: Mapped[str] = mapped_column(sa.Text, default="")
    lead_owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    #: Display order within the plan, 1-based.
    position: Mapped[int] = mapped_column(default=1)
    #: Optimistic lock (app/versioning.py): an edit made from an older version is refused, not merged.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recommendation = relationship("Recommendation", back_populates="lines_of_effort")
    lead_owner = relationship("User")
    milestones = relationship(
        "Milestone",
        back_populates="line_of_effort",
        order_by="(Milestone.current_due_on, Milestone.id)",
        passive_deletes="all",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def kind_label(self) -> str:
        return LINE_OF_EFFORT_KIND_LABELS[self.kind]

    def __repr__(self) -> str:
        return f"<LineOfEffort {self.kind} {self.title!r}>"


class StatusChange(db.Model):
    """One move of the status machine: who, when, from, to, why (and the submission behind it)."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(sa.ForeignKey("recommendations.id", ondelete="RESTRICT"), index=True)
    from_status: Mapped[str] = mapped_column(enum(*STATUSES, name="from_status"))
    to_status: Mapped[str] = mapped_column(enum(*STATUSES, name="to_status"))
    reason: Mapped[str] = mapped_column(sa.Text)
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    #: The OIG decision or closure request that made the move, if any.
    submission_id: Mapped[int | None] = mapped_column(sa.ForeignKey("submissions.id", ondelete="RESTRICT"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor = relationship("User")

    @property
    def from_label(self) -> str:
        return STATUS_LABELS[self.from_status]

    @property
    def to_label(self) -> str:
        return STATUS_LABELS[self.to_status]
