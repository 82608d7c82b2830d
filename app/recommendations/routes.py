from flask import render_template

from app.permissions import ANY_ROLE, roles
from app.recommendations import bp
from app.recommendations.services import get_recommendation_or_404
from app.timeutil import today


@bp.route("/<int:recommendation_id>")
@roles(*ANY_ROLE)
def show(recommendation_id: int):
    recommendation = get_recommendation_or_404(recommendation_id, with_plan=True)
    return render_template("recommendations/show.html", recommendation=recommendation, today=today())
