import sqlalchemy as sa
from flask import render_template
from flask_login import current_user

from app.dashboard import bp
from app.dashboard.insights import RecommendationLine, dashboard_insights, status_and_age_counts
from app.pagination import paginate
from app.permissions import ANY_ROLE, roles, visible_recommendations
from app.recommendations.clocks import clocks_for
from app.recommendations.models import STATUS_LABELS, STATUSES, Recommendation
from app.timeutil import today


DASHBOARD_PER_PAGE = 25


@bp.route("/")
@roles(*ANY_ROLE)
def index():
    scope = visible_recommendations(current_user, Recommendation)
    counts, ages = status_and_age_counts(scope, today())
    # Newest first, each report's recommendations in the order recorded: the order of the
    # indexes ix_recommendations_(office_)list_order, so a page is read, not sorted.
    page = paginate(
        sa.select(*RecommendationLine.columns()).join(Recommendation.report).join(Recommendation.action_office)
        .where(scope).order_by(Recommendation.issued_on.desc(), Recommendation.report_id, Recommendation.id),
        DASHBOARD_PER_PAGE, total=sum(counts.values()), rows=lambda row: RecommendationLine(*row))
    recommendations = page.items
    status_counts = [(s, STATUS_LABELS[s], counts[s]) for s in STATUSES]
    clocks = {r.id: clocks_for(r, today()) for r in recommendations if r.is_open}
    return render_template("dashboard/index.html", recommendations=recommendations, page=page,
                           status_counts=status_counts, clocks=clocks,
                           insights=dashboard_insights(current_user, today(), ages), today=today())
