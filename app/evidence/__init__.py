from flask import Blueprint

from app.evidence.uploads import install

bp = Blueprint("evidence", __name__)
# Uploads to evidence views stream to disk as they arrive (see uploads.py).
bp.record_once(lambda state: install(state.app))  # type: ignore[arg-type]  # state.app is the Flask app
