"""The audit trail told in plain language: one sentence per event, with names, field labels and
formatted values ("Dana Whitfield moved the due date of “Define required fields” from Jan 16 to
Feb 6, 2027; approved by Priya Raman").

``sentence(event, names)`` is pure: the names of the objects events refer to by id (milestones,
evidence, metrics, flags, people, date-change requests) are read for a whole page at once by
``names_for(events)``, a fixed number of queries whatever the page's length. Hashes are never
shown here (they belong to the integrity page).
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from app.extensions import db
from app.timeutil import human_date
from app.evidence.models import REVIEW_STATUS_LABELS, EvidenceItem
from app.metrics.values import with_unit
from app.metrics.models import (
    DECISION_LABELS as ACTION_LABELS,
    DIRECTION_LABELS,
    FLAG_KIND_LABELS,
    FREQUENCY_LABELS,
    Flag,
    Metric,
    Reading,
)
from app.milestones.models import MILESTONE_STATUS_LABELS, DueDateChange, Milestone
from app.recommendations.models import CONCURRENCE_LABELS, STATUS_LABELS
from app.submissions.models import KIND_LABELS
from app.auth.models import User

#: The kinds a history can be filtered by: label and the action prefixes they cover.
KINDS = {
    "decisions": (
        "Status, submissions and decisions",
        ("recommendation.status", "submission.", "recommendation.correct", "recommendation.money_decision"),
    ),
    "plan": (
        "Plan and milestones",
        ("milestone.", "line_of_effort.", "recommendation.response", "recommendation.create"),
    ),
    "evidence": ("Evidence", ("evidence.",)),
    "metrics": ("Metrics, flags and improvement actions", ("metric.",)),
    "messages": ("Messages", ("comment.",)),
}

FIELD_LABELS = {
    # milestones
    "title": "title",
    "description": "description",
    "owner": "owner",
    "office": "responsible office",
    "start_on": "start date",
    "baseline_due_on": "baseline due date",
    "current_due_on": "due date",
    "status": "status",
    "percent_complete": "progress",
    "completed_on": "completion date",
    "expected_evidence": "expected evidence",
    "depends_on": "dependencies",
    # lines of effort
    "objective": "objective",
    "kind": "kind",
    "lead_owner": "lead",
    "position": "position",
    # the office's response
    "concurrence": "concurrence",
    "concurrence_response": "management response",
    "responsible_official": "responsible official",
    "target_completion_on": "target completion date",
    # metrics and readings
    "name": "name",
    "unit": "unit",
    "direction": "direction",
    "baseline_value": "baseline",
    "baseline_period": "baseline period",
    "target_value": "target",
    "target_on": "target date",
    "frequency": "frequency",
    "components": "components",
    "data_source": "data source",
    "collect_from": "first period",
    "value": "value",
    "note": "note",
    "numerator": "numerator",
    "denominator": "denominator",
    # reports and recommendations (corrections, the management decision on the money)
    "number": "number",
    "text": "text",
    "issued_on": "issue date",
    "priority": "priority",
    "questioned_costs": "questioned costs",
    "unsupported_costs": "unsupported costs",
    "funds_put_to_better_use": "funds put to better use",
    "disallowed_costs": "disallowed costs",
    "agreed_funds": "funds agreed",
    "action_office": "action office",
    # what an event records beside the fields (the milestone page's lines label them)
    "noted_on": "date of the update",
    "requested_due_on": "requested due date",
    "requested_target_value": "requested target",
    "requested_target_on": "requested target date",
}
#: What a request asks, and the field it would move.
REQUESTED = {
    "requested_due_on": "current_due_on",
    "requested_target_value": "target_value",
    "requested_target_on": "target_on",
}
#: Bookkeeping fields that say nothing to a reader (and hashes, which belong to the integrity page).
BOOKKEEPING = {
    "version",
    "sha256",
    "snapshot_sha256",
    "hash",
    "change_id",
    "id",
    "line_of_effort_id",
    "metric_id",
    "flag_id",
    "owner_id",
    "milestone_id",
    "acknowledged",
}
#: The prose an event carries, as a reader calls it: the request's reason, the manager's answer.
PROSE_LABELS = {
    "note": "Note",
    "justification": "Reason",
    "reason": "Reason",
    "decision_reason": "Manager's reason",
}
#: Left out of a sentence's list of changes: bookkeeping, and what the sentence says in its own words.
HIDDEN_FIELDS = BOOKKEEPING | {"justification", "reason", "decision_reason", "requested_due_on"}


@dataclass
class Names:
    """Names of the objects a page of events refers to by id."""

    milestones: dict[int, str] = field(default_factory=dict)
    evidence: dict[int, str] = field(default_factory=dict)
    metrics: dict[int, str] = field(default_factory=dict)
    #: reading id -> metric name
    readings: dict[int, str] = field(default_factory=dict)
    #: metric id -> its unit, and reading id -> its metric's unit ("95%", "12,757 releases")
    units: dict[int, str] = field(default_factory=dict)
    reading_units: dict[int, str] = field(default_factory=dict)
    #: flag id -> (metric name, component, period)
    flags: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    users: dict[int, str] = field(default_factory=dict)
    #: due-date change id -> the requester's name
    requesters: dict[int, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)


def value_labels() -> dict[str, str]:
    return {
        **MILESTONE_STATUS_LABELS,
        **REVIEW_STATUS_LABELS,
        **FREQUENCY_LABELS,
        **DIRECTION_LABELS,
        **FLAG_KIND_LABELS,
        **ACTION_LABELS,
        **CONCURRENCE_LABELS,
        **STATUS_LABELS,
        **KIND_LABELS,
    }


# --- values ------------------------------------------------------------------------


def _as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _number(value) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        value = Decimal(str(value))
    elif isinstance(value, str):
        try:
            value = Decimal(value)
        except InvalidOperation:
            return None
    else:
        return None
    text = f"{value:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def value_text(value, labels: dict[str, str], key: str = "") -> str:
    """A stored value as a reader says it."""
    if value is None or value == "" or value == []:
        return "none"
    day = _as_date(value)
    if day:
        return human_date(day)
    if key == "percent_complete":
        return f"{value}%"
    if isinstance(value, str) and value in labels:
        return labels[value]
    number = _number(value) if key not in ("title", "name", "period", "component") else None
    if number is not None:
        return number
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    text = str(value)
    return text if len(text) <= 120 else text[:117] + "…"


def date_span(before, after) -> str:
    """ "from Jan 16 to Feb 6, 2027" (the first year left out when both are in the same year)."""
    a, b = _as_date(before), _as_date(after)
    if a and b and a.year == b.year:
        return f"from {a:%b} {a.day} to {human_date(b)}"
    return f"from {human_date(a) if a else 'none'} to {human_date(b) if b else 'none'}"


def _quote(text) -> str:
    text = str(text or "").strip()
    if len(text) > 200:
        text = text[:197] + "…"
    return f"“{text}”"


def changes_text(before: dict, after: dict, labels: dict[str, str]) -> str:
    """ "due date from Jan 16 to Feb 6, 2027; progress from 20% to 60%"."""
    parts = []
    for key in [k for k in after if k in before] + [k for k in after if k not in before]:
        if key in HIDDEN_FIELDS or before.get(key) == after.get(key):
            continue
        label = FIELD_LABELS.get(key, key.replace("_", " "))
        if _as_date(before.get(key)) or _as_date(after.get(key)):
            parts.append(f"{label} {date_span(before.get(key), after.get(key))}")
        elif key in ("description", "concurrence_response", "objective", "expected_evidence", "note"):
            parts.append(f"{label} now {_quote(after.get(key))}" if after.get(key) else f"{label} removed")
        else:
            parts.append(
                f"{label} from {value_text(before.get(key), labels, key)} to {value_text(after.get(key), labels, key)}"
            )
    return "; ".join(parts)


# --- labelled lines (a page's "before → after" column) ----------------------------------


def _label(key: str) -> str:
    label = FIELD_LABELS.get(key, key.replace("_", " "))
    return label[:1].upper() + label[1:]


def _empty(value) -> bool:
    return value is None or value == "" or value == []


def change_lines(
    event, labels: dict[str, str], *, requests: dict[int, int] | None = None, titles: dict[int, str] | None = None
) -> list[tuple[str, str]]:
    """(label, text) for what one event changed, as the milestone page lists it: "Due date: Jan 17,
    2027 → Mar 2, 2027", "Reason: …"; a line without a label is its own ("Request 2").

    Only what the event changed or says is listed: bookkeeping (ids, versions, hashes) never, and a
    field the event holds on one side only (a request records the due date it asks to move, and
    nothing after) not as a change to nothing. ``requests`` numbers the subject's requests
    ({change id: 2} for "Request 2"); ``titles`` names the milestones a dependency list holds.
    """
    b, a = event.before_data, event.after_data
    kind = event.action.rpartition("_")[2] if "due_date_" in event.action or "target_" in event.action else ""
    lines: list[tuple[str, str]] = []
    number = (requests or {}).get(a.get("change_id"))
    if kind in ("request", "approve", "decline") and number:
        lines.append(("", f"Request {number}"))

    def said(key, value) -> str:
        if key == "depends_on" and isinstance(value, list) and value:
            return ", ".join(
                f"“{(titles or {}).get(i)}”" if (titles or {}).get(i) else "another milestone" for i in value
            )
        return value_text(value, labels, key)

    if kind in ("request", "decline"):  # what was asked (a decline leaves the standing value as it was)
        for key, moves in REQUESTED.items():
            if _empty(a.get(key)) or a[key] == b.get(moves):  # not asked, or asked to stay as it is
                continue
            asked, standing = said(key, a[key]), b.get(moves) if kind == "request" else None
            lines.append(
                (_label(key), f"{asked} (instead of {said(moves, standing)})" if not _empty(standing) else asked)
            )
    order = {key: i for i, key in enumerate(FIELD_LABELS)}  # the order the forms ask in, whatever the stored order
    for key in sorted(a, key=lambda k: (k not in b, order.get(k, len(order)), k)):
        if key in BOOKKEEPING or key in PROSE_LABELS or key in REQUESTED:
            continue
        before, after = b.get(key), a.get(key)
        if key not in b:  # what the event adds (the date of an update), when it says something
            if not _empty(after):
                lines.append((_label(key), said(key, after)))
        elif before != after:
            text = said(key, after) if _empty(before) else f"{said(key, before)} → {said(key, after)}"
            lines.append((_label(key), text))
    for key, label in PROSE_LABELS.items():
        if not _empty(a.get(key)):
            lines.append((label, str(a[key])))
    return lines


# --- sentences -----------------------------------------------------------------------


def sentence(event, names: Names) -> str:
    """One event as one sentence."""
    text = _sentence(event, names)
    for doubled, single in ((".”.", ".”"), ("?”.", "?”"), ("!”.", "!”"), ("….", "…"), ("…”.", "…”")):
        text = text.replace(doubled, single)
    return text


def _sentence(event, names: Names) -> str:
    who = event.actor.name if event.actor else "The system"
    b, a = event.before_data, event.after_data
    labels = names.labels
    action, oid = event.action, event.object_id
    value = lambda key, src=a: value_text(src.get(key), labels, key)  # noqa: E731

    def measured(key, unit, src=a):
        """A metric's number with its unit; "none" stays a word."""
        text = value(key, src)
        return text if src.get(key) in (None, "") else with_unit(text, unit)

    if action == "recommendation.status":
        via = f" with submission {a['submission']}" if a.get("submission") else ""
        return (
            f"{who} changed the status from {value('status', b)} to {value('status')}{via}: {_quote(a.get('reason'))}."
        )
    if action == "recommendation.response":
        return f"{who} edited the office's response: {changes_text(b, a, labels) or 'no visible change'}."
    if action == "recommendation.create":
        return f"{who} added the recommendation."
    if action == "submission.create":
        acknowledged = a.get("acknowledged") or []
        tail = (
            f", acknowledging {len(acknowledged)} open {'item' if len(acknowledged) == 1 else 'items'}"
            if acknowledged
            else ""
        )
        return f"{who} sent submission {a.get('number')}, a {value('kind').lower()}, to OIG{tail}."
    if action == "submission.decide":
        verb = "accepted" if a.get("decision") == "accepted" else "rejected"
        return f"{who} {verb} submission {a.get('number')} ({value('kind').lower()}): {_quote(a.get('analysis'))}."
    if action == "comment.create":
        return f"{who} wrote: {_quote(a.get('body'))}."
    if action == "recommendation.correct":
        return (
            f"{who} corrected the recommendation: {changes_text(b, a, labels) or 'no visible change'}; "
            f"reason: {_quote(a.get('reason'))}."
        )
    if action == "recommendation.money_decision":
        return f"{who} recorded the management decision on the money: {changes_text(b, a, labels) or 'no change'}."

    if action.startswith("milestone."):
        title = _quote(a.get("title") or names.milestones.get(oid, "a milestone"))
        if action == "milestone.create":
            return f"{who} added the milestone {title}, due {value('current_due_on')}."
        if action == "milestone.due_date_change":
            return (
                f"{who} moved the due date of {title} {date_span(b.get('current_due_on'), a.get('current_due_on'))}: "
                f"{_quote(a.get('justification'))}."
            )
        if action == "milestone.due_date_request":
            return (
                f"{who} asked to move the due date of {title} "
                f"{date_span(b.get('current_due_on'), a.get('requested_due_on'))}: {_quote(a.get('justification'))}."
            )
        if action in ("milestone.due_date_approve", "milestone.due_date_decline"):
            requester = names.requesters.get(a.get("change_id"), "The office")
            span = date_span(b.get("current_due_on"), a.get("requested_due_on") or a.get("current_due_on"))
            if action == "milestone.due_date_approve":
                reason = f": {_quote(a['decision_reason'])}" if a.get("decision_reason") else ""
                return f"{requester} moved the due date of {title} {span}; approved by {who}{reason}."
            return (
                f"{requester} asked to move the due date of {title} {span}; declined by {who}: "
                f"{_quote(a.get('decision_reason'))}."
            )
        changed = changes_text(b, a, labels)
        return (
            f"{who} changed the milestone {title}: {changed}."
            if changed
            else f"{who} saved the milestone {title} unchanged."
        )

    if action.startswith("line_of_effort."):
        title = _quote(a.get("title"))
        if action == "line_of_effort.create":
            return f"{who} added the line of effort {title}."
        if action == "line_of_effort.reorder":
            return f"{who} changed the order of the lines of effort."
        return f"{who} changed the line of effort {title}: {changes_text(b, a, labels) or 'no visible change'}."

    if action.startswith("evidence."):
        title = _quote(a.get("title") or names.evidence.get(oid, "an evidence item"))
        if action == "evidence.upload":
            return f"{who} uploaded the evidence {title} ({a.get('filename')})."
        if action == "evidence.version":
            return f"{who} uploaded version {a.get('version')} of the evidence {title} ({a.get('filename')})."
        if action == "evidence.review":
            return f"{who} judged the evidence {title} {value('review_status').lower()}: {_quote(a.get('comment'))}."
        if action == "evidence.withdraw":
            return f"{who} withdrew the evidence {title}: {_quote(a.get('withdrawal_reason') or a.get('reason'))}."
        if action == "evidence.verify":
            return f"{who} checked the stored evidence files."

    if action.startswith("metric."):
        if action in ("metric.create", "metric.update"):
            name = _quote(a.get("name") or names.metrics.get(oid, "a metric"))
            if action == "metric.create":
                return f"{who} defined the metric {name}."
            return f"{who} changed the metric {name}: {changes_text(b, a, labels) or 'no visible change'}."
        if action.startswith("metric.target_"):
            name = _quote(names.metrics.get(oid, "a metric"))
            if action == "metric.target_request":
                unit = names.units.get(oid, "")
                return (
                    f"{who} asked to change the target of {name} from {measured('target_value', unit, b)} to "
                    f"{measured('requested_target_value', unit)}: {_quote(a.get('justification'))}."
                )
            if action in ("metric.target_approve", "metric.target_decline"):
                verb = "approved" if action == "metric.target_approve" else "declined"
                reason = f": {_quote(a.get('decision_reason'))}" if a.get("decision_reason") else ""
                return f"{who} {verb} the change of target of {name}{reason}."
            return (
                f"{who} changed the target of {name}: {changes_text(b, a, labels) or 'no visible change'}: "
                f"{_quote(a.get('justification'))}."
            )
        if action in ("metric.reading.create", "metric.reading.correct"):
            metric = _quote(names.readings.get(oid, "a metric"))
            where = f"{a.get('component')}, {a.get('period')}"
            unit = names.reading_units.get(oid, "")
            if action == "metric.reading.create":
                return f"{who} entered {measured('value', unit)} for {where} on {metric}."
            note = f": {_quote(a.get('note'))}" if a.get("note") else ""
            return (
                f"{who} corrected {where} on {metric} from {measured('value', unit, b)} to "
                f"{measured('value', unit)}{note}."
            )
        if action.startswith("metric.flag."):
            metric = _quote(names.metrics.get(a.get("metric_id"), "a metric"))
            where = f"{a.get('component')}, {a.get('period')}"
            unit = names.units.get(a.get("metric_id"), "")
            what = (
                "a missing reading"
                if a.get("kind") == "missing"
                else f"{measured('value', unit)} against a target of {measured('target', unit)}"
            )
            verbs = {
                "metric.flag.raise": "A flag was raised",
                "metric.flag.reopen": "A flag was reopened",
                "metric.flag.update": "A flag was updated",
                "metric.flag.clear": "A flag was cleared",
            }
            if action == "metric.flag.answer":
                return f"{who} answered the flag on {metric} for {where}."
            return f"{verbs.get(action, 'A flag changed')} on {metric} for {where}: {what}."
        if action in ("metric.action.create", "metric.action.done"):
            flag = names.flags.get(a.get("flag_id"))
            on = f" on {_quote(flag[0])} for {flag[1]}, {flag[2]}" if flag else ""
            if action == "metric.action.done":
                return f"{who} marked the improvement action ({value('decision').lower()}){on} done."
            owner = names.users.get(a.get("owner_id"), "someone")
            return (
                f"{who} answered the flag{on} with “{value('decision')}”, owned by {owner}: {_quote(a.get('reason'))}."
            )

    if action == "demo.seed":
        return f"The {a.get('report', 'demo')} demonstration data was loaded."
    if action in ("access.denied", "access.conflict"):
        # What was tried and the answer given, so that two refusals read as two different things.
        tried = f"{a.get('method', '')} {a.get('path', '')}".strip()
        said = (
            _quote(a["reason"])
            if a.get("reason")
            else "not allowed for their role or office"
            if action == "access.denied"
            else "it conflicts with the current state"
        )
        return f"{who} was refused{f' ({tried})' if tried else ''}: {said}."
    if action.startswith("export."):
        return f"{who} downloaded a document ({action.split('.', 1)[1].replace('_', ' ')})."
    changed = changes_text(b, a, labels)
    return f"{who}: {action.replace('.', ' ').replace('_', ' ')}{': ' + changed if changed else ''}."


