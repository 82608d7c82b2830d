"""Events that hand work to someone: who is told (decide.py), the in-app inbox and its email
(services.py, through the reminders outbox), and each role's queue of work (queues.py)."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)  # its views: routes.py, imported by create_app
