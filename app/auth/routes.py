import logging
from urllib.parse import urlsplit

from flask import abort, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_login import current_user

from app import audit
from app.auth import bp, oidc
from app.auth.forms import PASSWORD_HINT, ChangePasswordForm, NewPasswordForm, SignInForm
from app.auth.mfa import has_keys, mfa_required, start_pending
from app.auth.oidc import password_sign_in_allowed, provider_name, sso_enabled
from app.auth.services import (
    address_retry_after,
    authenticate,
    change_password,
    find_reset_token,
    record_address_failure,
    sign_in,
    sign_out,
    use_reset_token,
)
from app.extensions import db
from app.inputs import page_status
from app.permissions import ANY_ROLE, public, roles
from app.timeutil import utcnow

log = logging.getLogger(__name__)

#: One message for an unknown email, a wrong password, a locked or a deactivated account (AC-7):
#: an attacker learns nothing about which it was.
GENERIC_FAILURE = (
    "The email address or password is not correct. After 5 failed attempts an account is locked for 15 minutes."
)
#: One message for every single sign-on that does not end signed in: an unknown person, a deactivated
#: account, a replayed code, a forged or expired ID token. The audit trail has the reason.
SSO_FAILURE = (
    "Sign-in with {provider} did not succeed. If you should have access to the tracker, ask your administrator."
)
PROVIDER_DOWN = "{provider} cannot be reached right now. Try again in a few minutes."
PASSWORD_OFF = "Sign-in with a password is turned off. Use your agency account."


def _safe_next(target: str | None) -> str:
    # Only a path on this site: an absolute URL would make sign-in an open redirect.
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and not urlsplit(target).netloc
        and "\\" not in target
    ):
        return target
    return url_for("dashboard.index")


def _sign_in_page(form, error=None, status=200, *, break_glass=False):
    return render_template(
        "auth/sign_in.html",
        form=form,
        error=error,
        break_glass=break_glass,
        sso=sso_enabled(),
        provider=provider_name() if sso_enabled() else None,
        password_allowed=password_sign_in_allowed() or break_glass,
        next_url=request.args.get("next", ""),
    ), status


def _after_password(user, method: str):
    """The password was right: ask for the key, or take a person who must have one to register it."""
    next_url = _safe_next(request.args.get("next"))
    if has_keys(user):
        start_pending(user, next_url, method)
        audit.record("auth.mfa_asked", user, after={"method": method}, actor=user)
        db.session.commit()
        return redirect(url_for("auth.security_key_page"))
    sign_in(user, method=method)
    if mfa_required(user):
        session["mfa_enrol"] = True
        session["mfa_enrol_next"] = next_url
        audit.record("auth.mfa_enrol_required", user, after={"role": user.role}, actor=user)
        db.session.commit()
        return redirect(url_for("auth.security_keys"))
    db.session.commit()
    return redirect(next_url)


def _password_attempt(form, method: str, *, only_break_glass: bool):
    address, now = (request.remote_addr or "")[:45], utcnow()
    retry_after = address_retry_after(address, now)
    if retry_after is not None:
        return _throttled(form, address, retry_after, break_glass=only_break_glass)
    user = authenticate(form.email.data, form.password.data)
    if user is not None and only_break_glass and not (user.break_glass and user.role == "admin"):
        user = None
    if user is not None:
        return _after_password(user, method)
    record_address_failure(address, now)
    audit.record("auth.sign_in_failed", after={"email": form.email.data[:254], "method": method})
    db.session.commit()
    return None


