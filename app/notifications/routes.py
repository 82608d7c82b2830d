import logging

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from app import audit
from app.extensions import db
from app.notifications import bp, queues, services
from app.notifications.models import Notification
from app.pagination import page_number, paginate
from app.permissions import ANY_ROLE, roles
from app.timeutil import today

log = logging.getLogger(__name__)
INBOX_PER_PAGE = 25
QUEUE_PER_PAGE = 25


def header_counts() -> dict:
    """The header's figures, in one query: unread notifications, and for OIG the items awaiting
    review. Read once per request, only by pages that draw the header."""
    if "header_counts" not in g:
        counts = {"unread": 0, "review": None}
        if current_user.is_authenticated:
            columns: list[sa.ColumnElement[int]] = [services.unread_count_statement(current_user.id).scalar_subquery()]
            if current_user.role == "oig_reviewer":
                columns.append(queues.review_count_statement())
            try:
                row = db.session.execute(sa.select(*columns)).one()
                counts = {"unread": row[0], "review": row[1] if len(row) > 1 else None}
            except SQLAlchemyError:
                # A figure in the header never takes a page down (e.g. the error page of a failed request).
                log.exception("header counts failed")
                db.session.rollback()
        g.header_counts = counts
    return g.header_counts


@bp.app_context_processor
def inject_header_counts():
    return {"header_counts": header_counts}


@bp.route("/notifications")
@roles(*ANY_ROLE)
def index():
    page = paginate(services.inbox_query(current_user.id), INBOX_PER_PAGE)
    return render_template("notifications/index.html", page=page, notifications=page.items)


def _own(notification_id: int) -> Notification:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.recipient_id != current_user.id:
        abort(404)
    return notification


@bp.route("/notifications/<int:notification_id>/open")
@roles(*ANY_ROLE)
def open_item(notification_id: int):
    """Follow a notification to its item; following it marks it read."""
    notification = _own(notification_id)
    if notification.read_at is None:
        services.mark_read(current_user.id, notification.id)
        db.session.commit()
    # The link was written by the app (app_path), never taken from a request.
    target = notification.link if notification.link.startswith("/") and not notification.link.startswith("//") else "/"
    return redirect(target)


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@roles(*ANY_ROLE)
def mark_read(notification_id: int):
    notification = _own(notification_id)
    if services.mark_read(current_user.id, notification.id):
        audit.record("notification.read", notification, after={"read": True})
        db.session.commit()
    flash("Marked as read.", "success")
    return redirect(url_for("notifications.index", page=page_number()))


@bp.route("/notifications/read-all", methods=["POST"])
@roles(*ANY_ROLE)
def mark_all_read():
    count = services.mark_read(current_user.id)
    if count:
        audit.record("notification.read_all", current_user._get_current_object(), after={"marked_read": count})
        db.session.commit()
    flash(f"{count} notification{'s' if count != 1 else ''} marked as read.", "success")
    return redirect(url_for("notifications.index"))


@bp.route("/queue")
@roles("oig_reviewer", "manager", "action_office")
def queue():
    on = today()
    page = queues.queue_page(current_user, on, page_number(), QUEUE_PER_PAGE)
    return render_template(
        "notifications/queue.html", page=page, today=on, title=queues.QUEUE_TITLES[current_user.role]
    )
