"""Evidence: loading with authorisation, recording uploads, versions, reviews and withdrawals,
and checking that every stored file still matches its hash."""

import json
import logging
from collections.abc import Sequence

import sqlalchemy as sa
from flask import abort
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from app import audit
from app.dbtypes import lock_for_write
from app.evidence.models import EvidenceCheck, EvidenceItem, EvidenceReview, EvidenceVersion
from app.evidence.storage import STALE_SECONDS, Batch, LocalStorage
from app.extensions import db
from app.notifications import services as notify
from app.milestones import services as milestones
from app.milestones.models import Milestone
from app.permissions import authorise, visible_recommendations
from app.recommendations.models import LineOfEffort, Recommendation
from app.timeutil import utcnow

log = logging.getLogger(__name__)

ITEM_FIELDS = ("title", "description", "milestone_id", "current_version", "review_status")


# --- load, then authorise -----------------------------------------------------------


def get_recommendation_or_404(recommendation_id: int, *, for_edit: bool = False) -> Recommendation:
    return authorise(db.session.get(Recommendation, recommendation_id), "edit_plan" if for_edit else "view")


def get_milestone_or_404(milestone_id: int, *, for_edit: bool = False) -> Milestone:
    """The milestone as its own page loads it, for its evidence: the recommendation's, so read by
    its readers only, even for the milestone's office."""
    return authorise(milestones.get_milestone_or_404(milestone_id), "edit_plan" if for_edit else "view_recommendation")


def get_item_or_404(
    item_id: int, *, for_edit: bool = False, for_review: bool = False, lock: bool = False
) -> EvidenceItem:
    query = (
        sa.select(EvidenceItem)
        .where(EvidenceItem.id == item_id)
        .options(joinedload(EvidenceItem.recommendation), joinedload(EvidenceItem.milestone))
    )
    if lock:
        query = lock_for_write(query)
    item = authorise(db.session.scalar(query), "edit_plan" if for_edit else "view")
    return authorise(item, "review_evidence") if for_review else item


def load_item_page(item_id: int) -> EvidenceItem:
    """The item with everything its page shows, in a fixed number of queries."""
    item = get_item_or_404(item_id)
    db.session.scalars(
        sa.select(EvidenceItem)
        .where(EvidenceItem.id == item.id)
        .options(
            selectinload(EvidenceItem.versions).joinedload(EvidenceVersion.uploaded_by),
            selectinload(EvidenceItem.reviews).options(
                joinedload(EvidenceReview.reviewer), joinedload(EvidenceReview.version)
            ),
            joinedload(EvidenceItem.created_by),
            joinedload(EvidenceItem.withdrawn_by),
        )
        .execution_options(populate_existing=True)
    ).one()
    return item


def get_version_or_404(version_id: int) -> EvidenceVersion:
    version = db.session.scalar(
        sa.select(EvidenceVersion)
        .where(EvidenceVersion.id == version_id)
        .options(joinedload(EvidenceVersion.item).joinedload(EvidenceItem.recommendation))
    )
    return authorise(version)


# --- reading ---------------------------------------------------------------------


def items_for(recommendation_id: int, milestone_id: int | None = None, *, general: bool = False):
    """Evidence items of a milestone, or a recommendation's general documents, newest first."""
    query = (
        sa.select(EvidenceItem)
        .where(EvidenceItem.recommendation_id == recommendation_id)
        .options(
            selectinload(EvidenceItem.versions).joinedload(EvidenceVersion.uploaded_by),
            selectinload(EvidenceItem.reviews).joinedload(EvidenceReview.reviewer),
        )
        .order_by(EvidenceItem.withdrawn_at.is_not(None), EvidenceItem.created_at.desc(), EvidenceItem.id.desc())
    )
    if milestone_id is not None:
        query = query.where(EvidenceItem.milestone_id == milestone_id)
    elif general:
        query = query.where(EvidenceItem.milestone_id.is_(None))
    return db.session.scalars(query).all()


def plan_outline(recommendation_id: int) -> Sequence[LineOfEffort]:
    return db.session.scalars(
        sa.select(LineOfEffort)
        .where(LineOfEffort.recommendation_id == recommendation_id)
        .options(selectinload(LineOfEffort.milestones))
        .order_by(LineOfEffort.position, LineOfEffort.id)
    ).all()


def closure_package(recommendation_id: int) -> list[EvidenceItem]:
    """The evidence offered for closure: every item not withdrawn, with its versions (current first)."""
    return [item for item in items_for(recommendation_id) if not item.is_withdrawn]


