"""Phishing-resistant multi-factor authentication: WebAuthn security keys and passkeys, recovery codes.

py_webauthn checks the ceremonies (challenge, origin, relying party id, signature, counter); this module
keeps the challenges in the session, the keys and codes in the database, and the pending sign-in: after
a correct password a person with keys holds only ``mfa_pending`` in the session, which grants nothing
but the security-key page, until a key or a recovery code finishes the sign-in.
"""

import hashlib
import ipaddress
import json
import secrets
from datetime import timedelta
from typing import cast
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, request, session
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidJSONStructure, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from app import audit
from app.auth.models import RecoveryCode, SecurityKey, User
from app.extensions import db
from app.security import hash_token
from app.timeutil import utcnow

#: How long a person has, after the password, to present the key.
PENDING_MINUTES = 5
RECOVERY_CODE_COUNT = 10
#: 16 characters from a 32-letter alphabet without look-alikes: 80 bits, so a fast hash is enough.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CEREMONY_ERRORS = (
    InvalidRegistrationResponse,
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    ValueError,
    KeyError,
    TypeError,
)


class KeyRefused(Exception):
    """The key's answer does not prove possession of a registered key; the message is for the person."""


# --- the relying party ------------------------------------------------------------


def relying_party() -> tuple[str, str]:
    """(rp_id, origin) from BASE_URL; a development BASE_URL on an IP address falls back to the request's
    host, since a relying party id must be a host name (``localhost`` works on a developer's machine)."""
    base = urlsplit(current_app.config.get("BASE_URL") or request.host_url)
    host = base.hostname or ""
    if _is_ip(host) and request:
        base = urlsplit(request.host_url)
        host = base.hostname or ""
    return host, f"{base.scheme}://{base.netloc}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def required_roles() -> set[str]:
    value = current_app.config.get("MFA_REQUIRED_ROLES") or ""
    if isinstance(value, str):
        value = value.split(",")
    return {role.strip() for role in value if role.strip()}


def mfa_required(user: User) -> bool:
    return user.role in required_roles()


def keys_of(user: User) -> list[SecurityKey]:
    return list(
        db.session.scalars(
            sa.select(SecurityKey)
            .where(SecurityKey.user_id == user.id)
            .order_by(SecurityKey.created_at, SecurityKey.id)
        )
    )


def has_keys(user: User) -> bool:
    count = sa.select(sa.func.count()).select_from(SecurityKey).where(SecurityKey.user_id == user.id)
    return db.session.execute(count).scalar_one() > 0


def _descriptor(key: SecurityKey) -> PublicKeyCredentialDescriptor:
    transports = [
        AuthenticatorTransport(t) for t in key.transports.split(",") if t in {m.value for m in AuthenticatorTransport}
    ]
    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(key.credential_id), transports=transports or None)


def _user_handle(user: User) -> bytes:
    # Stable per user, and not the email: authenticators may show or sync the handle.
    return hashlib.sha256(f"{current_app.config['SECRET_KEY']}:user:{user.id}".encode()).digest()


#: Where each ceremony's challenge waits in the session between the options and the answer.
REGISTER, AUTHENTICATE = "webauthn_register", "webauthn_authenticate"


def _challenge(ceremony: str, user: User, options) -> str:
    """Keep the options' challenge in the session for ``user``'s answer; the options as JSON."""
    session[ceremony] = {"challenge": bytes_to_base64url(options.challenge), "uid": user.id, "at": utcnow().timestamp()}
    return options_to_json(options)


def _answered(ceremony: str, user: User, button: str) -> dict:
    """The challenge ``user`` is answering, taken from the session (it answers once); raises
    KeyRefused when none waits for them or it expired (press ``button`` again)."""
    pending = session.pop(ceremony, None)
    if not pending or pending.get("uid") != user.id or _stale(pending):
        raise KeyRefused(f"The request expired. Press “{button}” again.")
    return pending


# --- registration -----------------------------------------------------------------


def registration_options(user: User) -> str:
    """The options for navigator.credentials.create(), as JSON; the challenge waits in the session."""
    rp_id, _origin = relying_party()
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=current_app.config.get("WEBAUTHN_RP_NAME", "Corrective Action Tracker"),
        user_id=_user_handle(user),
        user_name=user.email,
        user_display_name=user.name,
        exclude_credentials=[_descriptor(k) for k in keys_of(user)],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED
        ),
    )
    return _challenge(REGISTER, user, options)


