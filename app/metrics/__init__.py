from flask import Blueprint

bp = Blueprint("metrics", __name__)

from app.metrics import routes  # noqa: E402,F401
