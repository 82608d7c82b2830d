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


#: Access rules of API views: the bearer token authorises, not the session.
TOKEN_ACCESS = ("token:read", "token:write")


def token_scope(scope: str):
    """API views: a valid personal access token with ``scope`` ("read" or "write"), else 401/403 JSON."""
    if f"token:{scope}" not in TOKEN_ACCESS:
        raise ValueError(f"unknown token scope {scope}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from app.api.auth import require_token
            require_token(scope)
            return view(*args, **kwargs)

        wrapped.access = f"token:{scope}"
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


def visible_recommendations(user, recommendation_cls):
    """A WHERE clause limiting a recommendation query to what ``user`` may read."""
    if user.role in READ_ALL_ROLES:
        return sa.true()
    return recommendation_cls.action_office_id == user.office_id


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
        sa.select(recommendation_cls.id).where(recommendation_cls.action_office_id == user.office_id))


def require_view_recommendation(recommendation) -> None:
    if not can_view_recommendation(current_user, recommendation):
        abort(403)


def require_edit_plan(recommendation) -> None:
    if not can_edit_plan(current_user, recommendation):
        abort(403)


TEMPLATE_HELPERS = {
    "can_view_recommendation": can_view_recommendation,
    "can_edit_plan": can_edit_plan,
    "can_change_status": can_change_status,
    "can_import_recommendations": can_import_recommendations,
}
