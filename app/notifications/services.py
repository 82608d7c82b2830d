"""Telling people of events: load the facts, let ``decide`` choose, write the inbox rows and
the emails into the reminders outbox, in the caller's transaction.

Nothing is sent here: the outbox rows are committed with the change they tell of, and the
scheduler's delivery job (every minute) sends them after that commit, exactly once (the
outbox's key, its claim and its retries: app/reminders/send.py).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import cast
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, render_template

from app.auth.models import User
from app.comments.models import Comment
from app.extensions import db
from app.milestones.models import Milestone
from app import approvals
from app.notifications import decide as d
from app.notifications.changes import BY_MODEL, ChangeKind
from app.notifications.models import EVENT_KINDS, Notification, NotificationPreference
from app.offices.models import Office
from app.recommendations.models import LineOfEffort, Recommendation
from app.reminders.services import enqueue_rows, insert_ignoring
from app.submissions.models import KIND_LABELS
from app.timeutil import utcnow

NOTIFICATION_KEY = ["recipient_id", "kind", "item_type", "item_id", "occurrence"]
SUMMARY_KIND = "event.daily_summary"


@dataclass
class Event:
    kind: str
    item_type: str
    item_id: int
    recommendation: Recommendation
    actor: User | None
    #: What happened, as a sentence that names the recommendation and who did it.
    text: str
    subject: str
    endpoint: str
    values: dict
    anchor: str = ""
    occurrence: str = ""
    details: list[tuple[str, str]] = field(default_factory=list)

    @property
    def path(self) -> str:
        return app_path(self.endpoint, self.values) + (f"#{self.anchor}" if self.anchor else "")


def app_path(endpoint: str, values: dict) -> str:
    """The path of an endpoint, built outside any request (the scheduler raises flags too)."""
    base = urlsplit(current_app.config["BASE_URL"])
    return current_app.url_map.bind(base.netloc, script_name=base.path or "/").build(endpoint, values)


def absolute(path: str) -> str:
    """``path`` (from ``app_path``) under BASE_URL: the link an email carries."""
    base = urlsplit(current_app.config["BASE_URL"])
    return f"{base.scheme}://{base.netloc}{path}"


def actor_name(actor: User | None) -> str:
    return actor.name if actor is not None else "The tracker's daily check"


# --- loading people -------------------------------------------------------------------


def _person(user: User | None) -> d.Person | None:
    if user is None or not user.is_active_account:
        return None
    return d.Person(user.id, user.email, user.name, user.role, user.office_id)


def _people(*conditions) -> list[d.Person]:
    return [
        d.Person(*row)
        for row in db.session.execute(
            sa.select(User.id, User.email, User.name, User.role, User.office_id)
            .where(User.is_active_account.is_(True), *conditions)
            .order_by(User.name, User.id)
        )
    ]


def people_by_ids(ids) -> list[d.Person]:
    ids = {i for i in ids if i is not None}
    return _people(User.id.in_(ids)) if ids else []


def managers_of(*office_ids: int) -> list[d.Person]:
    return _people(User.role == "manager", User.office_id.in_(set(office_ids)))


def readers_of(recommendation: Recommendation) -> list[d.Person]:
    """Everyone who may see the recommendation (the people a message may mention)."""
    return _people(sa.or_(User.role.in_(d.READ_ALL_ROLES), User.office_id == recommendation.action_office_id))


def preferences_for(person_ids, kind: str) -> dict[tuple[int, str], str]:
    if not person_ids:
        return {}
    return {
        (uid, kind): mode
        for uid, mode in db.session.execute(
            sa.select(NotificationPreference.user_id, NotificationPreference.mode).where(
                NotificationPreference.kind == kind, NotificationPreference.user_id.in_(set(person_ids))
            )
        )
    }


def preferences_of(user: User) -> dict[str, str]:
    chosen = dict(
        db.session.execute(
            sa.select(NotificationPreference.kind, NotificationPreference.mode).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )
    return {kind: d.email_mode(kind, chosen.get(kind)) for kind in EVENT_KINDS}


def set_preferences(user: User, modes: dict[str, str]) -> dict[str, str]:
    """Store ``modes`` (kind -> mode); returns what was there before (for the audit trail)."""
    before = preferences_of(user)
    rows = {
        p.kind: p
        for p in db.session.scalars(sa.select(NotificationPreference).where(NotificationPreference.user_id == user.id))
    }
    for kind, mode in modes.items():
        mode = d.email_mode(kind, mode)
        if kind in rows:
            rows[kind].mode = mode
        else:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, mode=mode))
    return before


# --- writing ----------------------------------------------------------------------------


def tell(event: Event, candidates: list[tuple[d.Person, str]]) -> list[d.Delivery]:
    """Write the notification of ``event`` for each person ``decide`` keeps, and the email of
    those who take this kind immediately. The caller's commit makes both real at once."""
    prefs = preferences_for([p.id for p, _ in candidates if p], event.kind)
    chosen = d.deliveries(
        event.kind,
        candidates,
        actor_id=event.actor.id if event.actor else None,
        recommendation_office_id=event.recommendation.action_office_id,
        prefs=prefs,
    )
    if not chosen:
        return chosen
    path = event.path
    db.session.execute(
        insert_ignoring(Notification.__table__, NOTIFICATION_KEY),
        [
            {
                "recipient_id": c.person.id,
                "kind": event.kind,
                "item_type": event.item_type,
                "item_id": event.item_id,
                "occurrence": event.occurrence,
                "recommendation_id": event.recommendation.id,
                "actor_id": event.actor.id if event.actor else None,
                "text": event.text[:500],
                "reason": c.reason[:300],
                "link": path,
                "email": c.email,
                "summarised_on": None,
                "created_at": utcnow(),
                "read_at": None,
            }
            for c in chosen
        ],
    )
    enqueue_rows([_email_row(event, c, path) for c in chosen if c.email == "immediate"])
    return chosen


