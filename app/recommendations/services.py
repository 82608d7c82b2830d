import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.milestones.models import Milestone
from app.permissions import require_edit_plan, require_view_recommendation
from app.recommendations.models import LineOfEffort, Recommendation


def get_recommendation_or_404(recommendation_id: int, *, for_edit: bool = False,
                              with_plan: bool = False) -> Recommendation:
    """Load, then authorise: the recommendation, or 404 / 403."""
    query = sa.select(Recommendation).where(Recommendation.id == recommendation_id)
    if with_plan:
        query = query.options(
            selectinload(Recommendation.lines_of_effort).selectinload(LineOfEffort.milestones)
            .options(selectinload(Milestone.owner), selectinload(Milestone.office)))
    recommendation = db.session.scalar(query)
    if recommendation is None:
        abort(404)
    require_view_recommendation(recommendation)
    if for_edit:
        require_edit_plan(recommendation)
    return recommendation
