"""What is due today: pure functions of (today, data), testable without a database or SMTP.

``decide(today, snapshot)`` runs every function of ``SOURCES`` and ``digest_sections`` every
function of ``DIGEST_SOURCES``; a new kind of reminder (a pending date-change approval, a
metric reading due or missing) is one more function appended to the list.

Every message carries a key (kind, item_type, item_id, recipient_id, period). The period
names the occurrence, so that a job run twice, or by two schedulers, decides the same keys
and the outbox's unique constraint keeps one copy. Reminders fire in windows, not on exact
days ("due within 7 days, not yet within 1"), so a scheduler that was down catches up.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from app.recommendations.clocks import clocks_for

#: A manager's digest looks this far ahead.
DIGEST_HORIZON_DAYS = 14
#: Clocks the action office is reminded of (the implementation clock is a year away; milestones cover it).
REMINDED_CLOCKS = {
    "plan_response": "Corrective action plan",
    "resolution": "6-month resolution limit",
    "status_update": "90-day status update",
}


@dataclass(frozen=True)
class Prefs:
    due_soon: bool = True
    due_today: bool = True
    overdue_weekly: bool = True
    weekly_digest: bool = True
    digest_weekday: int | None = None
    digest_when_empty: bool = False


@dataclass(frozen=True)
class Person:
    """Someone told of something: by reminders (with their preferences) and by event
    notifications (``notifications/decide.py``, where the preferences are per kind of event)."""

    id: int
    email: str
    name: str
    role: str
    office_id: int | None
    prefs: Prefs = Prefs()


@dataclass(frozen=True)
class Rules:
    offsets: tuple[int, ...] = (30, 14, 7, 1)
    escalate_manager_after: int = 7
    escalate_official_after: int = 30
    follow_up_official_id: int | None = None
    digest_weekday: int = 0


@dataclass(frozen=True)
class MilestoneFact:
    id: int
    title: str
    due_on: date
    owner_id: int | None
    office_id: int
    recommendation_id: int
    recommendation_label: str


@dataclass(frozen=True)
class RecommendationFact:
    """What ``clocks_for`` reads from a recommendation."""

    id: int
    label: str
    office_id: int
    status: str
    issued_on: date
    management_decision_on: date | None = None
    final_action_on: date | None = None
    plan_submitted_on: date | None = None
    last_update_on: date | None = None


@dataclass(frozen=True)
class MissingReadingFact:
    """An open "missing" flag: a metric reading that was due and has not arrived."""

    flag_id: int
    metric_id: int
    metric_name: str
    component: str
    period: str
    period_end: date
    office_id: int
    recommendation_label: str
    #: The lead of the metric's line of effort: told of the flag by its notification
    #: (notifications/services.py: flag_raised), under their own preference, so not here again.
    lead_id: int | None = None


@dataclass(frozen=True)
class DateChangeFact:
    """A due-date change waiting for a manager's approval."""

    id: int
    milestone: MilestoneFact
    old_due_on: date
    new_due_on: date
    requested_by_id: int | None


@dataclass
class Snapshot:
    rules: Rules
    people: dict[int, Person]
    #: Open milestones of open recommendations, due no later than the horizon.
    milestones: list[MilestoneFact] = field(default_factory=list)
    #: Open recommendations.
    recommendations: list[RecommendationFact] = field(default_factory=list)
    #: Due-date change requests waiting for a manager.
    pending_date_changes: list[DateChangeFact] = field(default_factory=list)
    #: Metric readings due and not received (open "missing" flags).
    missing_readings: list[MissingReadingFact] = field(default_factory=list)

    def managers_of(self, office_id: int) -> list[Person]:
        return [p for p in self.people.values() if p.role == "manager" and p.office_id == office_id]

    def action_office_people(self, office_id: int) -> list[Person]:
        return [p for p in self.people.values() if p.office_id == office_id and p.role in ("action_office", "manager")]


@dataclass(frozen=True)
class Link:
    endpoint: str
    values: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class DigestItem:
    title: str
    detail: str
    link: Link


@dataclass(frozen=True)
class DigestSection:
    title: str
    items: tuple[DigestItem, ...]


@dataclass(frozen=True)
class Due:
    kind: str
    item_type: str
    item_id: int
    recipient_id: int
    period: str
    subject: str
    #: Why this person gets the message, said in the email.
    reason: str
    link: Link
    #: (label, value) lines shown in the email.
    details: tuple[tuple[str, str], ...] = ()
    sections: tuple[DigestSection, ...] = ()
    template: str = "reminder"

    @property
    def key(self) -> tuple:
        return self.kind, self.item_type, self.item_id, self.recipient_id, self.period


def milestone_link(m: MilestoneFact) -> Link:
    return Link("milestones.show", (("milestone_id", m.id),))


def recommendation_link(r: RecommendationFact) -> Link:
    return Link("recommendations.show", (("recommendation_id", r.id),))


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _fmt(day: date) -> str:
    return day.strftime("%b %-d, %Y")


