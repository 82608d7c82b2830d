from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.errors import record_conflict
from app.extensions import db
from app.inputs import page_status
from app.pagination import paginate_bound
from app.permissions import ANY_ROLE, require_decide, require_submit, roles
from app.recommendations.services import get_recommendation_or_404
from app.submissions import bp, services
from app.submissions.package import closure_package, readiness_for
from app.submissions.forms import DecisionForm, SubmissionForm
from app.submissions.models import KIND_LABELS
from app.timeutil import today

AWAITING_PER_PAGE = 50


@bp.route("/recommendations/<int:recommendation_id>/closure-package")
@roles(*ANY_ROLE)
def package(recommendation_id: int):
    """Everything a closure rests on, and what is not done yet, on one page."""
    recommendation = get_recommendation_or_404(recommendation_id, with_plan=True)
    return render_template(
        "submissions/package.html",
        recommendation=recommendation,
        package=closure_package(recommendation),
        today=today(),
    )


@bp.route("/recommendations/<int:recommendation_id>/submissions/new/<kind>", methods=["GET", "POST"])
@roles("action_office")
def new(recommendation_id: int, kind: str):
    """Write the cover narrative, then confirm what will be sent (same URL, two steps).

    The second step shows what OIG will receive; for a closure request it lists what is not
    done yet and asks the sender to acknowledge each item in words, recorded with the submission."""
    if kind not in KIND_LABELS:
        abort(404)
    recommendation = get_recommendation_or_404(recommendation_id, with_plan=True)
    require_submit(recommendation)
    if request.method == "POST" and "confirm" in request.form:
        # Checked and sent under the recommendation's lock: a second send at the same moment (a
        # double click) waits for the first, then finds it awaiting OIG's decision.
        services.lock_recommendation(recommendation)
    pending = services.pending_submission(recommendation, kind)
    reason = services.why_not_sendable(recommendation, kind, pending)
    if reason:
        # Typed or bookmarked while it cannot be sent, or sent twice: the state, not a form that
        # would be refused; a send is answered 409 and recorded, as services.check_sendable does.
        status = 200
        if request.method == "POST":
            status = 409
            record_conflict(
                reason,
                recommendation_id=recommendation.id,
                kind=kind,
                status=recommendation.status,
                **({"pending": pending.number} if pending is not None else {}),
            )
        return render_template(
            "submissions/not_now.html",
            recommendation=recommendation,
            kind_label=KIND_LABELS[kind],
            pending=pending,
            reason=reason,
        ), status
    form = SubmissionForm()
    context = {"recommendation": recommendation, "kind": kind, "kind_label": KIND_LABELS[kind], "form": form}
    if not form.validate_on_submit() or "edit" in request.form:
        return render_template("submissions/new.html", **context), page_status(form)
    package = closure_package(recommendation)
    items = package.readiness if kind == "closure_request" else []
    acknowledgements = {item.key: request.form.get(f"ack-{item.key}", "") for item in items}
    confirm = {"package": package, "items": items, "acknowledgements": acknowledgements, "today": today()}
    if "confirm" not in request.form:
        return render_template("submissions/confirm.html", **context, **confirm, missing=())
    try:
        submission = services.submit(
            recommendation, kind, form.narrative.data, current_user, acknowledgements=acknowledgements
        )
    except services.NotAcknowledged as refused:
        return render_template(
            "submissions/confirm.html", **context, **confirm, missing={item.key for item in refused.items}
        ), 400
    db.session.commit()
    flash(f"{submission.title} was sent to OIG.", "success")
    return redirect(url_for("submissions.show", submission_id=submission.id))


def _show(submission, form, status=200):
    package = closure_package(submission.recommendation) if submission.kind == "closure_request" else None
    return render_template(
        "submissions/show.html",
        submission=submission,
        recommendation=submission.recommendation,
        form=form,
        package=package,
        today=today(),
    ), status


@bp.route("/submissions/<int:submission_id>", methods=["GET", "POST"])
@roles(*ANY_ROLE)
def show(submission_id: int):
    """The submission; OIG's decision form posts here, so a refused decision stays at this address."""
    if request.method == "POST":
        return _decide(submission_id)
    submission = services.get_submission_or_404(submission_id)
    return _show(submission, DecisionForm(submission=submission))


def _decide(submission_id: int):
    submission = services.get_submission_or_404(submission_id)
    require_decide(submission)
    form = DecisionForm(submission=submission)
    if submission.kind == "closure_request":
        form.open_items = readiness_for(submission.recommendation)
    if not form.validate_on_submit():
        return _show(submission, form, 400)
    services.decide(
        submission,
        form.decision.data,
        form.analysis.data,
        current_user,
        disallowed_costs=form.disallowed_costs.data,
        agreed_funds=form.agreed_funds.data,
    )
    db.session.commit()
    flash(f"{submission.title} {submission.decision}.", "success")
    return redirect(url_for("recommendations.show", recommendation_id=submission.recommendation_id))


@bp.route("/submissions/awaiting")
@roles("oig_reviewer")
def awaiting():
    page = paginate_bound(
        services.awaiting_decision_statement(),
        {},
        AWAITING_PER_PAGE,
        total=services.awaiting_decision_count(),
        rows=services.awaiting_line,
    )
    return render_template("submissions/awaiting.html", submissions=page.items, page=page)
