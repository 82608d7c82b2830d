from flask import render_template
from flask_login import current_user

from app.dashboard import bp
from app.dashboard.insights import (RecommendationLine, dashboard_insights, dashboard_statements, dashboard_values,
                                    status_and_age_counts)
from app.notifications import queues
from app.pagination import paginate_bound
from app.permissions import ANY_ROLE, reads_every_office, roles
from app.recommendations.clocks import clocks_for
from app.recommendations.models import STATUS_LABELS, STATUSES
from app.timeutil import today


DASHBOARD_PER_PAGE = 25
#: The oldest items of the role's queue shown on the start page (the queue page has them all).
QUEUE_ON_DASHBOARD = 5


@bp.route("/")
@roles(*ANY_ROLE)
def index():
    on = today()
    counts, ages = status_and_age_counts(current_user, on)
    page = paginate_bound(dashboard_statements(reads_every_office(current_user)).page,
                          dashboard_values(current_user, on), DASHBOARD_PER_PAGE, total=sum(counts.values()),
                          rows=lambda row: RecommendationLine(*row))
    recommendations = page.items
    status_counts = [(s, STATUS_LABELS[s], counts[s]) for s in STATUSES]
    clocks = {r.id: clocks_for(r, on) for r in recommendations if r.is_open}
    queue = queues.queue_page(current_user, on, 1, QUEUE_ON_DASHBOARD)
    return render_template("dashboard/index.html", recommendations=recommendations, page=page, queue=queue,
                           queue_title=queues.QUEUE_TITLES.get(current_user.role),
                           status_counts=status_counts, clocks=clocks,
                           insights=dashboard_insights(current_user, on, ages), today=on)
