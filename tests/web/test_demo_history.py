"""The demo plan's milestones carry their history in the audit trail: each was added, updated,
completed and (the identifier) given more time through the services people use, so the milestone
page's History and the recommendation's history tell what the status updates and the date-change
table show, and the chain verifies."""

from datetime import timedelta

import sqlalchemy as sa

from app.audit import AuditEvent, verify_chain
from app.demo import MILESTONES
from app.milestones.demo import EARLY_DATE_CHANGE, UPDATES
from app.milestones.models import DueDateChange, Milestone, MilestoneUpdate
from app.timeutil import today


def _milestone(db, prefix: str) -> Milestone:
    return db.session.scalar(sa.select(Milestone).where(Milestone.title.startswith(prefix)))


def test_the_demo_history_leaves_each_milestone_where_the_plan_shows_it(db, demo):
    on = today()
    for m in MILESTONES:
        milestone = _milestone(db, m.title)
        assert (milestone.status, milestone.percent_complete) == (m.status, m.percent), m.title
        assert milestone.completed_on == (on + timedelta(days=m.completed) if m.completed is not None else None)
        assert milestone.current_due_on == on + timedelta(days=m.due), m.title
    # Every milestone that moved on from "not started" says why in an update.
    for m in MILESTONES:
        if m.status != "not_started":
            assert any(m.title.startswith(title) for title, *_ in UPDATES), m.title


def test_every_demo_change_is_in_the_audit_trail(db, demo):
    def count(action: str) -> int:
        return db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == action))

    completions = sum(1 for _, _, status, _, _ in UPDATES if status == "completed")
    assert count("milestone.create") == len(MILESTONES)
    assert count("milestone.complete") == completions
    assert count("milestone.status_update") == len(UPDATES) - completions
    assert count("milestone.due_date_change") == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MilestoneUpdate)) == len(UPDATES)
    assert verify_chain() is None


def test_the_identifier_milestone_page_tells_its_history(client, db, demo, login_as):
    title, days, _, justification = EARLY_DATE_CHANGE
    milestone = _milestone(db, title)
    change = db.session.scalar(sa.select(DueDateChange).where(DueDateChange.milestone_id == milestone.id))
    assert (change.status, change.baseline_moved) == ("applied", True)
    assert change.new_due_on - change.old_due_on == timedelta(days=days)
    assert milestone.baseline_due_on == milestone.current_due_on == change.new_due_on

    login_as("oig_reviewer")
    page = client.get(f"/milestones/{milestone.id}").get_data(as_text=True)
    history = page[page.index('id="history-heading"') :]
    history = history[: history.index("</section>")]
    # Newest first: the update, the date change with its reason, the milestone as first planned.
    assert history.index("Update posted") < history.index("Due date changed") < history.index("Created")
    assert justification in history and "Design note drafted" in history
    assert "Not started → In progress" in history
