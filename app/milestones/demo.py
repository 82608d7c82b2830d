"""Demo history for the OIG-15-85 plan: dependencies, status updates and one early date change, each
recorded in the audit trail as the services record it.

Called once, when the demo recommendation is created, so loading twice changes nothing.
"""

from datetime import date, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.milestones.date_changes import DUE_DATES
from app.milestones.models import DueDateChange, Milestone
from app.milestones.services import complete, post_update, record
from app.recommendations.models import LineOfEffort
from app.timeutil import utcnow

#: (milestone, the milestones it depends on), by the start of their titles.
DEPENDENCIES = [
    ("Define required fields", ["Issue a Department-wide data standard"]),
    ("Deputy Secretary approves", ["Publish data governance policy"]),
    ("Begin monthly data submissions", ["Define required fields", "Add a unique person identifier"]),
    ("Run a sample-based accuracy review", ["Begin monthly data submissions"]),
    (
        "Publish the first quarterly",
        ["Design the prosecutorial discretion dashboard", "Begin monthly data submissions"],
    ),
]

#: (milestone, days from today, status, percent, note), oldest first.
UPDATES = [
    (
        "Charter the Prosecutorial",
        -52,
        "completed",
        100,
        "Charter signed by the Assistant Secretary for Policy; ICE, CBP, USCIS and OIS named members.",
    ),
    ("Inventory component systems", -45, "in_progress", 50, "EARM and e3 documented; CLAIMS interviews scheduled."),
    (
        "Inventory component systems",
        -33,
        "completed",
        100,
        "Inventory complete: 7 systems, 3 record discretion decisions.",
    ),
    ("Issue a Department-wide data standard", -12, "completed", 100, "Data standard 1.0 published on the intranet."),
    (
        "Define required fields",
        -30,
        "in_progress",
        40,
        "First draft of the field dictionary circulated to the working group.",
    ),
    (
        "Define required fields",
        -14,
        "in_progress",
        70,
        "ICE and CBP agreed the release-reason codes; USCIS comments pending on DACA referral fields.",
    ),
    (
        "Deputy Secretary approves",
        -10,
        "in_progress",
        20,
        "Strategy sent to the Deputy Secretary's office with the governance policy draft; briefing requested.",
    ),
    (
        "Publish data governance policy",
        -8,
        "in_progress",
        60,
        "Policy memorandum in clearance with the Office of General Counsel.",
    ),
    (
        "Add a unique person identifier",
        -4,
        "in_progress",
        15,
        "Design note drafted; de-duplication test planned on FY2014 ICE release records (12,757 recorded).",
    ),
    (
        "Design the prosecutorial discretion dashboard",
        -3,
        "in_progress",
        40,
        "Report template mock-up reviewed by leadership.",
    ),
]


#: Before OIG accepted the plan, the identifier work was given five more days (the baseline moved
#: with it): (milestone, days moved, days from today it was asked, justification).
EARLY_DATE_CHANGE = (
    "Add a unique person identifier",
    5,
    -6,
    "USCIS asked for time to test matching on A-numbers before the design is fixed.",
)


def seed_milestone_history(recommendation_id: int, owner, on: date) -> None:
    """The plan's milestones, made as they first stood (not started, the identifier's date as first
    planned), are played forward through the services people use: each is added, then its updates,
    completions and the early date change follow in the order of their days, so that every one is
    in the audit trail (the milestone's History) exactly as if the office had entered it."""
    milestones = db.session.scalars(
        sa.select(Milestone)
        .join(Milestone.line_of_effort)
        .where(LineOfEffort.recommendation_id == recommendation_id)
        .order_by(Milestone.id)
    ).all()

    def find(prefix: str) -> Milestone:
        return next(m for m in milestones if m.title.startswith(prefix))

    for title, depends_on in DEPENDENCIES:
        find(title).depends_on = [find(d) for d in depends_on]
    for milestone in milestones:
        record("milestone.create", milestone, None, actor=owner)

    def update(title: str, offset: int, status: str, percent: int, note: str):
        def play() -> None:
            milestone, noted_on = find(title), on + timedelta(days=offset)
            if status == "completed":
                complete(milestone, completed_on=noted_on, note=note, actor=owner)
            else:
                post_update(milestone, noted_on=noted_on, note=note, status=status, percent=percent, actor=owner)

        return offset, play

    def early_date_change():
        title, days, offset, justification = EARLY_DATE_CHANGE

        def play() -> None:
            milestone = find(title)
            change = DueDateChange(
                milestone=milestone,
                old_due_on=milestone.current_due_on,
                new_due_on=milestone.current_due_on + timedelta(days=days),
                justification=justification,
                baseline_moved=True,
                requested_at=utcnow() + timedelta(days=offset),
            )
            DUE_DATES.request(change, needs_approval=False, actor=owner)

        return offset, play

    events = [update(*u) for u in UPDATES] + [early_date_change()]
    for _, play in sorted(events, key=lambda e: e[0]):
        play()
    db.session.flush()
