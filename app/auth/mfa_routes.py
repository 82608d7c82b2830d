"""Security keys: the second step of a password sign-in, and each person's own keys and recovery codes."""

import sqlalchemy as sa
from flask import abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from app import audit
from app.auth import bp
from app.auth.forms import ConfirmForm, KeyNameForm, RecoveryCodeForm
from app.inputs import form_id
from app.auth.mfa import (
    AUTHENTICATE,
    REGISTER,
    KeyRefused,
    authentication_options,
    has_keys,
    keys_of,
    mfa_required,
    new_recovery_codes,
    parse_json_body,
    pending_method,
    pending_next,
    pending_user,
    register_key,
    registration_options,
    relying_party,
    remove_key,
    rename_key,
    unused_recovery_codes,
    use_recovery_code,
    verify_key,
)
from app.auth.models import SecurityKey
from app.auth.services import record_failure, sign_in
from app.extensions import db
from app.permissions import ANY_ROLE, public, roles
from app.timeutil import utcnow

#: What a person who must register a key may reach before they have one.
ENROL_ENDPOINTS = {
    "auth.security_keys",
    "auth.security_key_registration_options",
    "auth.security_key_register",
    "auth.recovery_codes_new",
    "auth.sign_out_page",
    "static",
}
KEY_FAILURE = (
    "The security key did not sign you in. Use a key registered to your account, or one of your recovery codes."
)


@bp.before_app_request
def register_a_key_first():
    """MFA_REQUIRED_ROLES: a person of such a role without a key reaches nothing but the key page."""
    if not session.get("mfa_enrol") or request.endpoint in ENROL_ENDPOINTS or request.endpoint is None:
        return None
    if not current_user.is_authenticated:
        return None
    if has_keys(current_user):
        session.pop("mfa_enrol", None)
        return None
    if request.method != "GET" or request.accept_mimetypes.best == "application/json":
        abort(403)
    return redirect(url_for("auth.security_keys"))


def _json_error(message: str, status: int = 400, field: str | None = None):
    body = {"error": message}
    if field:
        body["field"] = field
    return jsonify(body), status


# --- the second step of sign-in -------------------------------------------------------


@bp.route("/sign-in/security-key")
@public
def security_key_page():
    user = pending_user()
    if user is None:
        flash("Sign in again: the sign-in waited too long for the security key.", "info")
        return redirect(url_for("auth.sign_in_page"))
    return render_template("auth/security_key.html", form=RecoveryCodeForm(), user=user)


@bp.route("/sign-in/security-key/options", methods=["POST"])
@public
def security_key_options():
    user = pending_user()
    if user is None:
        return _json_error("Sign in again: the sign-in waited too long.", 409)
    options = authentication_options(user)
    return _json_response(options)


def _json_response(options_json: str):
    return current_app.response_class(options_json, mimetype="application/json")


@bp.route("/sign-in/security-key", methods=["POST"])
@public
def security_key_verify():
    """The key's answer (JSON, from static/js/webauthn.js), or the recovery-code form of the same page
    (``action=recovery_code``), so that a wrong code comes back at this address with its summary."""
    if request.form.get("action") == "recovery_code":
        return recovery_code_sign_in()
    user = pending_user()
    if user is None:
        return _json_error("Sign in again: the sign-in waited too long.", 409)
    method = pending_method()
    browser_error = request.form.get("error", "")[:100]
    try:
        if browser_error:
            # The browser found no registered key or the person cancelled: nothing reached the server.
            session.pop(AUTHENTICATE, None)
            raise KeyRefused(KEY_FAILURE)
        key = verify_key(user, parse_json_body(request.form.get("credential", "").encode()))
    except KeyRefused as refused:
        audit.record(
            "auth.mfa_failed",
            user,
            after={"method": method, "factor": "security_key", "reason": browser_error or str(refused)},
            actor=user,
        )
        record_failure(user, utcnow())
        db.session.commit()
        return _json_error(str(refused) if not browser_error else KEY_FAILURE)
    next_url = pending_next()
    sign_in(user, method=method)
    audit.record(
        "auth.mfa_verified", user, after={"method": method, "factor": "security_key", "key": key.name}, actor=user
    )
    db.session.commit()
    return jsonify({"redirect": next_url})