def register_key(user: User, name: str, credential: dict) -> SecurityKey:
    """Verify the browser's answer to the registration challenge and keep the key; raises KeyRefused."""
    pending = _answered(REGISTER, user, "Add a security key")
    rp_id, origin = relying_party()
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(pending["challenge"]),
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except CEREMONY_ERRORS as error:
        raise KeyRefused("The security key’s answer could not be verified. Try again.") from error
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(sa.select(SecurityKey.id).where(SecurityKey.credential_id == credential_id)):
        raise KeyRefused("This security key is already registered.")
    transports = (credential.get("response") or {}).get("transports") or []
    key = SecurityKey(
        user_id=user.id,
        name=name,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=",".join(str(t) for t in transports if isinstance(t, str))[:200],
    )
    db.session.add(key)
    db.session.flush()
    audit.record("auth.key_add", key, after={"name": name, "user_id": user.id}, actor=user)
    return key


def rename_key(key: SecurityKey, name: str, by: User) -> None:
    before = key.name
    key.name = name
    audit.record("auth.key_rename", key, before={"name": before}, after={"name": name}, actor=by)


def remove_key(key: SecurityKey, by: User) -> None:
    audit.record("auth.key_remove", key, before={"name": key.name, "user_id": key.user_id}, actor=by)
    db.session.delete(key)


def reset_keys(user: User, by: User) -> int:
    """An administrator removes every key and recovery code of ``user`` (a lost or stolen key)."""
    keys = keys_of(user)
    for key in keys:
        db.session.delete(key)
    deleted = db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = cast(sa.CursorResult, deleted).rowcount  # DML returns a CursorResult
    user.end_sessions()
    audit.record(
        "auth.keys_reset",
        user,
        before={"keys": [k.name for k in keys], "recovery_codes": codes},
        after={"keys": [], "recovery_codes": 0},
        actor=by,
    )
    return len(keys)


# --- the pending sign-in ------------------------------------------------------------


def start_pending(user: User, next_url: str, method: str) -> None:
    """The password was right; the key is still to come. Nothing else in the session."""
    session.clear()
    session["mfa_pending"] = {
        "uid": user.id,
        "token": user.session_token,
        "at": utcnow().timestamp(),
        "next": next_url,
        "method": method,
    }


def pending_user() -> User | None:
    pending = session.get("mfa_pending")
    if not pending or _stale(pending, PENDING_MINUTES):
        return None
    user = db.session.get(User, pending.get("uid"))
    if user is None or not user.is_active or user.session_token != pending.get("token") or user.is_locked(utcnow()):
        return None  # a lockout (AC-7) ends the pending sign-in too
    return user


def pending_next() -> str:
    return (session.get("mfa_pending") or {}).get("next") or "/"


def pending_method() -> str:
    return (session.get("mfa_pending") or {}).get("method") or "password"


def _stale(state: dict, minutes: int = PENDING_MINUTES) -> bool:
    return utcnow().timestamp() - float(state.get("at", 0)) > timedelta(minutes=minutes).total_seconds()


def authentication_options(user: User) -> str:
    rp_id, _origin = relying_party()
    options = generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=[_descriptor(k) for k in keys_of(user)],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return _challenge(AUTHENTICATE, user, options)


def verify_key(user: User, credential: dict) -> SecurityKey:
    """Check the assertion against the user's own keys; raises KeyRefused."""
    pending = _answered(AUTHENTICATE, user, "Use your security key")
    raw_id = credential.get("rawId") or credential.get("id") if isinstance(credential, dict) else None
    if not isinstance(raw_id, str):
        raise KeyRefused("The security key’s answer could not be verified.")
    key = db.session.scalar(
        sa.select(SecurityKey).where(SecurityKey.credential_id == raw_id, SecurityKey.user_id == user.id)
    )
    if key is None:
        raise KeyRefused("This security key is not registered to your account.")
    rp_id, origin = relying_party()
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(pending["challenge"]),
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=key.public_key,
            credential_current_sign_count=key.sign_count,
        )
    except CEREMONY_ERRORS as error:
        raise KeyRefused("The security key’s answer could not be verified.") from error
    key.sign_count = verified.new_sign_count
    key.last_used_at = utcnow()
    return key


def parse_json_body(raw: bytes, limit: int = 64 * 1024) -> dict:
    if len(raw) > limit:
        raise KeyRefused("The answer is too large.")
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise KeyRefused("The answer is not valid.") from error
    if not isinstance(value, dict):
        raise KeyRefused("The answer is not valid.")
    return value


# --- recovery codes ---------------------------------------------------------------


def _hash_code(code: str) -> str:
    return hash_token("".join(ch for ch in code.upper() if ch.isalnum()))


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones; returns them once, to show once."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash_code(c)) for c in codes)
    audit.record("auth.recovery_codes", user, after={"count": len(codes)}, actor=user)
    return codes


def unused_recovery_codes(user: User) -> int:
    return db.session.execute(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).scalar_one()


def use_recovery_code(user: User, code: str) -> bool:
    """Spend one unused code of ``user``: one conditional UPDATE, so two requests never both spend it."""
    if not code or len(code) > 64:
        return False
    result = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_code(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return cast(sa.CursorResult, result).rowcount == 1  # DML returns a CursorResult
