"""Account administration (AC-2): create, change role and office, deactivate, unlock, reset links."""

from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
