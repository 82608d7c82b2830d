"""Single sign-on through the agency's OpenID Connect provider (authorization code flow, PKCE, state, nonce).

Authlib does the protocol: discovery, the authorization redirect with a fresh state, nonce and PKCE
verifier kept in the session, the code exchange (client secret or private_key_jwt), and the ID token's
signature, issuer, audience, expiry and nonce. This module decides who the person is: an identity seen
before is found by (issuer, subject); a first sign-in links by the provider's verified email to an
account an administrator created. Nobody is created here.
"""

import logging
from dataclasses import dataclass
from pathlib import Path

import requests
import sqlalchemy as sa
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from flask import current_app
from joserfc.errors import JoseError

from app import audit
from app.auth.models import ExternalIdentity, User
from app.auth.services import find_user_by_email
from app.extensions import db
from app.timeutil import utcnow

log = logging.getLogger(__name__)
_EXTENSION = "tracker_oidc"
#: What a failed exchange can raise: a refused or replayed code, a wrong state, a bad ID token, the
#: provider unreachable. Each ends as the one refusal the sign-in page shows.
PROTOCOL_ERRORS = (OAuthError, JoseError, requests.RequestException, ValueError, KeyError, TypeError, RuntimeError)


class SignInRefused(Exception):
    """The person may not sign in; ``reason`` goes to the audit trail, never to the page."""

    def __init__(self, reason: str, **details):
        super().__init__(reason)
        self.reason = reason
        self.details = details


def sso_enabled(app=None) -> bool:
    config = (app or current_app).config
    return bool(config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID"))


def password_sign_in_allowed(app=None) -> bool:
    """Passwords are refused only when SSO is on and PASSWORD_SIGN_IN is off: never lock everyone out."""
    config = (app or current_app).config
    return bool(config.get("PASSWORD_SIGN_IN", True)) or not sso_enabled(app)


def provider_name() -> str:
    return current_app.config.get("OIDC_PROVIDER_NAME") or "your agency account"


def client():
    """The app's OpenID Connect client, built from its configuration on first use."""
    registry = current_app.extensions.get(_EXTENSION)
    if registry is None:
        # current_app is a werkzeug LocalProxy; Flask types it as Flask, which has no _get_current_object
        registry = OAuth(current_app._get_current_object())  # type: ignore[attr-defined]
        config = current_app.config
        kwargs = {
            "scope": config.get("OIDC_SCOPES") or "openid email",
            "code_challenge_method": "S256",
            # A provider that does not answer must not hold a worker: every call gives up after this.
            "default_timeout": 10,
        }
        secret = config.get("OIDC_CLIENT_SECRET")
        auth_methods = None
        if config.get("OIDC_PRIVATE_KEY_FILE"):
            secret = Path(config["OIDC_PRIVATE_KEY_FILE"]).read_text()
            kwargs["token_endpoint_auth_method"] = "private_key_jwt"
            auth_methods = [PrivateKeyJWT()]
        elif not secret:
            kwargs["token_endpoint_auth_method"] = "none"  # a public client: PKCE alone protects the code
        registry.register(
            "agency",
            client_id=config["OIDC_CLIENT_ID"],
            client_secret=secret,
            server_metadata_url=config["OIDC_ISSUER"] + "/.well-known/openid-configuration",
            client_kwargs=kwargs,
            client_auth_methods=auth_methods,
        )
        current_app.extensions[_EXTENSION] = registry
    return registry.agency


def authorize_params() -> dict:
    acr = (current_app.config.get("OIDC_ACR_VALUES") or "").strip()
    return {"acr_values": acr} if acr else {}


@dataclass
class Verified:
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    id_token: str


def finish_authorization() -> Verified:
    """Exchange the callback's code and check the ID token; raises SignInRefused."""
    agency = client()
    try:
        token = agency.authorize_access_token(leeway=60)
    except PROTOCOL_ERRORS as error:
        raise SignInRefused("protocol", error=_describe(error)) from error
    claims = dict(token.get("userinfo") or {})
    if not claims.get("sub"):
        raise SignInRefused("protocol", error="no ID token in the provider's answer")
    if not claims.get("email") and agency.load_server_metadata().get("userinfo_endpoint"):
        # Login.gov, among others, gives the email at the userinfo endpoint, not in the ID token.
        try:
            extra = agency.userinfo(token=token)
        except PROTOCOL_ERRORS as error:
            raise SignInRefused("protocol", error=_describe(error)) from error
        if extra.get("sub") == claims["sub"]:
            claims.update({k: extra[k] for k in ("email", "email_verified") if k in extra})
    return Verified(
        issuer=claims["iss"],
        subject=str(claims["sub"])[:255],
        email=(claims.get("email") or None),
        email_verified=claims.get("email_verified") in (True, "true")
        or claims.get("xms_edov") in (True, "true", 1, "1"),
        id_token=token.get("id_token", ""),
    )


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:300]


def find_or_link(verified: Verified) -> User:
    """The account this provider identity signs in as; raises SignInRefused (the caller audits)."""
    identity = db.session.scalar(
        sa.select(ExternalIdentity).where(
            ExternalIdentity.issuer == verified.issuer, ExternalIdentity.subject == verified.subject
        )
    )
    if identity is not None:
        user = identity.user
    else:
        if not verified.email or not verified.email_verified:
            raise SignInRefused("email not verified by the provider")
        user = find_user_by_email(verified.email)
        if user is None:
            raise SignInRefused("no account with this email")
        other = db.session.scalar(
            sa.select(ExternalIdentity).where(
                ExternalIdentity.user_id == user.id, ExternalIdentity.issuer == verified.issuer
            )
        )
        if other is not None:
            # The account is already linked to another person at this provider: never re-link by email.
            raise SignInRefused("account linked to another identity at this provider", user_id=user.id)
        if not user.is_active:
            raise SignInRefused("account deactivated", user_id=user.id)
        identity = ExternalIdentity(
            user_id=user.id, issuer=verified.issuer, subject=verified.subject, email=verified.email[:254]
        )
        db.session.add(identity)
        db.session.flush()
        audit.record(
            "auth.sso_link",
            user,
            after={
                "provider": provider_name(),
                "issuer": verified.issuer,
                "subject": verified.subject,
                "email": verified.email,
            },
            actor=user,
        )
    if not user.is_active:
        raise SignInRefused("account deactivated", user_id=user.id)
    identity.last_used_at = utcnow()
    return user


def linked_identities(user: User) -> list[ExternalIdentity]:
    return list(
        db.session.scalars(
            sa.select(ExternalIdentity)
            .where(ExternalIdentity.user_id == user.id)
            .order_by(ExternalIdentity.created_at, ExternalIdentity.id)
        )
    )


def end_session_url(id_token: str | None, return_to: str) -> str | None:
    """The provider's end-session address for RP-initiated logout, or None where it offers none."""
    if not id_token or not sso_enabled():
        return None
    agency = client()
    try:
        if not agency.load_server_metadata().get("end_session_endpoint"):
            return None
        return agency.create_logout_url(
            post_logout_redirect_uri=return_to, id_token_hint=id_token, client_id=current_app.config["OIDC_CLIENT_ID"]
        )["url"]
    except PROTOCOL_ERRORS as error:
        log.warning("no end-session address from the provider: %s", _describe(error))
        return None
