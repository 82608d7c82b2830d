import sqlalchemy as sa
from flask import render_template
from flask_login import current_user
from sqlalchemy.orm import contains_eager

from app.dashboard import bp
from app.dashboard.insights import dashboard_insights, status_and_age_counts
from app.pagination import paginate
from app.permissions import ANY_ROLE, roles, visible_recommendations
from app.recommendations.clocks import clocks_for
from app.recommendations.models import STATUS_LABELS, STATUSES, Recommendation
from app.reports.models import Report
from app.submissions.services import submission_dates
from app.timeutil import today


DASHBOARD_PER_PAGE = 25


@bp.route("/")
@roles(*ANY_ROLE)
def index():
    scope = visible_recommendations(current_user, Recommendation)
    page = paginate(
        sa.select(Recommendation).join(Recommendation.report).where(scope)
        .options(contains_eager(Recommendation.report))
        .order_by(Report.issued_on.desc(), Report.number, Recommendation.number, Recommendation.id),
        DASHBOARD_PER_PAGE, unique=True)
    recommendations = page.items
    counts, ages = status_and_age_counts(scope, today())
    status_counts = [(s, STATUS_LABELS[s], counts[s]) for s in STATUSES]
    dates = submission_dates(r.id for r in recommendations)
    clocks = {r.id: clocks_for(r, today(), **dates.get(r.id, {})) for r in recommendations if r.is_open}
    return render_template("dashboard/index.html", recommendations=recommendations, page=page,
                           status_counts=status_counts, clocks=clocks,
                           insights=dashboard_insights(current_user, today(), ages), today=today())
