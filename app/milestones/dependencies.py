"""The plan's dependency graph: which milestones depend on which, a cycle refused before it is
saved, and what still holds a milestone up."""

from collections.abc import Sequence

import sqlalchemy as sa

from app.extensions import db
from app.milestones.models import OPEN_MILESTONE_STATUSES, Milestone, milestone_dependencies
from app.recommendations.models import LineOfEffort


def plan_milestones(recommendation_id: int) -> Sequence[Milestone]:
    """Every milestone of a recommendation, in plan order (lines, then due dates)."""
    return db.session.scalars(
        sa.select(Milestone)
        .join(Milestone.line_of_effort)
        .where(LineOfEffort.recommendation_id == recommendation_id)
        .order_by(LineOfEffort.position, Milestone.current_due_on, Milestone.id)
    ).all()


def dependency_edges(recommendation_id: int) -> dict[int, set[int]]:
    """milestone id -> ids it depends on, for one recommendation's plan."""
    rows = db.session.execute(
        sa.select(milestone_dependencies.c.milestone_id, milestone_dependencies.c.depends_on_id)
        .join(Milestone, Milestone.id == milestone_dependencies.c.milestone_id)
        .join(LineOfEffort, LineOfEffort.id == Milestone.line_of_effort_id)
        .where(LineOfEffort.recommendation_id == recommendation_id)
    ).all()
    edges: dict[int, set[int]] = {}
    for milestone_id, depends_on_id in rows:
        edges.setdefault(milestone_id, set()).add(depends_on_id)
    return edges


def find_cycle(milestone_id: int | None, depends_on: set[int], edges: dict[int, set[int]]) -> list[int] | None:
    """The path back to ``milestone_id`` if it depended on ``depends_on``, or None when acyclic."""
    if milestone_id is None:
        return None  # a new milestone has no dependants yet
    if milestone_id in depends_on:
        return [milestone_id, milestone_id]
    graph = dict(edges)
    graph[milestone_id] = set(depends_on)
    stack = [(d, [milestone_id, d]) for d in sorted(depends_on)]
    seen = set()
    while stack:
        node, path = stack.pop()
        if node == milestone_id:
            return path
        if node in seen:
            continue
        seen.add(node)
        stack.extend((n, path + [n]) for n in sorted(graph.get(node, ())))
    return None


def open_dependencies(milestone: Milestone) -> list[Milestone]:
    """What must be finished first. A cancelled dependency no longer holds anything up."""
    return [d for d in milestone.depends_on if d.status in OPEN_MILESTONE_STATUSES]
