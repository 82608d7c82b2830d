"""The approval workflow a due-date change (milestones/date_changes.py) and a target change
(metrics/definitions.py) share.

Before OIG accepts the plan a change is ``applied`` at once. After, the action office's change
is a request: it is ``pending`` (at most one per milestone or metric) until a manager who did
not ask for it ``approved`` or ``declined`` it. Each step is audited in the same transaction
(``<prefix>_change``, ``_request``, ``_approve``, ``_decline``). What a change moves, what the
trail shows and who is told is each kind's own: a subclass of ``Approval`` says it.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from app import audit, versioning
from app.dbtypes import UTCDateTime
from app.extensions import db
from app.timeutil import utcnow

APPROVAL_STATUSES = ("applied", "pending", "approved", "declined")


class ApprovalRequest:
    """The columns of a request and its decision (a mixin for the two tables)."""

    #: Each kind names the ``applied`` state its own way.
    STATUS_LABELS: dict[str, str]

    id: Mapped[int]
    status: Mapped[str]
    justification: Mapped[str] = mapped_column(sa.Text)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str] = mapped_column(sa.Text, default="")

    @declared_attr
    def requested_by(cls: Any) -> Mapped[Any]:
        return relationship("User", foreign_keys=f"{cls.__name__}.requested_by_id")

    @declared_attr
    def decided_by(cls: Any) -> Mapped[Any]:
        return relationship("User", foreign_keys=f"{cls.__name__}.decided_by_id")

    @property
    def status_label(self) -> str:
        return self.STATUS_LABELS[self.status]


def one_pending_index(name: str, column: str) -> sa.Index:
    """At most one request awaits a decision per subject."""
    return sa.Index(
        name,
        column,
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


R = TypeVar("R", bound=ApprovalRequest)


def pending_request(requests: Iterable[R]) -> R | None:
    return next((r for r in requests if r.status == "pending"), None)


def request_numbers(requests: Iterable[ApprovalRequest]) -> dict[int, int]:
    """{change id: 2} for a subject's "Request 2": its requests counted from the first, in the order
    they were made (a change applied at once, before the plan's acceptance, was not a request)."""
    asked = sorted(r.id for r in requests if r.status != "applied" and r.id is not None)
    return {change_id: number for number, change_id in enumerate(asked, start=1)}


def earlier_decline(requests: Iterable[R], change: R) -> R | None:
    """The request just before ``change`` on its subject, when a manager declined it."""
    earlier = max((r for r in requests if r.id is not None and r.id < change.id), key=lambda r: r.id, default=None)
    return earlier if earlier is not None and earlier.status == "declined" else None


def declined_earlier(on: datetime | None, by: str | None, reason: str | None) -> str:
    """The one line a manager reads about a request declined before this one."""
    if on is None:
        return ""
    return f"Declined earlier on {on:%b %-d, %Y} by {by or 'someone no longer active'}" + (
        f": {reason}" if reason else ""
    )


class Approval(ABC):
    """The workflow; a subclass names its subject and what a change does to it."""

    #: "due-date change", "milestone": the words of the refusal of a second request.
    name: str
    subject_name: str
    #: The audit actions' common start: "milestone.due_date".
    audit_prefix: str

    @abstractmethod
    def subject(self, change):
        """The row the change is about (the milestone, the metric)."""

    @abstractmethod
    def requests(self, subject) -> list:
        """The subject's requests, the pending one among them."""

    @abstractmethod
    def state(self, subject) -> dict:
        """The subject's fields an event shows before and after."""

    @abstractmethod
    def asked(self, change) -> tuple[dict, dict]:
        """A request's event: what stands, and what is asked."""

    @abstractmethod
    def apply(self, change, *, baseline: bool) -> None:
        """Move the subject to what the change asks (``baseline``: applied before acceptance)."""

    def record(self, action: str, subject, before: dict, extra: dict, actor) -> None:
        audit.record(
            action,
            subject,
            before=before,
            after={**self.state(subject), **extra},
            recommendation_id=subject.recommendation.id,
            actor=actor,
        )

    def applied(self, change, actor) -> None:
        """After a change applied at once."""
        return None  # a hook: nothing unless the kind says

    def requested(self, change, actor) -> None:
        """After a request was made (whom to tell)."""
        return None  # a hook: nothing unless the kind says

    def declined(self, change) -> None:
        """What a refusal does to the subject (nothing, unless the kind says)."""
        return None  # a hook: nothing unless the kind says

    def decided(self, change, actor) -> None:
        """After a decision was recorded."""
        return None  # a hook: nothing unless the kind says

    def noted(self, change) -> dict:
        """What a decision's event adds about the request."""
        return {}

    def request(self, change: R, *, needs_approval: bool, actor) -> R:
        """Apply ``change`` now, or keep it pending for a manager; refused while another waits."""
        subject = self.subject(change)
        with db.session.no_autoflush:  # ``change`` joins the session below, once it is whole
            waiting = pending_request(self.requests(subject))
        if waiting is not None:
            abort(409, f"A {self.name} for this {self.subject_name} already awaits a manager's decision.")
        change.requested_by_id = actor.id
        change.status = "pending" if needs_approval else "applied"
        db.session.add(change)
        if needs_approval:
            versioning.touch(subject)  # a form opened before the request is stale
            db.session.flush()
            before, asked = self.asked(change)
            audit.record(
                f"{self.audit_prefix}_request",
                subject,
                before=before,
                after={**asked, "justification": change.justification, "change_id": change.id},
                recommendation_id=subject.recommendation.id,
                actor=actor,
            )
            self.requested(change, actor)
            return change
        before = self.state(subject)
        self.apply(change, baseline=True)
        db.session.flush()
        self.record(
            f"{self.audit_prefix}_change",
            subject,
            before,
            {"justification": change.justification, "change_id": change.id},
            actor,
        )
        self.applied(change, actor)
        return change

    def decide(self, change: ApprovalRequest, *, approve: bool, reason: str, actor) -> None:
        """A manager's answer to a pending request; a second answer is refused."""
        if change.status != "pending":
            abort(409, "This request was already decided.")
        subject = self.subject(change)
        change.status = "approved" if approve else "declined"
        change.decided_by_id, change.decided_at, change.decision_reason = actor.id, utcnow(), reason
        before = self.state(subject)
        if approve:
            self.apply(change, baseline=False)
        else:
            self.declined(change)
        db.session.flush()
        self.record(
            f"{self.audit_prefix}_{'approve' if approve else 'decline'}",
            subject,
            before,
            {"decision_reason": reason, "change_id": change.id, **self.noted(change)},
            actor,
        )
        self.decided(change, actor)
