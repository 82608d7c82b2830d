"""Who is told of what: pure functions of plain values, testable without a database or SMTP.

Each ``*_recipients`` function picks the people an event concerns, each with the reason they
are told; ``deliveries`` then applies the rules every event shares: never the actor, only
people who may see the recommendation, once per person, and each person's choice of email
(immediately, daily summary, off), except that an OIG decision on one's own plan is always
mailed. The services load the facts, call these, and write what they return.
"""

import re
from dataclasses import dataclass

from app.reminders.decide import Person

#: What each kind of event is called on the preferences page.
KIND_LABELS = {
    "submission_sent": "A plan, 90-day update or closure request is sent to OIG",
    "oig_decision": "OIG decides on a submission of your office's plan",
    "evidence_reviewed": "OIG reviews evidence you uploaded, or on a milestone you own",
    "date_change_requested": "A due-date change awaits your approval",
    "date_change_decided": "A manager decides a due-date change you asked for, or on a milestone you own",
    "comment": "A message in a conversation you are part of, or one that mentions you",
    "metric_flag": "A flag is raised on a metric of a line of effort you lead",
    "target_change_requested": "A change of a metric's target awaits your approval",
    "target_change_decided": "A manager decides a target change you asked for, or on a metric of a line you lead",
}
#: The kinds each role can receive (the preferences page shows only these).
KINDS_FOR_ROLE = {
    "oig_reviewer": ("submission_sent", "comment"),
    "action_office": (
        "oig_decision",
        "evidence_reviewed",
        "date_change_decided",
        "target_change_decided",
        "comment",
        "metric_flag",
    ),
    "manager": (
        "oig_decision",
        "date_change_requested",
        "date_change_decided",
        "target_change_requested",
        "target_change_decided",
        "comment",
        "metric_flag",
    ),
    "admin": ("comment",),
}
#: Mailed whatever the preference says: modes allowed for these kinds.
NOT_OFF = {"oig_decision"}
READ_ALL_ROLES = ("oig_reviewer", "admin")


@dataclass(frozen=True)
class Delivery:
    person: Person
    reason: str
    #: "immediate", "daily" or "off" (the in-app notification is made in every case).
    email: str


def may_see(person: Person, recommendation_office_id: int) -> bool:
    """The same rule as ``permissions.can_view_recommendation``."""
    return person.role in READ_ALL_ROLES or person.office_id == recommendation_office_id


def email_mode(kind: str, chosen: str | None) -> str:
    mode = chosen or "immediate"
    if kind in NOT_OFF and mode == "off":
        return "immediate"
    return mode


def deliveries(
    kind: str,
    candidates: list[tuple[Person, str]],
    *,
    actor_id: int | None,
    recommendation_office_id: int,
    prefs: dict[tuple[int, str], str],
) -> list[Delivery]:
    """The people told of one event, in the order first named, each once."""
    seen, result = set(), []
    for person, reason in candidates:
        if person is None or person.id == actor_id or person.id in seen:
            continue
        if not may_see(person, recommendation_office_id):
            continue
        seen.add(person.id)
        result.append(Delivery(person, reason, email_mode(kind, prefs.get((person.id, kind)))))
    return result


# --- who each event concerns ---------------------------------------------------------


def submission_sent_recipients(reviewers: list[Person], report_oig_office_ids: set[int]):
    """The OIG reviewers of the report's OIG (an OIG office named as the report's issuer);
    when no reviewer belongs to it, every active OIG reviewer."""
    own = [p for p in reviewers if p.office_id in report_oig_office_ids]
    reason = (
        "You review for the Inspector General who issued this report."
        if own
        else "You are an OIG reviewer, and submissions await OIG's decision."
    )
    return [(p, reason) for p in (own or reviewers)]


def oig_decision_recipients(
    *,
    milestone_owners: list[Person],
    line_leads: list[Person],
    responsible_officials: list[Person],
    managers: list[Person],
    submitter: Person | None,
):
    """The action office staff on that plan and the office's managers."""
    return (
        [(p, "You sent this submission to OIG.") for p in [submitter] if p]
        + [(p, "You are the recommendation's responsible official.") for p in responsible_officials]
        + [(p, "You lead a line of effort of this plan.") for p in line_leads]
        + [(p, "You own a milestone of this plan.") for p in milestone_owners]
        + [(p, "You manage the office responsible for this plan.") for p in managers]
    )


def evidence_reviewed_recipients(*, uploader: Person | None, milestone_owner: Person | None):
    return [(p, "You uploaded this evidence.") for p in [uploader] if p] + [
        (p, "You own the milestone this evidence proves.") for p in [milestone_owner] if p
    ]


def date_change_requested_recipients(managers: list[Person]):
    return [
        (p, "You manage the office responsible for this milestone; the change needs your approval.") for p in managers
    ]


def date_change_decided_recipients(*, requester: Person | None, owner: Person | None):
    return [(p, "You asked for this due-date change.") for p in [requester] if p] + [
        (p, "You own this milestone.") for p in [owner] if p
    ]


def target_change_requested_recipients(managers: list[Person]):
    return [
        (p, "You manage the office responsible for this metric's plan; the change needs your approval.")
        for p in managers
    ]


def target_change_decided_recipients(*, requester: Person | None, line_lead: Person | None):
    return [(p, "You asked for this target change.") for p in [requester] if p] + [
        (p, "You lead the line of effort this metric measures.") for p in [line_lead] if p
    ]


def comment_recipients(*, body: str, participants: list[Person], people: list[Person]):
    """Those @mentioned (by email or by name, among ``people``: those who may see the
    recommendation), then the others in the conversation."""
    mentioned = mentions(body, people)
    return [(p, "You were mentioned in this message.") for p in mentioned] + [
        (p, "You take part in this conversation.") for p in participants
    ]


def metric_flag_recipients(line_lead: Person | None):
    return [(p, "You lead the line of effort this metric measures.") for p in [line_lead] if p]


_MENTION = re.compile(
    r"(?<![\w.@])@([\w.+-]+@[\w-]+(?:\.[\w-]+)+|[^\W\d_][\w'’-]*(?:[ \t]+[^\W\d_][\w'’-]*){0,3})", re.UNICODE
)


def mentions(body: str, people: list[Person]) -> list[Person]:
    """The people named after an @ in ``body``: "@jane.doe@example.gov" or "@Jane Doe" (the
    longest name that matches). Names and emails are compared without regard to case."""
    by_email = {p.email.lower(): p for p in people}
    by_name: dict[str, Person] = {}
    for p in people:
        by_name.setdefault(" ".join(p.name.lower().split()), p)
    found = []
    for match in _MENTION.finditer(body):
        text = match.group(1).rstrip(".,;:!?)'’")
        person = by_email.get(text.lower())
        if person is None:
            words = text.split()
            for n in range(len(words), 0, -1):
                person = by_name.get(" ".join(words[:n]).lower())
                if person:
                    break
        if person is not None and person not in found:
            found.append(person)
    return found
