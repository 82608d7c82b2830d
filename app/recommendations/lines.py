"""Lines of effort: the plan's workstreams, each holding milestones (the model is
``recommendations.models.LineOfEffort``)."""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app import audit
from app.extensions import db
from app.permissions import authorise
from app.recommendations.models import LineOfEffort, Recommendation

LINE_FIELDS = ("title", "kind", "description", "objective", "lead_owner_id", "position")
LINE_LABELS = {
    "title": "Title",
    "kind": "Kind",
    "description": "Description",
    "objective": "Objective",
    "lead_owner_id": "Lead owner",
    "position": "Order in the plan",
}


def get_line_or_404(line_id: int, *, for_edit: bool = False) -> LineOfEffort:
    line = db.session.scalar(
        sa.select(LineOfEffort).where(LineOfEffort.id == line_id).options(joinedload(LineOfEffort.recommendation))
    )
    return authorise(line, "edit_plan" if for_edit else "view")


def line_snapshot(line: LineOfEffort) -> dict:
    return audit.snapshot(line, LINE_FIELDS)


def create_line(
    recommendation: Recommendation,
    *,
    title: str,
    description: str,
    objective: str,
    lead_owner_id: int | None,
    kind: str = "other",
) -> LineOfEffort:
    last = (
        db.session.scalar(
            sa.select(sa.func.max(LineOfEffort.position)).where(LineOfEffort.recommendation_id == recommendation.id)
        )
        or 0
    )
    line = LineOfEffort(
        recommendation_id=recommendation.id,
        kind=kind,
        title=title,
        description=description,
        objective=objective,
        lead_owner_id=lead_owner_id,
        position=last + 1,
    )
    db.session.add(line)
    db.session.flush()
    audit.record("line_of_effort.create", line, after=line_snapshot(line), recommendation_id=recommendation.id)
    return line


def update_line(line: LineOfEffort, **values) -> None:
    before, after = audit.assign(line, LINE_FIELDS, values)
    if after != before:
        audit.record(
            "line_of_effort.update", line, before=before, after=after, recommendation_id=line.recommendation_id
        )


def move_line(line: LineOfEffort, direction: str) -> bool:
    """Swap the line with its neighbour above ("up") or below ("down"); False at either end."""
    lines = list(
        db.session.scalars(
            sa.select(LineOfEffort)
            .where(LineOfEffort.recommendation_id == line.recommendation_id)
            .order_by(LineOfEffort.position, LineOfEffort.id)
        )
    )
    index = lines.index(line)
    other = index - 1 if direction == "up" else index + 1
    if other < 0 or other >= len(lines):
        return False
    before = [loe.id for loe in lines]
    lines[index], lines[other] = lines[other], lines[index]
    for position, loe in enumerate(lines, start=1):
        loe.position = position
    audit.record(
        "line_of_effort.reorder",
        line,
        before={"order": before},
        after={"order": [loe.id for loe in lines]},
        recommendation_id=line.recommendation_id,
    )
    return True