def names_for(events) -> Names:
    """Every name the sentences of ``events`` need, in at most seven queries."""
    ids: dict[str, set] = {k: set() for k in ("milestone", "evidence", "metric", "reading", "flag", "user", "change")}
    for e in events:
        a = e.after_data
        if e.action.startswith("milestone.") and e.object_id:
            ids["milestone"].add(e.object_id)
            if a.get("change_id"):
                ids["change"].add(a["change_id"])
        elif e.action.startswith("evidence.") and e.object_id:
            ids["evidence"].add(e.object_id)
        elif e.action.startswith("metric.reading.") and e.object_id:
            ids["reading"].add(e.object_id)
        elif e.action.startswith("metric.flag."):
            ids["metric"].add(a.get("metric_id"))
        elif e.action.startswith("metric.action."):
            ids["flag"].add(a.get("flag_id"))
            ids["user"].add(a.get("owner_id"))
        elif e.action.startswith("metric.") and e.object_id:
            ids["metric"].add(e.object_id)
    ids = {k: {i for i in v if isinstance(i, int)} for k, v in ids.items()}
    names = Names(labels=value_labels())
    if ids["milestone"]:
        names.milestones = dict(
            db.session.execute(sa.select(Milestone.id, Milestone.title).where(Milestone.id.in_(ids["milestone"]))).all()
        )
    if ids["evidence"]:
        names.evidence = dict(
            db.session.execute(
                sa.select(EvidenceItem.id, EvidenceItem.title).where(EvidenceItem.id.in_(ids["evidence"]))
            ).all()
        )
    if ids["metric"]:
        for i, name, unit in db.session.execute(
            sa.select(Metric.id, Metric.name, Metric.unit).where(Metric.id.in_(ids["metric"]))
        ):
            names.metrics[i], names.units[i] = name, unit
    if ids["reading"]:
        for i, name, unit in db.session.execute(
            sa.select(Reading.id, Metric.name, Metric.unit).join(Reading.metric).where(Reading.id.in_(ids["reading"]))
        ):
            names.readings[i], names.reading_units[i] = name, unit
    if ids["flag"]:
        names.flags = {
            i: (n, c, p)
            for i, n, c, p in db.session.execute(
                sa.select(Flag.id, Metric.name, Flag.component, Flag.period)
                .join(Flag.metric)
                .where(Flag.id.in_(ids["flag"]))
            )
        }
    if ids["user"]:
        names.users = dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids["user"]))).all())
    if ids["change"]:
        names.requesters = dict(
            db.session.execute(
                sa.select(DueDateChange.id, User.name)
                .join(User, User.id == DueDateChange.requested_by_id)
                .where(DueDateChange.id.in_(ids["change"]))
            ).all()
        )
    return names


def described(events) -> list[tuple[object, str]]:
    """(event, sentence) for each event, names read once for all."""
    names = names_for(events)
    return [(e, sentence(e, names)) for e in events]