def _email_row(event: Event, delivery: d.Delivery, path: str) -> dict:
    context = {
        "event": event,
        "person": delivery.person,
        "reason": delivery.reason,
        "link": absolute(path),
        "actor": actor_name(event.actor),
        "preferences_url": absolute(app_path("reminders.preferences", {})),
    }
    return {
        "kind": f"event.{event.kind}",
        "item_type": event.item_type,
        "item_id": event.item_id,
        "recipient_id": delivery.person.id,
        "period": event.occurrence or "-",
        "to_address": delivery.person.email,
        "subject": event.subject[:300],
        "body_text": render_template("email/event.txt", **context),
        "body_html": render_template("email/event.html", **context),
    }


# --- the events -------------------------------------------------------------------------


def submission_sent(submission, actor: User) -> None:
    rec = submission.recommendation
    label = rec.label
    kind = KIND_LABELS[submission.kind].lower()
    oig_offices = {
        i
        for (i,) in db.session.execute(
            sa.select(Office.id).where(
                Office.kind == "oig", sa.func.lower(Office.name) == rec.report.oig_office.lower()
            )
        )
    }
    event = Event(
        "submission_sent",
        "submission",
        submission.id,
        rec,
        actor,
        f"{actor.name} sent a {kind} (submission {submission.number}) on {label} to OIG for decision.",
        f"{label}: {KIND_LABELS[submission.kind]} sent to OIG by {actor.name}",
        "submissions.show",
        {"submission_id": submission.id},
        details=[
            ("Recommendation", label),
            ("Submission", f"{submission.number}: {KIND_LABELS[submission.kind]}"),
            ("Sent by", actor.name),
        ],
    )
    tell(event, d.submission_sent_recipients(_people(User.role == "oig_reviewer"), oig_offices))


def oig_decided(submission, actor: User) -> None:
    rec = submission.recommendation
    label = rec.label
    verb = "accepted" if submission.decision == "accepted" else "did not accept"
    kind = KIND_LABELS[submission.kind].lower()
    owners, leads = plan_people(rec.id)
    officials = []
    if rec.responsible_official.strip():
        officials = _people(
            User.office_id == rec.action_office_id, sa.func.lower(User.name) == rec.responsible_official.strip().lower()
        )
    event = Event(
        "oig_decision",
        "submission",
        submission.id,
        rec,
        actor,
        f"{actor.name} (OIG) {verb} the {kind} (submission {submission.number}) on {label}.",
        f"{label}: OIG {verb} the {kind}",
        "submissions.show",
        {"submission_id": submission.id},
        details=[
            ("Recommendation", label),
            ("Submission", f"{submission.number}: {KIND_LABELS[submission.kind]}"),
            ("Decision", submission.decision_label),
            ("Decided by", actor.name),
            ("OIG's analysis", submission.analysis),
        ],
    )
    tell(
        event,
        d.oig_decision_recipients(
            milestone_owners=owners,
            line_leads=leads,
            responsible_officials=officials,
            managers=managers_of(rec.action_office_id),
            submitter=_person(submission.submitted_by),
        ),
    )


