from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import audit
from app.auth import bp
from app.auth.forms import SignInForm
from app.auth.services import authenticate, sign_in, sign_out
from app.extensions import db
from app.permissions import ANY_ROLE, public, roles

GENERIC_FAILURE = "The email address or password is not correct."


def _safe_next(target: str | None) -> str:
    # Only a path on this site: an absolute URL would make sign-in an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
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
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            sign_in(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        audit.record("auth.sign_in_failed", after={"email": form.email.data[:254]})
        db.session.commit()
        error = GENERIC_FAILURE
    status = 200 if error is None and not form.errors else 400
    return render_template("auth/sign_in.html", form=form, error=error), status


@bp.route("/sign-out", methods=["POST"])
@roles(*ANY_ROLE)
def sign_out_page():
    sign_out(current_user._get_current_object())
    db.session.commit()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in_page"))
