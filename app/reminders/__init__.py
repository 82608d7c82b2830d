"""Reminders and digests: what is due (decide.py), the outbox (models.py), sending (send.py)."""

from flask import Blueprint

bp = Blueprint("reminders", __name__, url_prefix="/reminders")