def plan_people(recommendation_id: int) -> tuple[list[d.Person], list[d.Person]]:
    """The owners of the plan's milestones, and the leads of its lines of effort."""
    owners = db.session.scalars(
        sa.select(Milestone.owner_id)
        .join(LineOfEffort, Milestone.line_of_effort_id == LineOfEffort.id)
        .where(LineOfEffort.recommendation_id == recommendation_id)
        .distinct()
    ).all()
    leads = db.session.scalars(
        sa.select(LineOfEffort.lead_owner_id).where(LineOfEffort.recommendation_id == recommendation_id).distinct()
    ).all()
    return people_by_ids(owners), people_by_ids(leads)


def evidence_reviewed(item, review, actor: User) -> None:
    rec = item.recommendation
    label = rec.label
    verdict = "accepted" if review.decision == "accepted" else "judged insufficient"
    uploader = db.session.get(User, review.version.uploaded_by_id) if review.version.uploaded_by_id else None
    owner = item.milestone.owner if item.milestone is not None else None
    event = Event(
        "evidence_reviewed",
        "evidence_review",
        review.id,
        rec,
        actor,
        f"{actor.name} (OIG) {verdict} the evidence “{item.title}” on {label}.",
        f"{label}: evidence {verdict} by OIG",
        "evidence.item",
        {"item_id": item.id},
        details=[
            ("Recommendation", label),
            ("Evidence", f"{item.title} (version {review.version.number})"),
            *([("Milestone", item.milestone.title)] if item.milestone else []),
            ("Review", review.decision_label),
            ("Reviewed by", actor.name),
            ("OIG's comment", review.comment),
        ],
    )
    tell(event, d.evidence_reviewed_recipients(uploader=_person(uploader), milestone_owner=_person(owner)))


def _change_event(change, actor: User, what: str, text, subject, details) -> tuple[Event, ChangeKind, object]:
    """The event ``<kind>_<what>`` about ``change``; ``text``, ``subject``, ``details`` take the
    kind, the changed row and the recommendation's label."""
    kind = BY_MODEL[type(change)]
    row = kind.subject_of(change)
    label = row.line_of_effort.recommendation.label
    event = Event(
        f"{kind.key}_{what}",
        kind.item_type,
        change.id,
        row.line_of_effort.recommendation,
        actor,
        text(kind, row, label),
        f"{label}: {kind.noun} {subject}",
        kind.endpoint,
        {kind.subject_id.key: row.id},
        anchor=kind.anchor,
        details=[("Recommendation", label), *kind.details(change), ("Justification", change.justification), *details],
    )
    return event, kind, row


def change_requested(change, actor: User) -> None:
    """A manager is asked to decide ``change`` (told of the request declined just before, if any)."""
    earlier = earlier_decline(change)
    event, kind, _ = _change_event(
        change,
        actor,
        "requested",
        lambda kind, row, label: (
            f"{actor.name} asked to {kind.verb} {kind.what(row)} ({label}) "
            f"from {kind.old(change)} to {kind.new(change)}." + (f" {earlier.rstrip('.')}." if earlier else "")
        ),
        "awaits your approval",
        [("Asked by", actor.name), ("Earlier request", earlier)],
    )
    tell(event, kind.requested_recipients(managers_of(*kind.offices(change))))


def change_decided(change, actor: User) -> None:
    verb = "approved" if change.status == "approved" else "declined"
    event, kind, row = _change_event(
        change,
        actor,
        "decided",
        lambda kind, row, label: (
            f"{actor.name} {verb} {kind.verbing} {kind.what(row)} ({label}) to {kind.new(change)}."
        ),
        f"{verb} by {actor.name}",
        [("Decision", verb.capitalize()), ("Decided by", actor.name), ("Reason", change.decision_reason)],
    )
    requester = db.session.get(User, change.requested_by_id) if change.requested_by_id else None
    tell(event, kind.decided_recipients(_person(requester), _person(kind.told_of_decision(row))))


def earlier_decline(change) -> str:
    """ "Declined earlier on <date> by <name>: <reason>" for the request declined just before ``change``."""
    kind = BY_MODEL[type(change)]
    earlier = approvals.earlier_decline(kind.requests(kind.subject_of(change)), change)
    if earlier is None:
        return ""
    return approvals.declined_earlier(
        earlier.decided_at, earlier.decided_by.name if earlier.decided_by else None, earlier.decision_reason
    )


