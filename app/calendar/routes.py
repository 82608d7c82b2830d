from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import audit
from app.api.forms import TokenForm
from app.api.models import ApiToken
from app.calendar import bp
from app.calendar.models import CalendarToken
from app.calendar.services import active_token, feed_ics, revoke_tokens, user_feed_events, user_for_feed_token_or_404
from app.extensions import db
from app.inputs import TrackerForm
from app.permissions import ANY_ROLE, public, roles
from app.security import content_disposition, show_once, take_once
from app.timeutil import today


def settings_page(status: int = 200, *, new_feed_url: str | None = None, token_form=None, new_api_token=None):
    """The account's feeds page: the calendar feed and the API tokens, whose own views render it too."""
    return render_template(
        "calendar/settings.html",
        token=active_token(current_user),
        new_feed_url=new_feed_url,
        form=TrackerForm(),
        api_tokens=ApiToken.listed_for(current_user),
        # A fresh form when none is given: after a token is made, its name is not offered again.
        token_form=token_form or TokenForm(formdata=None),
        new_api_token=new_api_token,
    ), status


@bp.route("/", methods=["GET", "POST"])
@roles(*ANY_ROLE)
def settings():
    if request.method == "POST":
        if request.form.get("action") != "api_token":
            abort(400)
        return _create_api_token()  # the token form, answered in place
    # A secret made by the POST just before is shown on this page once (post/redirect/get).
    return settings_page(new_api_token=take_once("api_token"), new_feed_url=take_once("feed_url"))


def _create_api_token():
    """The token form of this page, posted to it (``action=api_token``), so a refused entry comes back
    at the same address with its summary; a made token redirects to the page, which shows its secret
    once, so a reload neither posts again nor shows it again."""
    form = TokenForm()
    if not form.validate_on_submit():
        return settings_page(400, token_form=form)
    token, secret = ApiToken.issue(current_user, form.scope.data, form.name.data.strip())
    db.session.flush()
    audit.record("api_token.create", token, after={"name": token.name, "scope": token.scope})
    db.session.commit()
    show_once("api_token", secret)
    return redirect(url_for("calendar.settings", _anchor="new-token-heading"))


@bp.route("/feed", methods=["POST"])
@roles(*ANY_ROLE)
def create_feed():
    if not TrackerForm().validate_on_submit():
        return settings_page(400)
    revoked = revoke_tokens(current_user)
    token, secret = CalendarToken.issue(current_user)
    db.session.flush()
    audit.record("calendar.token_create", token, after={"replaced": revoked})
    db.session.commit()
    show_once("feed_url", url_for("calendar.feed", secret=secret, _external=True))
    return redirect(url_for("calendar.settings"))


@bp.route("/feed/revoke", methods=["POST"])
@roles(*ANY_ROLE)
def revoke_feed():
    if not TrackerForm().validate_on_submit():
        return settings_page(400)
    revoked = revoke_tokens(current_user)
    if revoked:
        audit.record("calendar.token_revoke", after={"revoked": revoked})
        db.session.commit()
        flash("Your calendar feed address no longer works.", "success")
    return redirect(url_for("calendar.settings"))


@bp.route("/feed/<secret>.ics")
@public  # the secret in the address is the credential: calendar programs cannot sign in
def feed(secret: str):
    user = user_for_feed_token_or_404(secret)
    body = feed_ics(user_feed_events(user, today()), request.host_url, request.host.split(":")[0])
    db.session.commit()
    response = Response(body, mimetype="text/calendar; charset=utf-8")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Disposition"] = content_disposition("deadlines.ics", "inline")
    return response
