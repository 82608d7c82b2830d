"""Error pages in the site's own look; refusals and failures leave a trace."""

import logging
import uuid

from flask import Flask, abort, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from flask_login import current_user
from app import audit
from app.extensions import db

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Please check what you entered and try again."),
    403: (
        "Not allowed",
        "Your account does not have permission to see or do this. If you think it should, ask your administrator.",
    ),
    404: ("Page not found", "We could not find that page. It may have moved, or the address may be mistyped."),
    405: ("Not allowed", "That action cannot be done this way."),
    409: ("Conflict", "This change conflicts with the current state of the record. Nothing was changed."),
    413: ("File too large", "The upload is larger than this site accepts. Nothing was saved."),
    500: (
        "Something went wrong",
        "An unexpected error stopped this request. Nothing was saved. "
        "Please try again; if it happens again, give the incident number to support.",
    ),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def render_error(code: int, message: str | None = None, incident: str | None = None):
    title, default = MESSAGES.get(code, ("Error", "The request failed."))
    message = message or default
    if _wants_json():
        body = {"error": title, "message": message, "status": code}
        if incident:
            body["incident"] = incident
        return jsonify(body), code
    return render_template("error.html", code=code, title=title, message=message, incident=incident), code


def refuse(code: int, message: str | None = None, *, recommendation_id: int | None = None, **attempt) -> None:
    """Abort with 403 or 409; the refusal is recorded with what was attempted, on the recommendation."""
    g.refusal = {"recommendation_id": recommendation_id, "attempt": attempt}
    abort(code, description=message)


def record_conflict(message: str, *, recommendation_id: int | None = None, **attempt) -> None:
    """Record a 409 that a page answers itself (with the state, not the error page), as ``refuse``
    would have: what was attempted, on the recommendation. Undoes what the request staged."""
    g.refusal = {"recommendation_id": recommendation_id, "attempt": attempt}
    _record_refusal(message, "access.conflict")


def _record_refusal(description: str | None, action: str = "access.denied") -> None:
    refusal = g.pop("refusal", None) or {}
    try:
        db.session.rollback()  # nothing the refused request staged may land
        if current_user.is_authenticated:
            audit.record(
                action,
                after={
                    "path": request.path,
                    "method": request.method,
                    "reason": description or "",
                    **refusal.get("attempt", {}),
                },
                recommendation_id=refusal.get("recommendation_id"),
            )
            db.session.commit()
    except Exception:  # the refusal itself must still be answered
        db.session.rollback()
        log.exception("could not record a refusal")


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400, "The form expired or was not sent from this site. Please go back, reload the page and try again."
        )

    @app.errorhandler(403)
    def forbidden(error):
        _record_refusal(getattr(error, "description", None))
        return render_error(403)

    @app.errorhandler(409)
    def conflict(error):
        _record_refusal(getattr(error, "description", None), "access.conflict")
        return http_error(error)

    @app.errorhandler(StaleDataError)
    def stale(error):
        """Two saves of one record raced where no edit form guards it (app/versioning.py): the
        later one changed nothing."""
        db.session.rollback()
        return render_error(
            409,
            "This record was changed by someone else at the same moment. "
            "Nothing you sent was saved: reload the page and try again.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code and error.code < 400:
            return error
        message = None
        if error.code in (400, 409) and error.description and error.description != type(error).description:
            message = error.description
        return render_error(error.code or 500, message)

    @app.errorhandler(Exception)
    def unexpected(error):
        db.session.rollback()
        incident = g.get("request_id") or uuid.uuid4().hex[:12]  # the id in the log line and X-Request-Id
        log.exception("incident %s: unhandled error on %s %s", incident, request.method, request.path)
        return render_error(500, incident=incident)