def window(days_left: int, offsets: tuple[int, ...]) -> int | None:
    """The smallest offset at or above ``days_left``: the reminder window the day falls in."""
    fitting = [o for o in offsets if o >= days_left]
    return min(fitting) if fitting else None


def _milestone_details(m: MilestoneFact) -> tuple[tuple[str, str], ...]:
    return (("Milestone", m.title), ("Recommendation", m.recommendation_label), ("Due", _fmt(m.due_on)))


# --- sources of reminders ---------------------------------------------------------


def milestone_reminders(today: date, snap: Snapshot):
    """To the owner: due in 30/14/7/1 days (the admin's offsets), due today, overdue (weekly)."""
    for m in snap.milestones:
        owner = snap.people.get(m.owner_id) if m.owner_id is not None else None
        if owner is None:
            continue
        days_left = (m.due_on - today).days
        reason = f"You own this milestone of {m.recommendation_label}."
        if days_left > 0:
            w = window(days_left, snap.rules.offsets)
            if w is None or not owner.prefs.due_soon:
                continue
            yield Due(
                f"milestone.due_in_{w}",
                "milestone",
                m.id,
                owner.id,
                m.due_on.isoformat(),
                f"Due in {_days(days_left)}: {m.title}",
                reason,
                milestone_link(m),
                _milestone_details(m),
            )
        elif days_left == 0:
            if owner.prefs.due_today:
                yield Due(
                    "milestone.due_today",
                    "milestone",
                    m.id,
                    owner.id,
                    m.due_on.isoformat(),
                    f"Due today: {m.title}",
                    reason,
                    milestone_link(m),
                    _milestone_details(m),
                )
        elif owner.prefs.overdue_weekly:
            late = -days_left
            week = (late - 1) // 7
            yield Due(
                "milestone.overdue",
                "milestone",
                m.id,
                owner.id,
                f"{m.due_on.isoformat()}/w{week}",
                f"Overdue by {_days(late)}: {m.title}",
                reason,
                milestone_link(m),
                _milestone_details(m),
            )


def milestone_escalations(today: date, snap: Snapshot):
    """Overdue milestones: to the office's managers, then to the audit follow-up official (not optional)."""
    rules = snap.rules
    for m in snap.milestones:
        late = (today - m.due_on).days
        if late <= 0:
            continue
        details = _milestone_details(m) + (("Days overdue", str(late)),)
        if late >= rules.escalate_manager_after:
            for manager in snap.managers_of(m.office_id):
                yield Due(
                    "milestone.escalation_manager",
                    "milestone",
                    m.id,
                    manager.id,
                    m.due_on.isoformat(),
                    f"Overdue by {_days(late)} (escalation): {m.title}",
                    f"You manage the responsible office, and the milestone is more than "
                    f"{_days(rules.escalate_manager_after)} late.",
                    milestone_link(m),
                    details,
                )
        official = snap.people.get(rules.follow_up_official_id or 0)
        if official is not None and late >= rules.escalate_official_after:
            yield Due(
                "milestone.escalation_official",
                "milestone",
                m.id,
                official.id,
                m.due_on.isoformat(),
                f"Overdue by {_days(late)} (escalation): {m.title}",
                f"You are the audit follow-up official, and the milestone is more than "
                f"{_days(rules.escalate_official_after)} late.",
                milestone_link(m),
                details,
            )


def recommendation_clock_notices(today: date, snap: Snapshot):
    """Federal deadlines (plan response, 6-month resolution, 90-day update) to the action office."""
    for r in snap.recommendations:
        clocks = recommendation_clocks(r, today)
        for key, name in REMINDED_CLOCKS.items():
            clock = clocks[key]
            if clock.days_left is None:
                continue
            if clock.days_left < 0:
                kind, subject = f"clock.{key}.past_due", f"{name} past due since {_fmt(clock.due_on)}: {r.label}"
            else:
                w = window(clock.days_left, snap.rules.offsets)
                if w is None:
                    continue
                when = "today" if clock.days_left == 0 else f"in {_days(clock.days_left)}"
                kind, subject = f"clock.{key}.due_in_{w}", f"{name} due {when} ({_fmt(clock.due_on)}): {r.label}"
            for person in snap.action_office_people(r.office_id):
                yield Due(
                    kind,
                    "recommendation",
                    r.id,
                    person.id,
                    clock.due_on.isoformat(),
                    subject,
                    "Your office is responsible for this recommendation; federal deadline notices "
                    "are sent to all its staff and managers.",
                    recommendation_link(r),
                    (("Recommendation", r.label), (clock.label, _fmt(clock.due_on))),
                )


def recommendation_clocks(r: RecommendationFact, today: date):
    # The one call to the clocks, with the submission dates that meet them.
    return clocks_for(r, today, plan_submitted_on=r.plan_submitted_on, last_update_on=r.last_update_on)


