from flask import render_template, request
from flask_login import current_user

from app.pagination import page_number
from app.permissions import ANY_ROLE, roles
from app.recommendations.models import STATUS_LABELS
from app.search import bp
from app.search.services import COUNT_CAP, KINDS, count_label, search


@bp.route("/")
@roles(*ANY_ROLE)
def index():
    filters = {"status": request.args.get("status", ""), "office": request.args.get("office", "")}
    result = search(current_user, request.args.get("q", ""), request.args.get("kind"), filters, page_number())
    return render_template(
        "search/index.html",
        result=result,
        kinds=KINDS,
        filters=filters,
        count_label=count_label,
        cap=COUNT_CAP,
        status_labels=STATUS_LABELS,
    )
