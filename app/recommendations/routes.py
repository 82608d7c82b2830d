from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.comments import services as comments
from app.comments.forms import CommentForm
from app.comments.routes import post_comment
from app.extensions import db
from app.inputs import page_status
from app.notifications import services as notify
from app.history import KINDS as HISTORY_KINDS, described
from app.pagination import paginate
from app.permissions import ANY_ROLE, can_change_status, require_comment, require_edit_concurrence, roles
from app.recommendations import bp
from app.recommendations.clocks import clocks_for
from app.recommendations.forms import ConcurrenceForm, StatusChangeForm
from app.recommendations.models import CONCURRENCE_LABELS
from app.recommendations.services import (
    RESPONSE_LABELS,
    change_status,
    get_recommendation_or_404,
    history,
    history_query,
    legal_targets,
    update_response,
)
from app.submissions import services as submissions
from app.submissions.package import readiness_for
from app.timeutil import today
from app.versioning import guard

#: How many events the recommendation page shows before "full history".
RECENT_EVENTS = 5
HISTORY_PER_PAGE = 50


@bp.route("/<int:recommendation_id>", methods=["GET", "POST"])
@roles(*ANY_ROLE)
def show(recommendation_id: int):
    if request.method == "POST":  # the conversation's form, answered in place
        if request.form.get("action") != "comment":
            abort(400)
        return post_comment(recommendation_id, lambda form: _show(recommendation_id, form, 400))
    return _show(recommendation_id)


def _show(recommendation_id: int, comment_form=None, status: int = 200):
    recommendation = get_recommendation_or_404(recommendation_id, with_plan=True)
    sent = submissions.for_recommendation(recommendation.id)
    return render_template(
        "recommendations/show.html",
        recommendation=recommendation,
        today=today(),
        clocks=clocks_for(recommendation, today()),
        submissions=sent,
        comments=comments.for_recommendation(recommendation.id),
        comment_form=comment_form or CommentForm(formdata=None),
        events=described(history(recommendation.id, limit=RECENT_EVENTS)),
    ), status


def _mentionable(recommendation_id: int):
    """The recommendation page's load-and-authorise, then the comment form's rule: only those who
    may write in the conversation are shown who they may mention."""
    recommendation = get_recommendation_or_404(recommendation_id)
    require_comment(recommendation)
    return recommendation, notify.readers_of(recommendation)


@bp.route("/<int:recommendation_id>/mentionable.json")
@roles(*ANY_ROLE)
def mentionable_json(recommendation_id: int):
    """What mentions.js suggests, fetched when the comment box is first used: the page itself no
    longer carries the list, as it is read far more often than anyone writes."""
    _, people = _mentionable(recommendation_id)
    return jsonify([{"name": p.name, "email": p.email} for p in people])  # no-store, as every page


@bp.route("/<int:recommendation_id>/mentionable")
@roles(*ANY_ROLE)
def mentionable_page(recommendation_id: int):
    recommendation, people = _mentionable(recommendation_id)
    return render_template("recommendations/mentionable.html", recommendation=recommendation, people=people)


@bp.route("/<int:recommendation_id>/history")
@roles(*ANY_ROLE)
def history_page(recommendation_id: int):
    recommendation = get_recommendation_or_404(recommendation_id)
    kind = request.args.get("kind") if request.args.get("kind") in HISTORY_KINDS else None
    page = paginate(history_query(recommendation.id, kind), HISTORY_PER_PAGE)
    return render_template(
        "recommendations/history.html",
        recommendation=recommendation,
        events=described(page.items),
        page=page,
        kinds=HISTORY_KINDS,
        kind=kind,
    )


@bp.route("/<int:recommendation_id>/status", methods=["GET", "POST"])
@roles(*ANY_ROLE)
def status(recommendation_id: int):
    """The status form; the machine itself (change_status) decides who may move it where."""
    recommendation = get_recommendation_or_404(recommendation_id)
    if request.method == "GET" and not can_change_status(current_user):
        abort(403)
    targets = legal_targets(recommendation.status)
    form = StatusChangeForm(targets=targets)
    # Closing is warned against what is not done, as on a closure request's page.
    open_items = readiness_for(recommendation) if "resolved_closed" in targets else []
    # Only for who may close: anyone else is refused (403, audited) by change_status itself.
    form.open_items = open_items if can_change_status(current_user) else []
    if form.validate_on_submit():
        change = change_status(recommendation, form.to_status.data, form.reason.data, current_user)
        db.session.commit()
        flash(f"Status changed from “{change.from_label}” to “{change.to_label}”.", "success")
        return redirect(url_for("recommendations.show", recommendation_id=recommendation.id))
    return render_template(
        "recommendations/status.html", recommendation=recommendation, form=form, open_items=open_items
    ), page_status(form)


@bp.route("/<int:recommendation_id>/concurrence", methods=["GET", "POST"])
@roles("action_office")
def concurrence(recommendation_id: int):
    recommendation = get_recommendation_or_404(recommendation_id)
    require_edit_concurrence(recommendation)
    form = ConcurrenceForm(obj=recommendation, issued_on=recommendation.issued_on)
    if request.method == "GET":
        form.set_version(recommendation.version)
    conflict = None
    if form.validate_on_submit():
        with guard(
            recommendation, form, RESPONSE_LABELS, display={"concurrence": lambda v: CONCURRENCE_LABELS.get(v, v)}
        ) as saved:
            changed = update_response(
                recommendation,
                current_user,
                concurrence=form.concurrence.data,
                concurrence_response=form.concurrence_response.data,
                responsible_official=form.responsible_official.data,
                target_completion_on=form.target_completion_on.data,
            )
            db.session.commit()
        conflict = saved.conflict
        if conflict is None:
            if changed:
                flash("The office's response was saved.", "success")
            return redirect(url_for("recommendations.show", recommendation_id=recommendation.id))
    status = page_status(form, conflict)
    return render_template(
        "recommendations/concurrence.html", recommendation=recommendation, form=form, conflict=conflict
    ), status
