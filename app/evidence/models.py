from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.dbtypes import UTCDateTime, enum
from app.extensions import db
from app.timeutil import utcnow
import json

REVIEW_STATUSES = ("pending", "accepted", "insufficient")
REVIEW_STATUS_LABELS = {
    "pending": "Awaiting review",
    "accepted": "Accepted",
    "insufficient": "Insufficient",
}
DECISIONS = ("accepted", "insufficient")


class EvidenceItem(db.Model):
    """A document offered as proof, attached to a milestone or (general documents) to a recommendation.

    Never deleted: a new file is a new version, and withdrawing only hides the item from
    the closure package.
    """

    __tablename__ = "evidence_items"
    __table_args__ = (sa.Index("ix_evidence_items_review", "review_status", "withdrawn_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(sa.ForeignKey("recommendations.id", ondelete="RESTRICT"), index=True)
    #: None for the recommendation's general documents.
    milestone_id: Mapped[int | None] = mapped_column(sa.ForeignKey("milestones.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: Number of the newest version; the versions table holds every one.
    current_version: Mapped[int] = mapped_column(default=1)
    #: OIG's verdict on the current version; a new version starts over at "pending".
    review_status: Mapped[str] = mapped_column(enum(*REVIEW_STATUSES, name="evidence_review_status"), default="pending")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    withdrawal_reason: Mapped[str] = mapped_column(sa.Text, default="")

    recommendation = relationship("Recommendation")
    milestone = relationship("Milestone")
    created_by = relationship("User", foreign_keys=[created_by_id])
    withdrawn_by = relationship("User", foreign_keys=[withdrawn_by_id])
    versions = relationship(
        "EvidenceVersion", back_populates="item", order_by="EvidenceVersion.number.desc()", passive_deletes="all"
    )
    reviews = relationship(
        "EvidenceReview", back_populates="item", order_by="EvidenceReview.id.desc()", passive_deletes="all"
    )

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def review_label(self) -> str:
        return REVIEW_STATUS_LABELS[self.review_status]

    @property
    def latest(self) -> "EvidenceVersion":
        return self.versions[0]

    def __repr__(self) -> str:
        return f"<EvidenceItem {self.id} {self.title!r} v{self.current_version}>"


class EvidenceVersion(db.Model):
    """One stored file. The bytes live in storage under ``storage_key``; ``sha256`` proves them."""

    __tablename__ = "evidence_versions"
    __table_args__ = (sa.UniqueConstraint("item_id", "number", name="uq_evidence_versions_item_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence_items.id", ondelete="RESTRICT"), index=True)
    number: Mapped[int]
    #: A generated name inside EVIDENCE_DIR, never derived from what the user sent.
    storage_key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    #: The uploader's file name, for display and download only.
    original_filename: Mapped[str] = mapped_column(sa.String(255))
    #: Decided from the content at upload, not from the browser's claim.
    content_type: Mapped[str] = mapped_column(sa.String(120))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item = relationship("EvidenceItem", back_populates="versions")
    uploaded_by = relationship("User")

    @property
    def recommendation(self):
        """The recommendation this belongs to (permissions authorise against it)."""
        return self.item.recommendation

    @property
    def is_image(self) -> bool:
        return self.content_type in ("image/png", "image/jpeg")


class EvidenceReview(db.Model):
    """OIG's verdict on one version, kept as history."""

    __tablename__ = "evidence_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence_items.id", ondelete="RESTRICT"), index=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence_versions.id", ondelete="RESTRICT"))
    decision: Mapped[str] = mapped_column(enum(*DECISIONS, name="evidence_decision"))
    comment: Mapped[str] = mapped_column(sa.Text)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item = relationship("EvidenceItem", back_populates="reviews")
    version = relationship("EvidenceVersion")
    reviewer = relationship("User")

    @property
    def decision_label(self) -> str:
        return REVIEW_STATUS_LABELS[self.decision]


class EvidenceCheck(db.Model):
    """One run of ``flask evidence verify``: what was checked and what was wrong."""

    __tablename__ = "evidence_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked: Mapped[int] = mapped_column(default=0)
    #: JSON list of {"version_id", "storage_key", "filename", "problem"}.
    problems: Mapped[str] = mapped_column(sa.Text, default="[]")

    @property
    def problem_list(self) -> list[dict]:
        return json.loads(self.problems or "[]")

    @property
    def ok(self) -> bool:
        return not self.problem_list


class EvidenceText(db.Model):
    """The words inside one stored file (PDF, DOCX, plain text, CSV), for search.

    Extracted after the upload's commit (app/evidence/extract.py), so a file whose text cannot
    be read is still recorded; ``problem`` then says why and ``text`` stays empty.
    """

    __tablename__ = "evidence_texts"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence_versions.id", ondelete="RESTRICT"), unique=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("evidence_items.id", ondelete="RESTRICT"), index=True)
    text: Mapped[str] = mapped_column(sa.Text, default="")
    problem: Mapped[str] = mapped_column(sa.String(300), default="")
    extracted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    version = relationship("EvidenceVersion")
