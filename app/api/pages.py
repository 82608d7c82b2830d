"""The pages where a user makes and revokes their personal access tokens (CSRF-protected, unlike the API)."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app import audit
from app.api.forms import TokenForm
from app.api.models import ApiToken
from app.extensions import db
from app.inputs import TrackerForm
from app.permissions import ANY_ROLE, roles
from app.timeutil import utcnow

tokens_bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")


def token_page_context(form: TokenForm | None = None, new_token: str | None = None) -> dict:
    tokens = db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.created_at.desc())
    ).all()
    # A fresh form when none is given: after a token is made, its name is not offered again.
    return {"api_tokens": tokens, "token_form": form or TokenForm(formdata=None), "new_api_token": new_token}


def _render(form=None, new_token=None, status=200):
    from app.calendar.services import active_token

    return render_template(
        "calendar/settings.html",
        token=active_token(current_user),
        new_feed_url=None,
        form=TrackerForm(),
        **token_page_context(form, new_token),
    ), status


def create():
    """The token form of the "Calendar and API" page, posted to that page (``action=api_token``), so a
    refused entry comes back at the same address with its summary; the new secret is shown once there."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _render(form, status=400)
    token, secret = ApiToken.issue(current_user, form.scope.data, form.name.data.strip())
    db.session.flush()
    audit.record("api_token.create", token, after={"name": token.name, "scope": token.scope})
    db.session.commit()
    return _render(new_token=secret)


@tokens_bp.route("/<int:token_id>/revoke", methods=["POST"])
@roles(*ANY_ROLE)
def revoke(token_id: int):
    if not TrackerForm().validate_on_submit():
        return _render(status=400)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("api_token.revoke", token, after={"name": token.name})
        db.session.commit()
        flash(f"The token “{token.name}” no longer works.", "success")
    return redirect(url_for("calendar.settings"))
