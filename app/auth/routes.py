import logging
from urllib.parse import urlsplit

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from app import audit
from app.auth import bp
from app.auth.forms import PASSWORD_HINT, ChangePasswordForm, NewPasswordForm, SignInForm
from app.auth.services import (address_retry_after, authenticate, change_password, find_reset_token,
                               record_address_failure, sign_in, sign_out, use_reset_token)
from app.extensions import db
from app.permissions import ANY_ROLE, public, roles
from app.timeutil import utcnow

log = logging.getLogger(__name__)

#: One message for an unknown email, a wrong password, a locked or a deactivated account (AC-7):
#: an attacker learns nothing about which it was.
GENERIC_FAILURE = ("The email address or password is not correct. After 5 failed attempts an "
                   "account is locked for 15 minutes.")


def _safe_next(target: str | None) -> str:
    # Only a path on this site: an absolute URL would make sign-in an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc \
            and "\\" not in target:
        return target
    return url_for("dashboard.index")


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in_page():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        address, now = (request.remote_addr or "")[:45], utcnow()
        retry_after = address_retry_after(address, now)
        if retry_after is not None:
            return _throttled(form, address, retry_after)
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            sign_in(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        record_address_failure(address, now)
        audit.record("auth.sign_in_failed", after={"email": form.email.data[:254]})
        db.session.commit()
        error = GENERIC_FAILURE
    status = 200 if error is None and not form.errors else 400
    return render_template("auth/sign_in.html", form=form, error=error), status


def _throttled(form, address: str, retry_after: int):
    """Too many failed sign-ins from this address (password spraying): every sign-in from it waits."""
    minutes = max(1, -(-retry_after // 60))
    log.warning("sign-in refused: too many failed sign-ins from %s; retry after %d s", address, retry_after)
    audit.record("auth.sign_in_throttled", after={"email": form.email.data[:254], "retry_after": retry_after})
    db.session.commit()
    error = (f"Too many failed sign-ins from your network address. Try again in {minutes} minute"
             f"{'s' if minutes != 1 else ''}.")
    response = make_response(render_template("auth/sign_in.html", form=form, error=error), 429)
    response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/sign-out", methods=["POST"])
@roles(*ANY_ROLE)
def sign_out_page():
    sign_out(current_user._get_current_object())
    db.session.commit()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in_page"))


@bp.route("/account/password", methods=["GET", "POST"])
@roles(*ANY_ROLE)
def change_password_page():
    user = current_user._get_current_object()
    form = ChangePasswordForm(user=user)
    if form.validate_on_submit():
        change_password(user, form.password.data, via="own account")
        sign_in(user)  # every other session of this user ends; this one continues with the new token
        db.session.commit()
        flash("Your password is changed. Your other sessions are signed out.", "success")
        return redirect(url_for("dashboard.index"))
    status = 400 if form.errors else 200
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
    status = 400 if form.errors else 200
    return render_template("auth/reset_password.html", form=form, hint=PASSWORD_HINT,
                           user=reset.user), status
