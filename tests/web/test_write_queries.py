"""Issue 20: a milestone update is a write of fixed cost (bench/README.md, "Audited writes").

The POST that goes through sends the same statements whatever the milestone's history (its updates,
due-date changes, dependants), reads none of it, and renders no page: it redirects. A refused one shows the page again,
its latest history included (a page of it), with a fixed number of queries too.
"""

from flask import template_rendered

from app.milestones.models import DueDateChange, MilestoneUpdate
from tests.factories import days
from tests.querycount import count_queries

#: The signed-in user; the milestone with its line, recommendation, owner, office and dependencies (one
#: statement; the dependencies were a second one until 2026-12-02); UPDATE of the milestone; INSERT of the
#: update; the audit chain's lock; the chain's head; INSERT of the event.
WRITE_BUDGET = 7


def _update(client, milestone_id: int, version: int, percent: int, note: str):
    return client.post_form(
        f"/milestones/{milestone_id}",
        {
            "action": "update",
            "noted_on": days(0).isoformat(),
            "status": "in_progress",
            "percent_complete": percent,
            "note": note,
            "version": version,
        },
    )


def _measure(app, client, milestone_id: int, version: int, percent: int) -> tuple[list[str], list[str], object]:
    rendered: list[str] = []

    def record(sender, template, context, **extra):
        rendered.append(template.name)

    template_rendered.connect(record, app)
    try:
        with count_queries(app) as counter:
            response = _update(client, milestone_id, version, percent, f"At {percent}")
    finally:
        template_rendered.disconnect(record, app)
    return counter.statements, rendered, response


def _add_history(db, milestone, author, dependency, count: int) -> None:
    db.session.add_all(
        MilestoneUpdate(
            milestone_id=milestone.id,
            author_id=author.id,
            noted_on=days(-i),
            note=f"Earlier update {i}",
            status="in_progress",
            percent_complete=i % 100,
        )
        for i in range(count)
    )
    db.session.add_all(
        DueDateChange(
            milestone_id=milestone.id,
            old_due_on=days(20),
            new_due_on=days(20 + i),
            justification=f"Reason {i}",
            requested_by_id=author.id,
            status="applied",
            baseline_moved=True,
        )
        for i in range(1, count // 10 + 1)
    )
    milestone.required_by.append(dependency)
    db.session.commit()


def test_a_milestone_update_sends_the_same_queries_whatever_its_history(app, client, login_as, make, db):
    rec = make.recommendation()
    line = make.line(rec)
    milestone = make.milestone(line, due=days(20))
    first = make.milestone(line, title="Agree on the fields", due=days(10))
    milestone.depends_on.append(first)
    later = make.milestone(line, title="Publish the standard", due=days(40))
    user = login_as("action_office")
    milestone_id, version = milestone.id, milestone.version
    assert _update(client, milestone_id, version, 5, "Started").status_code == 302  # warm
    version += 1

    small, rendered, response = _measure(app, client, milestone_id, version, 10)
    assert response.status_code == 302 and rendered == []
    version += 1

    _add_history(db, db.session.get(type(milestone), milestone_id), user, later, 60)
    large, rendered, response = _measure(app, client, milestone_id, version, 20)
    assert response.status_code == 302 and rendered == []
    assert len(small) == len(large) == WRITE_BUDGET, (small, large)
    # Nothing of the history is read to answer a save that redirects.
    assert not [s for s in large if "FROM milestone_updates" in s or "FROM due_date_changes" in s], large


def test_a_refused_milestone_update_shows_the_history_with_a_fixed_number_of_queries(app, client, login_as, make, db):
    rec = make.recommendation()
    line = make.line(rec)
    milestone = make.milestone(line, due=days(20))
    later = make.milestone(line, title="Publish the standard", due=days(40))
    user = login_as("action_office")
    milestone_id, version = milestone.id, milestone.version
    assert _update(client, milestone_id, version, 5, "Started").status_code == 302
    version += 1

    counts = []
    for size in (1, 60):
        if size > 1:
            _add_history(db, db.session.get(type(milestone), milestone_id), user, later, size)
        with count_queries(app) as counter:
            response = _update(client, milestone_id, version, 150, "Too far")
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Started" in page and "Too far" in page  # the history, and the entries kept
        if size > 1:
            # The latest page of updates (newest first, ten a page), every date change, the dependants.
            assert "Earlier update 8<" in page and "Earlier update 59<" not in page
            assert "Reason 6" in page and "Publish the standard" in page
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
