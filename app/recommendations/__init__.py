from flask import Blueprint

bp = Blueprint("recommendations", __name__, url_prefix="/recommendations")

from app.recommendations import routes  # noqa: E402,F401