def comment_posted(comment: Comment, rec: Recommendation, actor: User) -> None:
    label = rec.label
    authors = db.session.scalars(
        sa.select(Comment.author_id).where(Comment.recommendation_id == rec.id).distinct()
    ).all()
    excerpt = " ".join(comment.body.split())
    event = Event(
        "comment",
        "comment",
        comment.id,
        rec,
        actor,
        f"{actor.name} wrote on {label}: “{excerpt[:200]}{'…' if len(excerpt) > 200 else ''}”",
        f"{label}: new message from {actor.name}",
        "recommendations.show",
        {"recommendation_id": rec.id},
        anchor=f"comment-{comment.id}",
        details=[("Recommendation", label), ("From", actor.name), ("Message", comment.body)],
    )
    tell(event, d.comment_recipients(body=comment.body, participants=people_by_ids(authors), people=readers_of(rec)))


def flag_raised(flag, actor: User | None, occurrence: str) -> None:
    metric = flag.metric
    line = metric.line_of_effort
    rec = line.recommendation
    label = rec.label
    what = flag.kind_label.lower()
    event = Event(
        "metric_flag",
        "metric_flag",
        flag.id,
        rec,
        actor,
        (f"A reading entered by {actor.name}" if actor else "The tracker's daily check")
        + f" raised a flag ({what}) on the metric “{metric.name}”, {flag.component}, {flag.period}, of {label}.",
        f"{label}: flag raised on {metric.name} ({flag.component}, {flag.period})",
        "metrics.show",
        {"metric_id": metric.id},
        occurrence=occurrence,
        details=[
            ("Recommendation", label),
            ("Line of effort", line.title),
            ("Metric", metric.name),
            ("Component and period", f"{flag.component}, {flag.period}"),
            ("Flag", flag.kind_label),
        ],
    )
    tell(event, d.metric_flag_recipients(_person(line.lead_owner)))


# --- the inbox ----------------------------------------------------------------------------


def unread_count_statement(user_id: int | sa.ColumnElement[int]) -> sa.Select:
    return (
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == user_id, Notification.read_at.is_(None))
    )


def inbox_query(user_id: int) -> sa.Select:
    return sa.select(Notification).where(Notification.recipient_id == user_id).order_by(Notification.id.desc())


def mark_read(user_id: int, notification_id: int | None = None) -> int:
    """Mark one (or every) unread notification of ``user_id`` read; returns how many."""
    stmt = (
        sa.update(Notification)
        .where(Notification.recipient_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    result = db.session.execute(stmt, execution_options={"synchronize_session": False})
    return cast(sa.CursorResult, result).rowcount  # DML returns a CursorResult


# --- the daily summary ----------------------------------------------------------------------


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def write_daily_summaries(today: date) -> int:
    """One email per person with the notifications they take daily, made before ``today``
    (UTC) and not yet summarised. The outbox key (person, day) and the ``summarised_on``
    mark make a second run, or two at once, write nothing more. The caller commits."""
    rows = db.session.execute(
        sa.select(
            Notification.id,
            Notification.recipient_id,
            Notification.text,
            Notification.link,
            Notification.created_at,
            User.email,
            User.name,
        )
        .join(User, Notification.recipient_id == User.id)
        .where(
            Notification.email == "daily",
            Notification.summarised_on.is_(None),
            Notification.created_at < start_of(today),
            User.is_active_account.is_(True),
        )
        .order_by(Notification.recipient_id, Notification.id)
    ).all()
    by_person: dict[int, list] = {}
    for row in rows:
        by_person.setdefault(row.recipient_id, []).append(row)
    messages = []
    for uid, items in by_person.items():
        n = len(items)
        subject = f"Daily summary for {today - timedelta(days=1):%b %-d, %Y}: {n} notification{'s' if n != 1 else ''}"
        context = {
            "subject": subject,
            "items": [(r, absolute(r.link)) for r in items],
            "inbox_url": absolute(app_path("notifications.index", {})),
            "preferences_url": absolute(app_path("reminders.preferences", {})),
        }
        messages.append(
            {
                "kind": SUMMARY_KIND,
                "item_type": "user",
                "item_id": uid,
                "recipient_id": uid,
                "period": today.isoformat(),
                "to_address": items[0].email,
                "subject": subject,
                "body_text": render_template("email/event_summary.txt", **context),
                "body_html": render_template("email/event_summary.html", **context),
            }
        )
    enqueue_rows(messages)
    if rows:
        ids = [r.id for r in rows]
        for start in range(0, len(ids), 500):
            db.session.execute(
                sa.update(Notification)
                .where(Notification.id.in_(ids[start : start + 500]), Notification.summarised_on.is_(None))
                .values(summarised_on=today),
                execution_options={"synchronize_session": False},
            )
    return len(messages)
