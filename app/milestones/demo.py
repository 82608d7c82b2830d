"""Demo history for the OIG-15-85 plan: dependencies, status updates and one early date change.

Called once, when the demo recommendation is created, so loading twice changes nothing.
"""

from datetime import date, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.milestones.models import DueDateChange, Milestone, MilestoneUpdate
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


def seed_milestone_history(recommendation_id: int, owner, on: date) -> None:
    milestones = db.session.scalars(
        sa.select(Milestone).join(Milestone.line_of_effort).where(LineOfEffort.recommendation_id == recommendation_id)
    ).all()

    def find(prefix: str) -> Milestone:
        return next(m for m in milestones if m.title.startswith(prefix))

    for title, depends_on in DEPENDENCIES:
        find(title).depends_on = [find(d) for d in depends_on]
    for title, offset, status, percent, note in UPDATES:
        db.session.add(
            MilestoneUpdate(
                milestone=find(title),
                author_id=owner.id,
                noted_on=on + timedelta(days=offset),
                note=note,
                status=status,
                percent_complete=percent,
            )
        )
    # Before OIG accepted the plan, the identifier work was given five more days (baseline moved with it).
    identifier = find("Add a unique person identifier")
    db.session.add(
        DueDateChange(
            milestone=identifier,
            old_due_on=identifier.current_due_on - timedelta(days=5),
            new_due_on=identifier.current_due_on,
            baseline_moved=True,
            status="applied",
            requested_by_id=owner.id,
            requested_at=utcnow() - timedelta(days=6),
            justification="USCIS asked for time to test matching on A-numbers before the design is fixed.",
        )
    )
    db.session.flush()