def _throttled(form, address: str, retry_after: int, *, break_glass: bool):
    """Too many failed sign-ins from this address (password spraying): every sign-in from it waits."""
    minutes = max(1, -(-retry_after // 60))
    log.warning("sign-in refused: too many failed sign-ins from %s; retry after %d s", address, retry_after)
    audit.record("auth.sign_in_throttled", after={"email": form.email.data[:254], "retry_after": retry_after})
    db.session.commit()
    error = (
        f"Too many failed sign-ins from your network address. Try again in {minutes} minute"
        f"{'s' if minutes != 1 else ''}."
    )
    response = make_response(_sign_in_page(form, error, 429, break_glass=break_glass))
    response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in_page():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = SignInForm()
    if request.method == "POST" and not password_sign_in_allowed():
        audit.record("auth.sign_in_failed", after={"method": "password", "reason": "password sign-in is off"})
        db.session.commit()
        return _sign_in_page(form, PASSWORD_OFF, 403)
    if form.validate_on_submit():
        response = _password_attempt(form, "password", only_break_glass=False)
        if response is not None:
            return response
        return _sign_in_page(form, GENERIC_FAILURE, 400)
    return _sign_in_page(form, status=page_status(form))


@bp.route("/sign-in/break-glass", methods=["GET", "POST"])
@public
def break_glass_page():
    """Administrators marked by ``flask users break-glass`` sign in with a password when SSO is down."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = SignInForm()
    if form.validate_on_submit():
        response = _password_attempt(form, "break_glass", only_break_glass=True)
        if response is not None:
            return response
        return _sign_in_page(form, GENERIC_FAILURE, 400, break_glass=True)
    return _sign_in_page(form, status=page_status(form), break_glass=True)


@bp.route("/sign-in/oidc")
@public
def oidc_start():
    # A link, not a form: CSP's form-action would stop a form's redirect to the provider. Nothing
    # changes here; the state and nonce kept in the session bind the answer to this browser.
    if not sso_enabled():
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    session["oidc_next"] = _safe_next(request.args.get("next"))
    try:
        return oidc.client().authorize_redirect(
            url_for("auth.oidc_callback", _external=True), **oidc.authorize_params()
        )
    except oidc.PROTOCOL_ERRORS as error:
        current_app.logger.warning("the identity provider is unreachable: %s", error)
        audit.record(
            "auth.sign_in_failed",
            after={"method": "oidc", "provider": provider_name(), "reason": "provider unreachable"},
        )
        db.session.commit()
        return _sign_in_page(SignInForm(), PROVIDER_DOWN.format(provider=provider_name()), 503)


@bp.route("/sign-in/oidc/callback")
@public
def oidc_callback():
    if not sso_enabled():
        abort(404)
    provider = provider_name()
    next_url = session.pop("oidc_next", None) or url_for("dashboard.index")
    verified = None
    try:
        verified = oidc.finish_authorization()
        user = oidc.find_or_link(verified)
    except oidc.SignInRefused as refused:
        db.session.rollback()
        details = {"method": "oidc", "provider": provider, "reason": refused.reason, **refused.details}
        if verified is not None:
            details.update(issuer=verified.issuer, subject=verified.subject, email=verified.email)
        audit.record("auth.sign_in_failed", after=details)
        db.session.commit()
        return _sign_in_page(SignInForm(), SSO_FAILURE.format(provider=provider), 400)
    sign_in(user, method="oidc", provider=provider)
    session["oidc_id_token"] = verified.id_token
    db.session.commit()
    return redirect(_safe_next(next_url))


@bp.route("/sign-out", methods=["POST"])
@roles(*ANY_ROLE)
def sign_out_page():
    id_token = session.get("oidc_id_token")
    sign_out(current_user._get_current_object())
    db.session.commit()
    flash("You are signed out.", "info")
    provider_logout = oidc.end_session_url(id_token, url_for("auth.sign_in_page", _external=True))
    return redirect(provider_logout or url_for("auth.sign_in_page"))


@bp.app_context_processor
def sign_in_settings():
    return {"password_sign_in_allowed": password_sign_in_allowed}


@bp.route("/account/password", methods=["GET", "POST"])
@roles(*ANY_ROLE)
def change_password_page():
    user = current_user._get_current_object()
    form = ChangePasswordForm(user=user)
    if form.validate_on_submit():
        change_password(user, form.password.data, via="own account")
        sign_in(
            user, method=session.get("sign_in_method", "password")
        )  # every other session of this user ends; this one continues with the new token
        db.session.commit()
        flash("Your password is changed. Your other sessions are signed out.", "success")
        return redirect(url_for("dashboard.index"))
    status = page_status(form)
    return render_template("auth/change_password.html", form=form, hint=PASSWORD_HINT), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@public
def reset_password_page(token: str):
    reset = find_reset_token(token)
    if reset is None:
        return render_template("auth/reset_invalid.html"), 404
    form = NewPasswordForm(user=reset.user)
    if form.validate_on_submit():
        if not use_reset_token(reset, form.password.data):
            db.session.rollback()
            abort(409)
        db.session.commit()
        flash("Your password is set. Sign in with it now.", "success")
        return redirect(url_for("auth.sign_in_page"))
    status = page_status(form)
    return render_template("auth/reset_password.html", form=form, hint=PASSWORD_HINT, user=reset.user), status