def counts_by_milestone(recommendation_id: int) -> dict[int | None, dict[str, int]]:
    """{milestone_id or None: {review_status: count}} of items not withdrawn, in one query."""
    rows = db.session.execute(
        sa.select(EvidenceItem.milestone_id, EvidenceItem.review_status, sa.func.count())
        .where(EvidenceItem.recommendation_id == recommendation_id, EvidenceItem.withdrawn_at.is_(None))
        .group_by(EvidenceItem.milestone_id, EvidenceItem.review_status)
    ).all()
    counts: dict = {}
    for milestone_id, status, n in rows:
        counts.setdefault(milestone_id, {})[status] = n
    return counts


def summary(recommendation_id: int) -> dict[str, int]:
    totals = {"pending": 0, "accepted": 0, "insufficient": 0, "general": 0}
    for milestone_id, by_status in counts_by_milestone(recommendation_id).items():
        for status, n in by_status.items():
            totals[status] += n
            if milestone_id is None:
                totals["general"] += n
    totals["total"] = totals["pending"] + totals["accepted"] + totals["insufficient"]
    return totals


def needs_attention(user):
    """What the office must act on: evidence judged insufficient, and completed milestones
    with no evidence at all; plus what waits for OIG's review."""
    scope = visible_recommendations(user, Recommendation)
    live = (
        sa.select(EvidenceItem)
        .join(EvidenceItem.recommendation)
        .where(scope)
        .where(EvidenceItem.withdrawn_at.is_(None))
        .options(
            joinedload(EvidenceItem.milestone),
            joinedload(EvidenceItem.recommendation),
            selectinload(EvidenceItem.reviews).joinedload(EvidenceReview.reviewer),
        )
    )
    insufficient = (
        db.session.scalars(
            live.where(EvidenceItem.review_status == "insufficient").order_by(EvidenceItem.created_at, EvidenceItem.id)
        )
        .unique()
        .all()
    )
    awaiting = (
        db.session.scalars(
            live.where(EvidenceItem.review_status == "pending").order_by(EvidenceItem.created_at, EvidenceItem.id)
        )
        .unique()
        .all()
    )
    has_evidence = (
        sa.select(EvidenceItem.id)
        .where(EvidenceItem.milestone_id == Milestone.id, EvidenceItem.withdrawn_at.is_(None))
        .exists()
    )
    unproven = (
        db.session.scalars(
            sa.select(Milestone)
            .join(Milestone.line_of_effort)
            .join(LineOfEffort.recommendation)
            .where(
                scope,
                Recommendation.status.in_(("unresolved_open", "resolved_open", "closure_pending")),
                Milestone.status == "completed",
                ~has_evidence,
            )
            .options(joinedload(Milestone.line_of_effort).joinedload(LineOfEffort.recommendation))
            .order_by(Milestone.completed_on, Milestone.id)
        )
        .unique()
        .all()
    )
    return insufficient, unproven, awaiting


def last_check() -> EvidenceCheck | None:
    return db.session.scalar(sa.select(EvidenceCheck).order_by(EvidenceCheck.id.desc()).limit(1))


# --- changing ----------------------------------------------------------------------


def _version_after(version: EvidenceVersion) -> dict:
    return {
        "version": version.number,
        "filename": version.original_filename,
        "content_type": version.content_type,
        "size_bytes": version.size_bytes,
        "sha256": version.sha256,
        "storage_key": version.storage_key,
    }


def add_item(
    recommendation: Recommendation,
    milestone: Milestone | None,
    *,
    title: str,
    description: str,
    inspected,
    batch: Batch,
) -> EvidenceItem:
    """Save the file, then stage its item and first version (the caller commits)."""
    incoming, filename, detected = inspected
    stored = batch.save(incoming)
    item = EvidenceItem(
        recommendation_id=recommendation.id,
        milestone_id=milestone.id if milestone else None,
        title=title.strip(),
        description=(description or "").strip(),
        current_version=1,
        review_status="pending",
        created_by_id=current_user.id,
    )
    version = EvidenceVersion(
        item=item,
        number=1,
        storage_key=stored.key,
        original_filename=filename,
        content_type=detected.content_type,
        size_bytes=stored.size,
        sha256=stored.sha256,
        uploaded_by_id=current_user.id,
    )
    db.session.add_all([item, version])
    db.session.flush()
    audit.record(
        "evidence.upload",
        item,
        recommendation_id=recommendation.id,
        after={**audit.snapshot(item, ITEM_FIELDS), **_version_after(version)},
    )
    return item


