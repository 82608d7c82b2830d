"""``/healthz`` for load balancers and uptime checks: says whether the database answers."""
import sqlalchemy as sa
from flask import Blueprint, jsonify

from app.extensions import db
from app.permissions import public

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@public
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
        ok = True
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        ok = False
    body = {"status": "ok" if ok else "error", "database": "ok" if ok else "unreachable"}
    return jsonify(body), 200 if ok else 503
