"""A user's private calendar: their milestones' due dates and their recommendations' clocks.

``feed_events()`` decides what goes in (pure, from loaded rows); ``feed_ics()`` writes
the iCalendar text with the ``icalendar`` package.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import contains_eager

from app.calendar.models import CalendarToken
from app.exports.tables import xml_safe
from app.extensions import db
from app.security import hash_token
from app.milestones.models import OPEN_MILESTONE_STATUSES, Milestone
from app.permissions import visible_recommendations
from app.recommendations.clocks import clocks_for
from app.recommendations.models import OPEN_STATUSES, LineOfEffort, Recommendation
from app.timeutil import utcnow


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    on: date
    summary: str
    description: str
    url_path: str


def active_token(user) -> CalendarToken | None:
    return db.session.scalar(
        sa.select(CalendarToken).where(CalendarToken.user_id == user.id, CalendarToken.revoked_at.is_(None))
    )


def revoke_tokens(user) -> int:
    tokens = db.session.scalars(
        sa.select(CalendarToken).where(CalendarToken.user_id == user.id, CalendarToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        token.revoked_at = utcnow()
    return len(tokens)


def user_for_feed_token_or_404(secret: str):
    token = db.session.scalar(
        sa.select(CalendarToken).where(
            CalendarToken.token_hash == hash_token(secret), CalendarToken.revoked_at.is_(None)
        )
    )
    if token is None or not token.user.is_active:
        abort(404)
    token.last_used_at = utcnow()
    return token.user


def _milestones(user) -> Sequence[Milestone]:
    query = (
        sa.select(Milestone)
        .join(Milestone.line_of_effort)
        .join(LineOfEffort.recommendation)
        .where(
            Recommendation.status.in_(OPEN_STATUSES),
            Milestone.status.in_(OPEN_MILESTONE_STATUSES),
            visible_recommendations(user, Recommendation),
        )
        .options(contains_eager(Milestone.line_of_effort).contains_eager(LineOfEffort.recommendation))
        .order_by(Milestone.current_due_on, Milestone.id)
    )
    if user.role == "action_office":
        # Action office staff follow what they own; managers and OIG follow every visible milestone.
        query = query.where(sa.or_(Milestone.owner_id == user.id, Milestone.owner_id.is_(None)))
    return db.session.scalars(query).unique().all()


def _recommendations(user) -> Sequence[Recommendation]:
    return (
        db.session.scalars(
            sa.select(Recommendation)
            .where(Recommendation.status.in_(OPEN_STATUSES), visible_recommendations(user, Recommendation))
            .order_by(Recommendation.id)
        )
        .unique()
        .all()
    )


def feed_events(milestones, recommendations, today: date) -> list[FeedEvent]:
    events = []
    for m in milestones:
        rec = m.line_of_effort.recommendation
        events.append(
            FeedEvent(
                uid=f"milestone-{m.id}",
                on=m.current_due_on,
                summary=f"Due: {m.title}",
                description=(
                    f"{rec.label} · {m.line_of_effort.title}\n"
                    f"Status: {m.status_label}, {m.percent_complete}% complete\n"
                    f"Baseline due {m.baseline_due_on.isoformat()}"
                ),
                url_path=f"/recommendations/{rec.id}",
            )
        )
    for rec in recommendations:
        for clock in clocks_for(rec, today).values():
            if clock.due_on is None or clock.state in ("met", "not_applicable"):
                continue
            events.append(
                FeedEvent(
                    uid=f"clock-{rec.id}-{clock.key}",
                    on=clock.due_on,
                    summary=f"{rec.label}: {clock.label}",
                    description=f"{rec.report.title}\nState: {clock.state.replace('_', ' ')}",
                    url_path=f"/recommendations/{rec.id}",
                )
            )
    return sorted(events, key=lambda e: (e.on, e.uid))


def user_feed_events(user, today: date) -> list[FeedEvent]:
    return feed_events(_milestones(user), _recommendations(user), today)


def feed_ics(events: list[FeedEvent], base_url: str, host: str) -> bytes:
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Corrective Action Tracker//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Corrective action deadlines")
    stamp = utcnow()
    for e in events:
        if e.on >= date.max:
            continue  # no day after it to end on; the forms now keep dates within 1990-2100
        event = Event()
        event.add("uid", f"{e.uid}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", e.on)
        event.add("dtend", e.on + timedelta(days=1))
        event.add("summary", xml_safe(e.summary))
        event.add("description", xml_safe(e.description))
        event.add("url", base_url.rstrip("/") + e.url_path)
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()