def add_version(item: EvidenceItem, *, note: str, inspected, batch: Batch) -> EvidenceVersion:
    if item.is_withdrawn:
        abort(409, "This evidence was withdrawn; it takes no new versions.")
    incoming, filename, detected = inspected
    before = audit.snapshot(item, ITEM_FIELDS)
    stored = batch.save(incoming)
    item.current_version += 1
    item.review_status = "pending"
    version = EvidenceVersion(
        item_id=item.id,
        number=item.current_version,
        storage_key=stored.key,
        original_filename=filename,
        content_type=detected.content_type,
        size_bytes=stored.size,
        sha256=stored.sha256,
        note=(note or "").strip(),
        uploaded_by_id=current_user.id,
    )
    db.session.add(version)
    db.session.flush()
    audit.record(
        "evidence.version",
        item,
        recommendation_id=item.recommendation_id,
        before=before,
        after={**audit.snapshot(item, ITEM_FIELDS), **_version_after(version), "note": version.note},
    )
    return version


def review(item: EvidenceItem, *, decision: str, comment: str) -> EvidenceReview:
    if item.is_withdrawn:
        abort(409, "This evidence was withdrawn; there is nothing to review.")
    latest = db.session.scalar(
        sa.select(EvidenceVersion).where(
            EvidenceVersion.item_id == item.id, EvidenceVersion.number == item.current_version
        )
    )
    assert latest is not None  # an item always has its current version
    before = audit.snapshot(item, ("review_status",))
    item.review_status = decision
    entry = EvidenceReview(
        item_id=item.id, version_id=latest.id, decision=decision, comment=comment.strip(), reviewer_id=current_user.id
    )
    db.session.add(entry)
    db.session.flush()
    audit.record(
        "evidence.review",
        item,
        recommendation_id=item.recommendation_id,
        before=before,
        after={"review_status": decision, "version": latest.number, "comment": entry.comment},
    )
    entry.version = latest
    notify.evidence_reviewed(item, entry, current_user)
    return entry


def withdraw(item: EvidenceItem, *, reason: str) -> None:
    if item.is_withdrawn:
        abort(409, "This evidence is already withdrawn.")
    item.withdrawn_at = utcnow()
    item.withdrawn_by_id = current_user.id
    item.withdrawal_reason = reason.strip()
    audit.record(
        "evidence.withdraw",
        item,
        recommendation_id=item.recommendation_id,
        before={"withdrawn": False},
        after={"withdrawn": True, "reason": item.withdrawal_reason},
    )


def verify_all(storage: LocalStorage, actor=None) -> EvidenceCheck:
    """Re-hash every stored version; record the result (the caller commits)."""
    check = EvidenceCheck(started_at=utcnow())
    problems = []
    known = set()
    checked = 0
    last_id = 0
    while True:
        batch = db.session.execute(
            sa.select(
                EvidenceVersion.id,
                EvidenceVersion.storage_key,
                EvidenceVersion.sha256,
                EvidenceVersion.original_filename,
                EvidenceVersion.item_id,
            )
            .where(EvidenceVersion.id > last_id)
            .order_by(EvidenceVersion.id)
            .limit(1000)
        ).all()
        if not batch:
            break
        for version_id, key, sha256, filename, item_id in batch:
            known.add(key)
            checked += 1
            result = storage.verify(key, sha256)
            if result != "ok":
                problems.append(
                    {
                        "version_id": version_id,
                        "item_id": item_id,
                        "storage_key": key,
                        "filename": filename,
                        "problem": result,
                    }
                )
        last_id = batch[-1][0]
    unrecorded = [key for key in storage.keys() if key not in known]
    check.checked = checked
    check.problems = json.dumps(problems, ensure_ascii=False)
    check.finished_at = utcnow()
    db.session.add(check)
    db.session.flush()
    audit.record(
        "evidence.verify",
        check,
        actor=actor,
        after={"checked": checked, "problems": len(problems), "unrecorded_files": len(unrecorded)},
    )
    check.unrecorded = unrecorded
    return check


def clean_partial_uploads(storage: LocalStorage, older_than: float = STALE_SECONDS) -> list[str]:
    """Remove temporary upload files older than ``older_than`` seconds (left by a server killed
    mid-upload); returns their names. Younger ones may belong to an upload still running."""
    removed = []
    for name, age in storage.partial_files():
        if age >= older_than:
            storage.remove_partial(name)
            removed.append(name)
    if removed:
        log.info(
            "evidence: removed %d partial upload file(s) older than %d s: %s",
            len(removed),
            older_than,
            ", ".join(removed),
        )
    return removed


def evidence_list(recommendation_id: int) -> list[dict]:
    """The closure package as plain rows, for submissions and plan documents."""
    rows = []
    for item in closure_package(recommendation_id):
        current = max(item.versions, key=lambda v: v.number) if item.versions else None
        rows.append(
            {
                "id": item.id,
                "title": item.title,
                "milestone_id": item.milestone_id,
                "review_status": item.review_status,
                "version": current.number if current else None,
                "filename": current.original_filename if current else "",
                "sha256": current.sha256 if current else "",
                "uploaded_on": current.uploaded_at.date().isoformat() if current else None,
            }
        )
    return rows
