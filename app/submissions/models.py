from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.dbtypes import UTCDateTime, enum, partial_index
from app.extensions import db
from app.timeutil import utcnow

SUBMISSION_KINDS = ("plan", "status_update", "closure_request")
KIND_LABELS = {
    "plan": "Corrective action plan",
    "status_update": "90-day status update",
    "closure_request": "Closure request",
}
DECISIONS = ("accepted", "rejected")
DECISION_LABELS = {"accepted": "Accepted", "rejected": "Rejected", None: "Awaiting OIG decision"}


class Submission(db.Model):
    """What the action office sent OIG, frozen as sent: a numbered snapshot, then OIG's decision."""

    __tablename__ = "submissions"
    __table_args__ = (
        sa.UniqueConstraint("recommendation_id", "number", name="uq_submissions_recommendation_number"),
        #: The submissions waiting for a decision, oldest first, read in order (no sort).
        partial_index("ix_submissions_pending", "submitted_at", "id", where="decision IS NULL"),
        #: The returned ones apart (an office's queue; migrations 1950_dash1m, 2020_dash2), with
        #: what "the latest of its kind" compares and what the queue shows and sorts by.
        partial_index(
            "ix_submissions_rejected",
            "recommendation_id",
            "kind",
            "number",
            "decided_at",
            "id",
            where="decision = 'rejected'",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(sa.ForeignKey("recommendations.id", ondelete="RESTRICT"), index=True)
    #: 1, 2, 3… per recommendation, in the order sent.
    number: Mapped[int]
    kind: Mapped[str] = mapped_column(enum(*SUBMISSION_KINDS, name="submission_kind"))
    #: The cover narrative the office wrote for OIG.
    narrative: Mapped[str] = mapped_column(sa.Text)
    #: build_snapshot()'s output; never rewritten (see the validator below).
    snapshot: Mapped[dict] = mapped_column(sa.JSON)
    #: SHA-256 of the canonical snapshot, also written to the audit trail: a later change shows.
    snapshot_sha256: Mapped[str] = mapped_column(sa.String(64))
    submitted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The day the clocks count from (plan response met, last 90-day update).
    submitted_on: Mapped[date]
    decision: Mapped[str | None] = mapped_column(enum(*DECISIONS, name="submission_decision"))
    #: OIG's written analysis behind the decision.
    analysis: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recommendation = relationship("Recommendation")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])

    @validates("snapshot", "narrative", "kind", "number", "recommendation_id")
    def _frozen(self, key, value):
        if getattr(self, key, None) is not None and getattr(self, key) != value:
            raise ValueError(f"a submission's {key} is frozen once sent")
        return value

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def decision_label(self) -> str:
        return DECISION_LABELS[self.decision]

    @property
    def is_pending(self) -> bool:
        return self.decision is None

    @property
    def title(self) -> str:
        return f"Submission {self.number}: {self.kind_label}"

    def __repr__(self) -> str:
        return f"<Submission {self.recommendation_id}#{self.number} {self.kind} {self.decision}>"
