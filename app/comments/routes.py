from flask import redirect, url_for
from flask_login import current_user

from app.comments.forms import CommentForm
from app.comments.services import add_comment
from app.extensions import db
from app.permissions import require_comment
from app.recommendations.services import get_recommendation_or_404


def post_comment(recommendation_id: int, render_refused):
    """A message of the conversation, posted to the recommendation's page (``action=comment``):
    an empty or too long one comes back there, at the same address (``render_refused(form)``)."""
    recommendation = get_recommendation_or_404(recommendation_id)
    require_comment(recommendation)
    form = CommentForm()
    if not form.validate_on_submit():
        return render_refused(form)
    comment = add_comment(recommendation, form.body.data, current_user)
    db.session.commit()
    return redirect(
        url_for("recommendations.show", recommendation_id=recommendation.id, _anchor=f"comment-{comment.id}")
    )