def missing_reading_notices(today: date, snap: Snapshot):
    """A metric reading that was due and has not arrived: once per reading, to the action office,
    except the line's lead, whom the flag's own notification tells (one message per person)."""
    for f in snap.missing_readings:
        subject = f"Reading missing: {f.metric_name}, {f.component}, {f.period}"
        for person in snap.action_office_people(f.office_id):
            if person.role != "action_office" or person.id == f.lead_id:
                continue
            yield Due(
                "metric.reading_missing",
                "metric_flag",
                f.flag_id,
                person.id,
                f.period,
                subject,
                "Your office enters the readings of this metric; a reading missing when due is "
                "flagged until it arrives.",
                Link("metrics.show", (("metric_id", f.metric_id),)),
                (
                    ("Recommendation", f.recommendation_label),
                    ("Metric", f.metric_name),
                    ("Component", f.component),
                    ("Period", f"{f.period} (ended {_fmt(f.period_end)})"),
                ),
            )


#: Each source yields the messages due today. Add one function per new kind of reminder.
SOURCES = [milestone_reminders, milestone_escalations, recommendation_clock_notices, missing_reading_notices]


# --- the manager's weekly digest --------------------------------------------------


def digest_due_soon(today: date, snap: Snapshot, office_id: int) -> DigestSection:
    horizon = today + timedelta(days=DIGEST_HORIZON_DAYS)
    items = [
        DigestItem(m.title, f"{m.recommendation_label}, due {_fmt(m.due_on)}", milestone_link(m))
        for m in sorted(snap.milestones, key=lambda m: (m.due_on, m.id))
        if m.office_id == office_id and today <= m.due_on <= horizon
    ]
    return DigestSection(f"Milestones due in the next {DIGEST_HORIZON_DAYS} days", tuple(items))


def digest_overdue(today: date, snap: Snapshot, office_id: int) -> DigestSection:
    items = [
        DigestItem(
            m.title,
            f"{m.recommendation_label}, due {_fmt(m.due_on)}, {_days((today - m.due_on).days)} overdue",
            milestone_link(m),
        )
        for m in sorted(snap.milestones, key=lambda m: (m.due_on, m.id))
        if m.office_id == office_id and m.due_on < today
    ]
    return DigestSection("Overdue milestones", tuple(items))


def digest_nearing_resolution_limit(today: date, snap: Snapshot, office_id: int) -> DigestSection:
    items = []
    for r in snap.recommendations:
        if r.office_id != office_id or r.status != "unresolved_open":
            continue
        clock = recommendation_clocks(r, today)["resolution"]
        if clock.state in ("due_soon", "past_due"):
            items.append(DigestItem(r.label, f"unresolved; 6-month limit {_fmt(clock.due_on)}", recommendation_link(r)))
    return DigestSection("Recommendations nearing 6 months unresolved", tuple(items))


def digest_pending_date_changes(today: date, snap: Snapshot, office_id: int) -> DigestSection:
    items = [
        DigestItem(
            c.milestone.title,
            f"{c.milestone.recommendation_label}, due date "
            f"{_fmt(c.old_due_on)} -> {_fmt(c.new_due_on)}, waiting for approval",
            milestone_link(c.milestone),
        )
        for c in sorted(snap.pending_date_changes, key=lambda c: c.id)
        if c.milestone.office_id == office_id
    ]
    return DigestSection("Due-date changes waiting for your approval", tuple(items))


#: Each source gives one section of the digest. Add one function per new section.
DIGEST_SOURCES = [digest_due_soon, digest_overdue, digest_pending_date_changes, digest_nearing_resolution_limit]


def digest_sections(today: date, snap: Snapshot, office_id: int) -> tuple[DigestSection, ...]:
    return tuple(source(today, snap, office_id) for source in DIGEST_SOURCES)


def weekly_digests(today: date, snap: Snapshot):
    """To each manager, once per ISO week, on their digest day (or the first run after it)."""
    year, week, weekday = today.isocalendar()
    for person in snap.people.values():
        if person.role != "manager" or person.office_id is None or not person.prefs.weekly_digest:
            continue
        day = person.prefs.digest_weekday if person.prefs.digest_weekday is not None else snap.rules.digest_weekday
        if weekday - 1 < day:
            continue
        sections = digest_sections(today, snap, person.office_id)
        if not any(s.items for s in sections) and not person.prefs.digest_when_empty:
            continue
        count = sum(len(s.items) for s in sections)
        yield Due(
            "digest.weekly",
            "office",
            person.office_id,
            person.id,
            f"{year}-W{week:02d}",
            f"Weekly digest for the week of {_fmt(today - timedelta(days=weekday - 1))}: "
            f"{count} item{'s' if count != 1 else ''}",
            "You manage this office; the digest comes once a week on your digest day.",
            Link("dashboard.index", ()),
            sections=sections,
            template="digest",
        )


def decide(today: date, snap: Snapshot) -> list[Due]:
    """Every message due on ``today``, in a stable order. Pure: no database, no clock, no SMTP."""
    found: dict[tuple, Due] = {}
    for source in (*SOURCES, weekly_digests):
        for due in source(today, snap):
            found.setdefault(due.key, due)
    return list(found.values())
