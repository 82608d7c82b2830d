"""Loading what the decision reads, writing the outbox, and the daily job."""

from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, render_template
from sqlalchemy.dialects import postgresql, sqlite

from app.auth.models import User
from app.extensions import db
from app.milestones.models import OPEN_MILESTONE_STATUSES, DueDateChange, Milestone
from app.recommendations.models import OPEN_STATUSES, LineOfEffort, Recommendation, recommendation_label
from app.reminders import decide as d
from app.reminders.models import OutboxMessage, ReminderPreference, ReminderSettings
from app.reports.models import Report
from app.metrics.models import Flag, Metric
from app.reminders.send import deliver_pending

KEY_COLUMNS = ["kind", "item_type", "item_id", "recipient_id", "period"]


def get_settings() -> ReminderSettings:
    """The one settings row, created with the defaults on first use (flushed, not committed)."""
    settings = db.session.get(ReminderSettings, 1)
    if settings is None:
        settings = ReminderSettings(id=1)
        db.session.add(settings)
        db.session.flush()
    return settings


def get_preferences(user: User) -> ReminderPreference:
    """The person's preferences, or the defaults in a row not yet added to the session (the save
    adds it: a page that only shows them writes nothing, and on SQLite takes no write lock)."""
    prefs = db.session.scalar(sa.select(ReminderPreference).where(ReminderPreference.user_id == user.id))
    if prefs is None:
        prefs = ReminderPreference(
            user_id=user.id,
            due_soon=True,
            due_today=True,
            overdue_weekly=True,
            weekly_digest=True,
            digest_when_empty=False,
        )
    return prefs


def _rules() -> d.Rules:
    s = db.session.get(ReminderSettings, 1)
    if s is None:
        return d.Rules()
    return d.Rules(
        offsets=s.offset_days,
        escalate_manager_after=s.escalate_manager_after_days,
        escalate_official_after=s.escalate_official_after_days,
        follow_up_official_id=s.follow_up_official_id,
        digest_weekday=s.digest_weekday,
    )


#: The columns of a ``d.MilestoneFact`` but its recommendation's label (read with the open ones).
MILESTONE_FACT_COLUMNS = (
    Milestone.id,
    Milestone.title,
    Milestone.current_due_on,
    Milestone.owner_id,
    Milestone.office_id,
    LineOfEffort.recommendation_id,
)


def _milestone_fact(columns, labels: dict[int, str]) -> d.MilestoneFact:
    mid, title, due, owner_id, office_id, rec_id = columns
    return d.MilestoneFact(mid, title, due, owner_id, office_id, rec_id, labels[rec_id])


def load_snapshot(today: date) -> d.Snapshot:
    """The data ``decide`` reads, as plain values: three queries whatever the number of rows.

    Each read in id order: ``decide`` keeps the order it is given, which the weekly digest's
    lists and the order of the messages (``flask reminders run``) show."""
    rules = _rules()
    people = {}
    rows = db.session.execute(
        sa.select(User.id, User.email, User.name, User.role, User.office_id, ReminderPreference)
        .outerjoin(ReminderPreference, ReminderPreference.user_id == User.id)
        .where(User.is_active_account.is_(True))
        .order_by(User.id)
    )
    for uid, email, name, role, office_id, p in rows:
        prefs = (
            d.Prefs()
            if p is None
            else d.Prefs(
                p.due_soon, p.due_today, p.overdue_weekly, p.weekly_digest, p.digest_weekday, p.digest_when_empty
            )
        )
        people[uid] = d.Person(uid, email, name, role, office_id, prefs)

    open_recs = db.session.execute(
        sa.select(Recommendation, Report.number)
        .join(Report, Recommendation.report_id == Report.id)
        .where(Recommendation.status.in_(OPEN_STATUSES))
        .order_by(Recommendation.id)
        .execution_options(populate_existing=False)
    ).all()
    recommendations = [
        d.RecommendationFact(
            r.id,
            recommendation_label(number, r.number),
            r.action_office_id,
            r.status,
            r.issued_on,
            r.management_decision_on,
            r.final_action_on,
            plan_submitted_on=r.plan_submitted_on,
            last_update_on=r.last_submitted_on,
        )
        for r, number in open_recs
    ]
    labels = {r.id: r.label for r in recommendations}
    offices = {r.id: r.office_id for r in recommendations}

    horizon = today + timedelta(days=max(max(rules.offsets), d.DIGEST_HORIZON_DAYS))
    milestones = [
        _milestone_fact(fact, labels)
        for fact in db.session.execute(
            sa.select(*MILESTONE_FACT_COLUMNS)
            .join(LineOfEffort, Milestone.line_of_effort_id == LineOfEffort.id)
            .where(Milestone.status.in_(OPEN_MILESTONE_STATUSES), Milestone.current_due_on <= horizon)
            .order_by(Milestone.id)
        )
        if fact[-1] in labels
    ]
    pending = [
        d.DateChangeFact(cid, _milestone_fact(fact, labels), old, new, requested_by)
        for cid, old, new, requested_by, *fact in db.session.execute(
            sa.select(
                DueDateChange.id,
                DueDateChange.old_due_on,
                DueDateChange.new_due_on,
                DueDateChange.requested_by_id,
                *MILESTONE_FACT_COLUMNS,
            )
            .join(Milestone, DueDateChange.milestone_id == Milestone.id)
            .join(LineOfEffort, Milestone.line_of_effort_id == LineOfEffort.id)
            .where(DueDateChange.status == "pending")
            .order_by(DueDateChange.id)
        )
        if fact[-1] in labels
    ]
    missing = [
        d.MissingReadingFact(fid, mid, name, component, period, period_end, offices[rec_id], labels[rec_id], lead_id)
        for fid, mid, name, component, period, period_end, rec_id, lead_id in db.session.execute(
            sa.select(
                Flag.id,
                Metric.id,
                Metric.name,
                Flag.component,
                Flag.period,
                Flag.period_end,
                LineOfEffort.recommendation_id,
                LineOfEffort.lead_owner_id,
            )
            .join(Metric, Flag.metric_id == Metric.id)
            .join(LineOfEffort, Metric.line_of_effort_id == LineOfEffort.id)
            .where(Flag.status == "open", Flag.kind == "missing")
            .order_by(Flag.id)
        )
        if rec_id in labels
    ]
    return d.Snapshot(rules, people, milestones, recommendations, pending, missing)


