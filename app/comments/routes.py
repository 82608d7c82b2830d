from flask import redirect, render_template, url_for
from flask_login import current_user

from app.comments import bp
from app.comments.forms import CommentForm
from app.comments.services import add_comment
from app.extensions import db
from app.notifications import services as notify
from app.permissions import roles, require_comment
from app.recommendations.services import get_recommendation_or_404


@bp.route("/recommendations/<int:recommendation_id>/comments", methods=["POST"])
@roles("oig_reviewer", "action_office", "manager")
def create(recommendation_id: int):
    recommendation = get_recommendation_or_404(recommendation_id)
    require_comment(recommendation)
    form = CommentForm()
    if not form.validate_on_submit():
        return render_template(
            "comments/new.html", recommendation=recommendation, form=form, mentionable=notify.readers_of(recommendation)
        ), 400
    comment = add_comment(recommendation, form.body.data, current_user)
    db.session.commit()
    return redirect(
        url_for("recommendations.show", recommendation_id=recommendation.id, _anchor=f"comment-{comment.id}")
    )
