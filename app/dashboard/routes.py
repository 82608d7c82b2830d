from flask import render_template, request
from flask_login import current_user

from app.dashboard import bp
from app.dashboard.filters import (
    AGE_CHOICES,
    PRIORITY_CHOICES,
    SORTS,
    STATUS_CHOICES,
    ListFilter,
    choices_statement,
    list_statements,
)
from app.extensions import db
from app.dashboard.insights import (
    RecommendationLine,
    dashboard_figures,
    dashboard_insights,
    dashboard_statements,
    dashboard_values,
)
from app.notifications import queues
from app.notifications.routes import decide_in_queue
from app.pagination import paginate_bound
from app.permissions import ANY_ROLE, reads_every_office, roles
from app.recommendations.clocks import clocks_for
from app.recommendations.models import STATUS_LABELS, STATUSES
from app.timeutil import today


DASHBOARD_PER_PAGE = 25
#: The oldest items of the role's queue shown on the start page (the queue page has them all).
QUEUE_ON_DASHBOARD = 5


@bp.route("/", methods=["GET", "POST"])
@roles(*ANY_ROLE)
def index():
    if request.method == "POST":  # a date change decided in the manager's queue, shown here
        return decide_in_queue(_index)
    return _index()


def _index(status: int = 200):
    on = today()
    every_office = reads_every_office(current_user)
    figures = dashboard_figures(current_user, on)
    counts = figures.by_status
    chosen = ListFilter.from_args(request.args, every_office=every_office)
    values = dashboard_values(current_user, on)
    if chosen.active or chosen.sort != "newest":
        statements = list_statements(every_office, chosen.shape)
        values.update(chosen.values(on))
        total = sum(counts.values()) if not chosen.active else db.session.scalar(statements.count, values)
        statement = statements.page
    else:  # the list as it opens: read in the order of its indexes, counted by status already
        statement, total = dashboard_statements(every_office).page, sum(counts.values())
    page = paginate_bound(statement, values, DASHBOARD_PER_PAGE, total=total, rows=lambda row: RecommendationLine(*row))
    options = db.session.execute(choices_statement(every_office), values).all()
    recommendations = page.items
    status_counts = [(s, STATUS_LABELS[s], counts[s]) for s in STATUSES]
    clocks = {r.id: clocks_for(r, on) for r in recommendations if r.is_open}
    queue = queues.queue_page(current_user, on, 1, QUEUE_ON_DASHBOARD)
    return render_template(
        "dashboard/index.html",
        recommendations=recommendations,
        page=page,
        queue=queue,
        queue_title=queues.QUEUE_TITLES.get(current_user.role),
        status_counts=status_counts,
        clocks=clocks,
        chosen=chosen,
        every_office=every_office,
        office_choices=[(v, label) for kind, v, label in options if kind == "office"],
        oig_choices=[v for kind, v, _ in options if kind == "oig"],
        status_choices=STATUS_CHOICES,
        age_choices=AGE_CHOICES,
        priority_choices=PRIORITY_CHOICES,
        sorts=SORTS,
        insights=dashboard_insights(current_user, on, figures),
        today=on,
    ), status
