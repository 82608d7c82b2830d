"""The pages where a user makes and revokes their personal access tokens (CSRF-protected, unlike the API)."""

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user

from app import audit
from app.api.models import ApiToken
from app.calendar.routes import settings_page
from app.extensions import db
from app.inputs import TrackerForm
from app.permissions import ANY_ROLE, roles
from app.timeutil import utcnow

tokens_bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")


@tokens_bp.route("/<int:token_id>/revoke", methods=["POST"])
@roles(*ANY_ROLE)
def revoke(token_id: int):
    if not TrackerForm().validate_on_submit():
        return settings_page(400)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("api_token.revoke", token, after={"name": token.name})
        db.session.commit()
        flash(f"The token “{token.name}” no longer works.", "success")
    return redirect(url_for("calendar.settings"))