def external_url(link: d.Link) -> str:
    """An absolute URL under BASE_URL, built outside any request (no SERVER_NAME needed)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(link.endpoint, dict(link.values), force_external=True)


@dataclass
class Rendered:
    due: d.Due
    to_address: str
    body_text: str
    body_html: str

    def row(self) -> dict:
        due = self.due
        return {
            "kind": due.kind,
            "item_type": due.item_type,
            "item_id": due.item_id,
            "recipient_id": due.recipient_id,
            "period": due.period,
            "to_address": self.to_address,
            "subject": due.subject[:300],
            "body_text": self.body_text,
            "body_html": self.body_html,
        }


def render(due: d.Due, person: d.Person) -> Rendered:
    context = {
        "due": due,
        "person": person,
        "link": external_url(due.link),
        "preferences_url": external_url(d.Link("reminders.preferences", ())),
        "sections": [(s, [(item, external_url(item.link)) for item in s.items]) for s in due.sections],
    }
    return Rendered(
        due,
        person.email,
        render_template(f"email/{due.template}.txt", **context),
        render_template(f"email/{due.template}.html", **context),
    )


def enqueue(rendered: list[Rendered]) -> None:
    """Insert each message unless its key is already there (the caller commits, then sends)."""
    enqueue_rows([r.row() for r in rendered])


def enqueue_rows(rows: list[dict]) -> None:
    """``enqueue`` for rows already made (kind, item_type, item_id, recipient_id, period,
    to_address, subject, body_text, body_html): the notifications of events use it too."""
    if not rows:
        return
    stmt = insert_ignoring(OutboxMessage.__table__, KEY_COLUMNS)
    for start in range(0, len(rows), 1000):
        db.session.execute(stmt, rows[start : start + 1000])


def insert_ignoring(table, key_columns: list[str]):
    """INSERT ... ON CONFLICT (key) DO NOTHING, on SQLite and PostgreSQL alike."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=key_columns)


def existing_keys(dues: list[d.Due]) -> set[tuple]:
    """Keys already in the outbox, so that a second run renders nothing it would not insert."""
    periods = {due.period for due in dues}
    found: set[tuple] = set()
    period_list = sorted(periods)
    for start in range(0, len(period_list), 500):
        found.update(
            tuple(row)
            for row in db.session.execute(
                sa.select(*(getattr(OutboxMessage, c) for c in KEY_COLUMNS)).where(
                    OutboxMessage.period.in_(period_list[start : start + 500])
                )
            )
        )
    return found


def plan(today: date) -> list[Rendered]:
    """Decide and render the messages due on ``today`` that are not yet in the outbox."""
    snapshot = load_snapshot(today)
    dues = d.decide(today, snapshot)
    done = existing_keys(dues)
    return [render(due, snapshot.people[due.recipient_id]) for due in dues if due.key not in done]


def run_daily(today: date, *, dry_run: bool = False, wait: bool = True) -> list:
    """The daily job: record what is due (committed first), then send what is unsent.

    Returns (state, to_address, subject) per message this run decided (dry run) or delivered.
    """
    rendered = plan(today)
    if dry_run:
        db.session.rollback()
        return [("would send", r.to_address, r.due.subject) for r in rendered]
    enqueue(rendered)
    db.session.commit()
    return deliver_pending(wait=wait)
