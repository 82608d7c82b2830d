from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.extensions import db
from app.pagination import paginate
from app.permissions import ANY_ROLE, require_decide, require_submit, roles
from app.recommendations.services import get_recommendation_or_404
from app.submissions import bp, services
from app.submissions.forms import DecisionForm, SubmissionForm
from app.submissions.models import KIND_LABELS

AWAITING_PER_PAGE = 50


@bp.app_template_filter("isodate")
def isodate(value, fmt="%b %-d, %Y"):
    """A date kept as ISO text in a snapshot, shown like every other date."""
    from datetime import date
    return date.fromisoformat(value).strftime(fmt) if value else "—"


@bp.route("/recommendations/<int:recommendation_id>/submissions/new/<kind>", methods=["GET", "POST"])
@roles("action_office")
def new(recommendation_id: int, kind: str):
    if kind not in KIND_LABELS:
        abort(404)
    recommendation = get_recommendation_or_404(recommendation_id, with_plan=True)
    require_submit(recommendation)
    form = SubmissionForm()
    if form.validate_on_submit():
        submission = services.submit(recommendation, kind, form.narrative.data, current_user)
        db.session.commit()
        flash(f"{submission.title} was sent to OIG.", "success")
        return redirect(url_for("submissions.show", submission_id=submission.id))
    return render_template("submissions/new.html", recommendation=recommendation, kind=kind,
                           kind_label=KIND_LABELS[kind], form=form), 400 if form.errors else 200


@bp.route("/submissions/<int:submission_id>")
@roles(*ANY_ROLE)
def show(submission_id: int):
    submission = services.get_submission_or_404(submission_id)
    return render_template("submissions/show.html", submission=submission,
                           recommendation=submission.recommendation, form=DecisionForm(submission=submission))


@bp.route("/submissions/<int:submission_id>/decision", methods=["POST"])
@roles("oig_reviewer")
def decide(submission_id: int):
    submission = services.get_submission_or_404(submission_id)
    require_decide(submission)
    form = DecisionForm(submission=submission)
    if not form.validate_on_submit():
        return render_template("submissions/show.html", submission=submission,
                               recommendation=submission.recommendation, form=form), 400
    services.decide(submission, form.decision.data, form.analysis.data, current_user,
                    disallowed_costs=form.disallowed_costs.data, agreed_funds=form.agreed_funds.data)
    db.session.commit()
    flash(f"{submission.title} {submission.decision}.", "success")
    return redirect(url_for("recommendations.show", recommendation_id=submission.recommendation_id))


@bp.route("/submissions/awaiting")
@roles("oig_reviewer")
def awaiting():
    page = paginate(services.awaiting_decision_query(), AWAITING_PER_PAGE,
                    total=services.awaiting_decision_count())
    return render_template("submissions/awaiting.html", submissions=page.items, page=page)
