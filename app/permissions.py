"""Who may do what: one vocabulary for views (``require_*``) and templates (``can_*``).

Every view declares its rule with ``@public`` or ``@roles(...)``; a view without one
is refused (fail closed), and ``tests/test_access.py`` fails on it.
"""

from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from app.auth.models import ROLES
from app.dbtypes import bound
from app.api.auth import require_token
from app.extensions import login_manager

ANY_ROLE = ROLES
#: Roles that read every office's work.
READ_ALL_ROLES = ("oig_reviewer", "admin")


def public(view):
    view.access = "public"
    return view


def roles(*allowed: str):
    """Only signed-in users with one of ``allowed`` roles may call the view."""
    unknown = set(allowed) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.access = tuple(allowed)  # type: ignore[attr-defined]
        return wrapped

    return decorator


#: Access rules of API views: the bearer token authorises, not the session.
TOKEN_ACCESS = ("token:read", "token:write")


def token_scope(scope: str):
    """API views: a valid personal access token with ``scope`` ("read" or "write"), else 401/403 JSON."""
    if f"token:{scope}" not in TOKEN_ACCESS:
        raise ValueError(f"unknown token scope {scope}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            require_token(scope)
            return view(*args, **kwargs)

        wrapped.access = f"token:{scope}"  # type: ignore[attr-defined]
        return wrapped

    return decorator


# --- object rules -------------------------------------------------------------


def can_view_recommendation(user, recommendation) -> bool:
    if not user.is_authenticated:
        return False
    return user.role in READ_ALL_ROLES or user.office_id == recommendation.action_office_id


def can_edit_plan(user, recommendation) -> bool:
    """Action office staff of the responsible office, or an admin; never OIG."""
    if not user.is_authenticated or not recommendation.is_open:
        return False
    if user.role == "admin":
        return True
    return user.role == "action_office" and user.office_id == recommendation.action_office_id


def can_change_status(user) -> bool:
    return user.is_authenticated and user.role == "oig_reviewer"


def can_make_transition(user, recommendation, to_status: str, via=None) -> bool:
    """Only OIG moves the status, except the move the office's own closure request makes."""
    if can_change_status(user):
        return True
    return (
        via is not None
        and via.kind == "closure_request"
        and to_status == "closure_pending"
        and via.submitted_by_id == user.id
        and user.role == "action_office"
        and user.office_id == recommendation.action_office_id
    )


def can_submit(user, recommendation) -> bool:
    """Staff of the responsible office send plans, updates and closure requests; nobody else."""
    return (
        user.is_authenticated
        and user.role == "action_office"
        and user.office_id == recommendation.action_office_id
        and recommendation.is_open
    )


def can_decide(user, submission) -> bool:
    """OIG decides; nobody decides a submission they sent (admins and the office never decide)."""
    return user.is_authenticated and user.role == "oig_reviewer" and submission.submitted_by_id != user.id


def can_edit_concurrence(user, recommendation) -> bool:
    """The office states whether it concurs; OIG reads it."""
    return user.is_authenticated and user.role == "action_office" and user.office_id == recommendation.action_office_id


def can_comment(user, recommendation) -> bool:
    """The conversation is between OIG and the office (its staff and managers)."""
    if not can_view_recommendation(user, recommendation):
        return False
    return user.role in ("oig_reviewer", "action_office", "manager")


def can_create_reports(user) -> bool:
    return user.is_authenticated and user.role in ("oig_reviewer", "admin")


def can_view_milestone(user, milestone) -> bool:
    """Readers of the recommendation, and the milestone's responsible office."""
    if not user.is_authenticated:
        return False
    return can_view_recommendation(user, milestone.line_of_effort.recommendation) or (
        user.office_id is not None and user.office_id == milestone.office_id
    )


def can_edit_milestone(user, milestone) -> bool:
    """Action office staff of the milestone's office or of the plan's office, or an admin; never OIG."""
    recommendation = milestone.line_of_effort.recommendation
    if not user.is_authenticated or not recommendation.is_open:
        return False
    if user.role == "admin":
        return True
    return user.role == "action_office" and user.office_id in (milestone.office_id, recommendation.action_office_id)


def can_decide_date_change(user, change) -> bool:
    """A manager of the milestone's office (or of the plan's office), never on their own request."""
    if not user.is_authenticated or user.role != "manager" or change.status != "pending":
        return False
    milestone = change.milestone
    recommendation = milestone.line_of_effort.recommendation
    return (
        recommendation.is_open
        and change.requested_by_id != user.id
        and user.office_id in (milestone.office_id, recommendation.action_office_id)
    )


def can_decide_target_change(user, change) -> bool:
    """A manager of the plan's office, never on their own request (as for due dates)."""
    if not user.is_authenticated or user.role != "manager" or change.status != "pending":
        return False
    recommendation = change.metric.line_of_effort.recommendation
    return (
        recommendation.is_open
        and change.requested_by_id != user.id
        and user.office_id == recommendation.action_office_id
    )


def can_review_evidence(user, recommendation) -> bool:
    """OIG reviewers judge evidence; the office that offered it never does."""
    return user.is_authenticated and user.role == "oig_reviewer" and can_view_recommendation(user, recommendation)


def can_correct_records(user) -> bool:
    """Correcting a report or a recommendation as OIG issued it: OIG and administrators; never
    the action office, whose answers to the report are its own records."""
    return user.is_authenticated and user.role in ("oig_reviewer", "admin")


def can_edit_metrics(user, recommendation) -> bool:
    """Defining metrics, entering readings and answering flags: the same people who edit the plan."""
    return can_edit_plan(user, recommendation)


def reads_every_office(user) -> bool:
    """Whether ``user`` reads every office's recommendations; else only their own office's."""
    return user.role in READ_ALL_ROLES


def visible_recommendations(user, recommendation_cls):
    """A WHERE clause limiting a recommendation query to what ``user`` may read."""
    return _office_scope(reads_every_office(user), recommendation_cls, user.office_id)


def visible_recommendations_bound(every_office: bool, recommendation_cls):
    """``visible_recommendations`` for a statement built once and run for many users:
    ``every_office`` is ``reads_every_office(user)``, else the user's office is bound as
    ``office_id`` when it runs."""
    return _office_scope(every_office, recommendation_cls, bound("office_id", sa.Integer))


def _office_scope(every_office: bool, recommendation_cls, office_id):
    return sa.true() if every_office else recommendation_cls.action_office_id == office_id


def can_import_recommendations(user) -> bool:
    """OIG staff record their reports; an administrator may load them for an office."""
    return user.is_authenticated and user.role in ("oig_reviewer", "admin")


def visible_audit_events(user, event_cls, recommendation_cls):
    """A WHERE clause limiting audit events to those ``user`` may read.

    OIG and administrators read the whole trail; others read the events of the
    recommendations they may see.
    """
    if user.role in READ_ALL_ROLES:
        return sa.true()
    return event_cls.recommendation_id.in_(
        sa.select(recommendation_cls.id).where(recommendation_cls.action_office_id == user.office_id)
    )


def require_view_recommendation(recommendation) -> None:
    if not can_view_recommendation(current_user, recommendation):
        abort(403)


def require_edit_plan(recommendation) -> None:
    if not can_edit_plan(current_user, recommendation):
        abort(403)


def require_correct_records() -> None:
    if not can_correct_records(current_user):
        abort(403)


def require_submit(recommendation) -> None:
    if not can_submit(current_user, recommendation):
        abort(403)


def require_decide(submission) -> None:
    if not can_decide(current_user, submission):
        abort(403)


def require_edit_concurrence(recommendation) -> None:
    if not can_edit_concurrence(current_user, recommendation):
        abort(403)


def require_comment(recommendation) -> None:
    if not can_comment(current_user, recommendation):
        abort(403)


def require_view_milestone(milestone) -> None:
    if not can_view_milestone(current_user, milestone):
        abort(403)


def require_edit_milestone(milestone) -> None:
    if not can_edit_milestone(current_user, milestone):
        abort(403)


def require_decide_date_change(change) -> None:
    if not can_decide_date_change(current_user, change):
        abort(403)


def require_review_evidence(recommendation) -> None:
    if not can_review_evidence(current_user, recommendation):
        abort(403)


def require_decide_target_change(change) -> None:
    if not can_decide_target_change(current_user, change):
        abort(403)


def require_edit_metrics(recommendation) -> None:
    if not can_edit_metrics(current_user, recommendation):
        abort(403)


TEMPLATE_HELPERS = {
    "can_view_recommendation": can_view_recommendation,
    "can_edit_plan": can_edit_plan,
    "can_change_status": can_change_status,
    "can_submit": can_submit,
    "can_decide": can_decide,
    "can_edit_concurrence": can_edit_concurrence,
    "can_comment": can_comment,
    "can_create_reports": can_create_reports,
    "can_correct_records": can_correct_records,
    "can_view_milestone": can_view_milestone,
    "can_edit_milestone": can_edit_milestone,
    "can_decide_date_change": can_decide_date_change,
    "can_decide_target_change": can_decide_target_change,
    "can_review_evidence": can_review_evidence,
    "can_edit_metrics": can_edit_metrics,
    "can_import_recommendations": can_import_recommendations,
}
