"""Bearer-token authentication for /api/v1: the token, never the session cookie, says who calls."""

import sqlalchemy as sa
from flask import abort, g, request
from werkzeug.exceptions import Unauthorized

from app.api.models import ApiToken
from app.extensions import db
from app.security import hash_token
from app.timeutil import utcnow


class TokenRequired(Unauthorized):
    def get_headers(self, environ=None, scope=None):
        return [*super().get_headers(environ, scope), ("WWW-Authenticate", 'Bearer realm="api"')]


def token_from_request() -> ApiToken | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(secret.strip())))
    if token is None or not token.is_active:
        return None
    return token


def require_token(scope: str) -> None:
    """Sets ``g.api_user`` and ``g.api_token``, or aborts 401 (no valid token) / 403 (read-only token)."""
    token = token_from_request()
    if token is None:
        raise TokenRequired("A valid personal access token is required: send `Authorization: Bearer <token>`.")
    g.api_token, g.api_user = token, token.user
    if not token.allows(scope):
        abort(403, "This token is read-only; this operation needs a token with the write scope.")
    token.last_used_at = utcnow()


def api_user():
    return g.api_user