def recovery_code_sign_in():
    user = pending_user()
    if user is None:
        flash("Sign in again: the sign-in waited too long for the security key.", "info")
        return redirect(url_for("auth.sign_in_page"))
    form = RecoveryCodeForm()
    method = pending_method()
    if form.validate_on_submit():
        if use_recovery_code(user, form.code.data.strip()):
            next_url = pending_next()
            sign_in(user, method=method)
            left = unused_recovery_codes(user)
            audit.record(
                "auth.mfa_verified",
                user,
                after={"method": method, "factor": "recovery_code", "codes_left": left},
                actor=user,
            )
            db.session.commit()
            flash(
                f"You signed in with a recovery code. It will not work again; {left} codes are left. "
                "If your key is lost, remove it and add a new one.",
                "warning",
            )
            return redirect(next_url)
        audit.record(
            "auth.mfa_failed",
            user,
            after={"method": method, "factor": "recovery_code", "reason": "unknown or used code"},
            actor=user,
        )
        record_failure(user, utcnow())
        db.session.commit()
        form.code.errors.append("This code is not one of your unused recovery codes.")
    return render_template("auth/security_key.html", form=form, user=user), 400


# --- a person's own keys --------------------------------------------------------------


def get_own_key_or_404(key_id: int) -> SecurityKey:
    key = db.session.get(SecurityKey, key_id)
    if key is None or key.user_id != current_user.id:
        abort(404)
    return key


def _keys_page(form=None, status=200, rename_forms=None):
    user = current_user._get_current_object()
    rp_id, origin = relying_party()
    keys = keys_of(user)
    return render_template(
        "auth/security_keys.html",
        keys=keys,
        form=form or KeyNameForm(),
        action=ConfirmForm(),
        codes_left=unused_recovery_codes(user),
        required=mfa_required(user),
        enrolling=bool(session.get("mfa_enrol")),
        origin=origin,
        rename_forms=rename_forms or {},
    ), status


@bp.route("/account/security-keys")
@roles(*ANY_ROLE)
def security_keys():
    return _keys_page()


@bp.route("/account/security-keys/options", methods=["POST"])
@roles(*ANY_ROLE)
def security_key_registration_options():
    return _json_response(registration_options(current_user._get_current_object()))


@bp.route("/account/security-keys", methods=["POST"])
@roles(*ANY_ROLE)
def security_key_register():
    """A new key (JSON, from static/js/webauthn.js), or a key's rename form of the same page
    (``action=rename``, ``key_id``), so that a refused name comes back at this address."""
    if request.form.get("action") == "rename":
        return security_key_rename(form_id("key_id"))
    user = current_user._get_current_object()
    form = KeyNameForm()
    if not form.validate_on_submit():
        session.pop(REGISTER, None)
        return _json_error(" ".join(form.name.errors) or "The form expired. Reload the page.", 400, "name")
    first = not has_keys(user)
    try:
        key = register_key(user, form.name.data, parse_json_body(request.form.get("credential", "").encode()))
    except KeyRefused as refused:
        db.session.rollback()
        return _json_error(str(refused))
    session.pop("mfa_enrol", None)  # the role's requirement is met; the recovery codes come next
    db.session.commit()
    if first:
        flash(f"“{key.name}” is added. Now make your recovery codes, in case the key is lost.", "success")
    else:
        flash(f"“{key.name}” is added.", "success")
    return jsonify({"redirect": url_for("auth.security_keys")})


def security_key_rename(key_id: int):
    key = get_own_key_or_404(key_id)
    form = KeyNameForm(prefix=f"key{key.id}")
    if form.validate_on_submit():
        rename_key(key, form.name.data, current_user._get_current_object())
        db.session.commit()
        flash(f"The key is now called “{key.name}”.", "success")
        return redirect(url_for("auth.security_keys"))
    return _keys_page(status=400, rename_forms={key.id: form})


@bp.route("/account/security-keys/<int:key_id>/remove", methods=["POST"])
@roles(*ANY_ROLE)
def security_key_remove(key_id: int):
    key = get_own_key_or_404(key_id)
    user = current_user._get_current_object()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    remaining = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(SecurityKey)
        .where(SecurityKey.user_id == user.id, SecurityKey.id != key.id)
    )
    if remaining == 0 and mfa_required(user):
        flash("Your role requires a security key: add another key before you remove this one.", "error")
        return redirect(url_for("auth.security_keys"))
    name = key.name
    remove_key(key, user)
    db.session.commit()
    flash(f"“{name}” is removed: it no longer signs you in.", "success")
    return redirect(url_for("auth.security_keys"))


@bp.route("/account/recovery-codes", methods=["POST"])
@roles(*ANY_ROLE)
def recovery_codes_new():
    user = current_user._get_current_object()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not has_keys(user):
        flash("Add a security key first: recovery codes stand in for a lost key.", "error")
        return redirect(url_for("auth.security_keys"))
    codes = new_recovery_codes(user)
    db.session.commit()
    return render_template(
        "auth/recovery_codes.html",
        codes=codes,
        next_url=session.pop("mfa_enrol_next", None) or url_for("dashboard.index"),
    )
