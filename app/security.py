"""Transport and browser-side defences: response headers and the session cookie's flags.

The Content-Security-Policy allows scripts and styles from this site only: no inline script,
no inline ``<style>``, no ``style=`` attribute except the three fixed ones frappe-gantt writes
(allowed by hash, below), nothing from other origins, no plugins, no framing.
"""

import base64
import hashlib
import re
import unicodedata
from urllib.parse import quote

from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface

#: The exact ``style`` attribute values frappe-gantt 1.2 sets on SVG it draws (the hatch pattern
#: of ignored dates and the weekend highlight of its default ``holidays`` option). CSP level 3
#: allows such attributes by hash with 'unsafe-hashes'; any other inline style stays refused.
GANTT_STYLE_ATTRIBUTES = (
    "stroke:grey; stroke-width:0.3",
    "fill: url(#diagonalHatch);",
    "fill: var(--g-weekend-highlight-color);",
)


def hash_token(token: str) -> str:
    """How every secret we hand out (API, calendar, reset-link token; recovery code) is stored.

    A random token of 128 bits or more needs no slow hash: nobody can guess it, only look it up.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def _once_cipher() -> Fernet:
    secret = current_app.secret_key
    material = secret if isinstance(secret, bytes) else str(secret).encode()
    key = hashlib.sha256(b"show-once:" + material).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def show_once(name: str, secret: str) -> None:
    """Keep a new secret for the next page only (post/redirect/get): the form's answer redirects,
    so a reload never posts it again, and the page shows the secret once. The session cookie is
    signed, not encrypted: the secret rides in it encrypted under the app's key."""
    session[f"once_{name}"] = _once_cipher().encrypt(secret.encode()).decode()


def take_once(name: str) -> str | None:
    """The secret ``show_once`` kept, removed from the session as it is read (None if none)."""
    sealed = session.pop(f"once_{name}", None)
    if not sealed:
        return None
    try:
        return _once_cipher().decrypt(sealed.encode()).decode()
    except InvalidToken:  # made under another key (rotated): the page just does not show it
        return None


def _csp_hash(value: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(value.encode()).digest()).decode() + "'"


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-hashes' " + " ".join(_csp_hash(v) for v in GANTT_STYLE_ATTRIBUTES),
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
HSTS = "max-age=31536000; includeSubDomains"


def _sign_out_target() -> str | None:
    """The identity provider's origin, where signing out continues (RP-initiated logout), if SSO is on."""
    issuer = current_app.config.get("OIDC_ISSUER") if has_request_context() else None
    if not issuer or not current_app.config.get("OIDC_CLIENT_ID"):
        return None
    parts = urlsplit(issuer)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("https", "http") and parts.netloc else None


def apply_security_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    target = _sign_out_target()
    if target and response.headers.get("Content-Security-Policy") == CONTENT_SECURITY_POLICY:
        # CSP's form-action also governs where a form's redirect may go: the sign-out form ends at the
        # provider's end-session endpoint. Only that origin is added.
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'", f"form-action 'self' {target}"
        )
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static":
        # Pages and downloads carry records (and one-time links): never kept in a shared or disk cache.
        response.headers["Cache-Control"] = "no-store"
    return response


class TrackerSessionInterface(SecureCookieSessionInterface):
    """The session cookie is ``Secure`` whenever the request came over HTTPS, not only when configured."""

    def get_cookie_secure(self, app) -> bool:
        configured = super().get_cookie_secure(app)
        return bool(configured or (has_request_context() and request.is_secure))


_NOT_SAFE_IN_FALLBACK = re.compile(r"[^A-Za-z0-9._()+-]+")


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """A ``Content-Disposition`` value per RFC 6266: ``filename*=UTF-8''`` with the name percent-encoded
    (RFC 8187), after an ASCII ``filename`` for old clients that has no quote, backslash, semicolon or
    control character left (a report number such as ``Q"; filename=evil.html`` cannot add a parameter,
    and ``报告-2026`` cannot put a byte that is not Latin-1 into a header, which stalls the dev server)."""
    name = "".join(c for c in filename if unicodedata.category(c)[0] != "C").replace("/", "-").replace("\\", "-")
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = _NOT_SAFE_IN_FALLBACK.sub("_", fallback).strip("._-") or "download"
    encoded = quote(name or fallback, safe="!#$&+-.^_`|~")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
