import functools
import logging

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from app import audit
from app.dbtypes import bound
from app.inputs import form_id
from app.extensions import db
from app.metrics import definitions
from app.metrics.models import TargetChange
from app.milestones import date_changes
from app.milestones.models import DueDateChange
from app.milestones.forms import DecisionForm
from app.notifications import bp, queues, services
from app.notifications.models import Notification
from app.pagination import page_number, paginate
from app.reports.services import demo_loaded_statement
from app.permissions import ANY_ROLE, roles
from app.timeutil import today

log = logging.getLogger(__name__)
INBOX_PER_PAGE = 25
QUEUE_PER_PAGE = 25


def header_counts() -> dict:
    """The header's figures, in one query: unread notifications, for OIG the items awaiting
    review, and whether the demo is loaded (the site-wide banner, ``demo_loaded``, answered from
    the same row). Read once per request, only by pages that draw the header."""
    if "header_counts" not in g:
        counts = {"unread": 0, "review": None}
        if current_user.is_authenticated:
            oig = current_user.role == "oig_reviewer"
            try:
                row = db.session.execute(_header_statement(oig), {"user_id": current_user.id}).one()
                counts = {"unread": row.unread, "review": row.review if oig else None}
                g.demo_loaded = bool(row.demo)
            except SQLAlchemyError:
                # A figure in the header never takes a page down (e.g. the error page of a failed request).
                log.exception("header counts failed")
                db.session.rollback()
        g.header_counts = counts
    return g.header_counts


@functools.cache
def _header_statement(oig: bool) -> sa.Select:
    """Built once per kind of reader (the user's id bound when it runs): building and caching
    the statement cost about as much as running it, on every page."""
    columns: list[sa.ColumnElement] = [
        services.unread_count_statement(bound("user_id", sa.Integer)).scalar_subquery().label("unread"),
        demo_loaded_statement().label("demo"),
    ]
    if oig:
        columns.append(queues.review_count_statement().label("review"))
    return sa.select(*columns)


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


#: The id prefix of each kind of change's decision form in a queue (a due-date change and a
#: target change may share an id).
FORM_PREFIX = {"date_change": "change", "target_change": "target-change"}


@bp.app_template_global("queue_decision_form")
def queue_decision_form(change_id: int, kind: str = "date_change") -> DecisionForm:
    """The decision form of one change in a manager's queue: the one just refused, with its
    entries and errors, or a blank one. Element ids name the change, so none repeats on the page."""
    submitted = g.get("queue_decision")
    form = submitted[2] if submitted is not None and submitted[:2] == (kind, change_id) else DecisionForm(formdata=None)
    for f in form:
        f.id = f"{FORM_PREFIX[kind]}-{change_id}-{f.name}"
        f.label.field_id = f.id
    form.reason.label.text = "Reason for your decision"
    return form


def decide_in_queue(render):
    """A change decided from a manager's queue (a due date's, or a metric target's: ``change_kind``),
    posted to the page that shows the queue (the queue page or the start page): a refused decision
    comes back there, at the same address, entries kept.

    ``render(status)`` draws that page again."""
    kind = request.form.get("change_kind", "date_change")
    if kind not in FORM_PREFIX:
        abort(404)
    change_id = form_id("change_id")
    change: DueDateChange | TargetChange
    if kind == "target_change":
        change = definitions.get_target_change_or_404(change_id, for_decision=True)
    else:
        change = date_changes.get_date_change_or_404(change_id, for_decision=True)
    form = DecisionForm()
    if not form.validate_on_submit():
        g.queue_decision = (kind, change.id, form)
        return render(400)
    approve = bool(form.approve.data)
    reason = form.reason.data.strip()
    if isinstance(change, TargetChange):
        definitions.decide_target_change(change, approve=approve, reason=reason, today=today(), actor=current_user)
        what = "Target change"
    else:
        date_changes.decide_date_change(change, approve=approve, reason=form.reason.data)
        what = "Due-date change"
    db.session.commit()
    flash(f"{what} approved." if approve else f"{what} declined.", "success")
    return redirect(request.full_path.rstrip("?") + "#queue-heading")


@bp.route("/queue", methods=["GET", "POST"])
@roles("oig_reviewer", "manager", "action_office")
def queue():
    if request.method == "POST":
        return decide_in_queue(_queue_page)
    return _queue_page()


def _queue_page(status: int = 200):
    on = today()
    page = queues.queue_page(current_user, on, page_number(), QUEUE_PER_PAGE)
    return render_template(
        "notifications/queue.html", page=page, today=on, title=queues.QUEUE_TITLES[current_user.role]
    ), status
