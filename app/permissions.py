"""Who may do what: one vocabulary for views (``require_*``) and templates (``can_*``).

Every view declares its rule with ``@public`` or ``@roles(...)``; a view without one
is refused (fail closed), and ``tests/test_access.py`` fails on it.
"""
from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from app.auth.models import ROLES

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
                from app.extensions import login_manager
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.access = tuple(allowed)
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


def can_edit_metrics(user, recommendation) -> bool:
    """Defining metrics, entering readings and answering flags: the same people who edit the plan."""
    return can_edit_plan(user, recommendation)


def visible_recommendations(user, recommendation_cls):
    """A WHERE clause limiting a recommendation query to what ``user`` may read."""
    if user.role in READ_ALL_ROLES:
        return sa.true()
    return recommendation_cls.action_office_id == user.office_id


def require_view_recommendation(recommendation) -> None:
    if not can_view_recommendation(current_user, recommendation):
        abort(403)


def require_edit_plan(recommendation) -> None:
    if not can_edit_plan(current_user, recommendation):
        abort(403)


def require_edit_metrics(recommendation) -> None:
    if not can_edit_metrics(current_user, recommendation):
        abort(403)


TEMPLATE_HELPERS = {
    "can_view_recommendation": can_view_recommendation,
    "can_edit_plan": can_edit_plan,
    "can_change_status": can_change_status,
    "can_edit_metrics": can_edit_metrics,
}
