"""Who may do what: one vocabulary for views (``require_*``) and templates (``can_*``).

Every view declares its rule with ``@public`` or ``@roles(...)``; a view without one
is refused (fail closed), and ``tests/web/test_access.py`` fails on it.
"""

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from app.api.auth import require_token
from app.auth.models import ROLES
from app.dbtypes import bound
from app.extensions import login_manager
from app.milestones.models import DueDateChange, Milestone
from app.recommendations.models import Recommendation

ANY_ROLE = ROLES
T = TypeVar("T")
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


def _require(rule: Callable[..., bool]) -> Callable[..., None]:
    """``require_x(*args)``: 403 unless ``can_x(current_user, *args)``."""

    def require(*args) -> None:
        if not rule(current_user, *args):
            abort(403)

    require.__name__ = rule.__name__.replace("can_", "require_", 1)
    require.__doc__ = f"403 unless ``{rule.__name__}(current_user, ...)``."
    return require


require_view_recommendation = _require(can_view_recommendation)
require_edit_plan = _require(can_edit_plan)
require_correct_records = _require(can_correct_records)
require_submit = _require(can_submit)
require_decide = _require(can_decide)
require_edit_concurrence = _require(can_edit_concurrence)
require_comment = _require(can_comment)
require_view_milestone = _require(can_view_milestone)
require_edit_milestone = _require(can_edit_milestone)
require_decide_date_change = _require(can_decide_date_change)
require_review_evidence = _require(can_review_evidence)
require_decide_target_change = _require(can_decide_target_change)
require_edit_metrics = _require(can_edit_metrics)


# --- load, then authorise ---------------------------------------------------------


def recommendation_of(obj) -> Recommendation:
    """Every object a view loads belongs to one recommendation (each child's ``recommendation``
    property walks up to it); a recommendation is its own."""
    return obj if isinstance(obj, Recommendation) else obj.recommendation


def can_view(user, obj) -> bool:
    """Whether ``user`` may read ``obj`` at all: a milestone and its due-date changes are read by
    the recommendation's readers and by the milestone's responsible office; anything else by the
    recommendation's readers."""
    if isinstance(obj, DueDateChange):
        obj = obj.milestone
    if isinstance(obj, Milestone):
        return can_view_milestone(user, obj)
    return can_view_recommendation(user, recommendation_of(obj))


def _on_recommendation(rule: Callable[..., bool]) -> Callable[..., bool]:
    return lambda user, obj: rule(user, recommendation_of(obj))


#: What a view may ask of an object beyond reading it, each decided by a ``can_*`` rule:
#: rules about the plan take the object's recommendation, the others the object itself.
NEEDS: dict[str, Callable[..., bool]] = {
    "view": lambda user, obj: True,
    "view_recommendation": _on_recommendation(can_view_recommendation),
    "edit_plan": _on_recommendation(can_edit_plan),
    "edit_metrics": _on_recommendation(can_edit_metrics),
    "review_evidence": _on_recommendation(can_review_evidence),
    "edit_milestone": can_edit_milestone,
    "decide_date_change": can_decide_date_change,
    "decide_target_change": can_decide_target_change,
}


def authorise(obj: T | None, need: str = "view") -> T:
    """The second half of every ``get_<thing>_or_404``: the object as loaded, or a refusal.

    One rule for the refusal: nothing there is 404; there but refused is 403, whether the user
    may not read it (``can_view``) or may read it but not do ``need`` (``NEEDS``).
    """
    if obj is None:
        abort(404)
    if not (can_view(current_user, obj) and NEEDS[need](current_user, obj)):
        abort(403)
    return obj


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
