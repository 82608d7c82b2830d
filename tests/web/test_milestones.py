"""The action office runs its plan: lines of effort, milestones, updates, due-date changes."""

import re

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.milestones.models import DueDateChange, Milestone, MilestoneUpdate
from app.milestones.dependencies import find_cycle
from app.recommendations.models import LineOfEffort
from tests.factories import days

_VERSION_RE = re.compile(r'name="version" type="hidden" value="(\d+)"')


def form_version(client, url: str) -> str:
    match = _VERSION_RE.search(client.get(url).get_data(as_text=True))
    assert match, f"no version field on {url}"
    return match.group(1)


def milestone_form(m, **changes) -> dict:
    data = {
        "title": m.title,
        "description": m.description,
        "owner_id": m.owner_id or 0,
        "office_id": m.office_id,
        "start_on": m.start_on.isoformat() if m.start_on else "",
        "expected_evidence": m.expected_evidence,
        "version": m.version,
    }
    data.update(changes)
    return data


def events(db, action: str) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


@pytest.fixture
def plan(make, db):
    """A recommendation of office DHS-PLCY with one line and one milestone, not yet accepted."""
    rec = make.recommendation()
    line = make.line(rec, title="Data collection")
    milestone = make.milestone(line, title="Define required fields", start_on=days(-10), due=days(20))
    db.session.commit()
    return rec, line, milestone


def reload(db, obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


# --- lines of effort ------------------------------------------------------------


def test_action_office_adds_edits_and_reorders_lines_of_effort(client, login_as, make, db, plan):
    rec, line, _ = plan
    login_as("action_office")
    url = f"/recommendations/{rec.id}/lines/new"
    form = client.get(url).get_data(as_text=True)
    for value, label in (
        ("governance", "Governance and standardization"),
        ("data_collection", "Data collection"),
        ("data_reporting", "Data reporting"),
        ("other", "Other"),
    ):
        assert f'<option value="{value}"' in form and label in form
    response = client.post_form(
        url,
        {
            "title": "Data quality",
            "kind": "data_collection",
            "objective": "Measured completeness",
            "description": "",
            "lead_owner_id": 0,
        },
        token_from=url,
    )
    assert response.status_code == 302
    added = db.session.scalar(sa.select(LineOfEffort).where(LineOfEffort.title == "Data quality"))
    assert added.position == 2 and added.kind == "data_collection"

    url = f"/lines/{added.id}/edit"
    assert '<option value="data_collection" selected>' in client.get(url).get_data(as_text=True)
    response = client.post_form(
        url,
        {
            "title": "Data quality and accuracy",
            "kind": "data_reporting",
            "objective": "x",
            "description": "",
            "lead_owner_id": 0,
            "version": 1,
        },
        token_from=url,
    )
    assert response.status_code == 302
    assert reload(db, added).title == "Data quality and accuracy" and reload(db, added).kind == "data_reporting"
    update = events(db, "line_of_effort.update")[0]
    assert update.before_data["kind"] == "data_collection" and update.after_data["kind"] == "data_reporting"

    response = client.post_form(f"/lines/{added.id}/move/up", token_from=f"/recommendations/{rec.id}")
    assert response.status_code == 302
    assert [(loe.id, loe.position) for loe in reload(db, rec).lines_of_effort] == [(added.id, 1), (line.id, 2)]
    page = client.get(f"/recommendations/{rec.id}").get_data(as_text=True)
    assert page.index("Data quality and accuracy") < page.index("Data collection")
    assert [
        len(events(db, a)) for a in ("line_of_effort.create", "line_of_effort.update", "line_of_effort.reorder")
    ] == [1, 1, 1]


def test_a_line_kind_outside_the_list_is_refused_next_to_the_field(client, login_as, db, plan):
    rec, line, _ = plan
    login_as("action_office")
    url = f"/recommendations/{rec.id}/lines/new"
    response = client.post_form(url, {"title": "Anything", "kind": "priority", "lead_owner_id": 0}, token_from=url)
    assert response.status_code == 400
    assert 'id="kind-error"' in response.get_data(as_text=True)
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(LineOfEffort).where(LineOfEffort.title == "Anything"))
        == 0
    )


def test_a_line_title_too_long_is_refused_next_to_the_field(client, login_as, db, plan):
    rec, line, _ = plan
    login_as("action_office")
    url = f"/lines/{line.id}/edit"
    response = client.post_form(url, {"title": "x" * 5000, "lead_owner_id": 0}, token_from=url)
    assert response.status_code == 400
    assert 'id="title-error"' in response.get_data(as_text=True)
    assert reload(db, line).title == "Data collection"


# --- milestones: create, validate ---------------------------------------------


def new_milestone_data(**changes):
    data = {
        "title": "Publish the data dictionary",
        "description": "",
        "owner_id": 0,
        "office_id": 0,
        "start_on": days(0).isoformat(),
        "due_on": days(30).isoformat(),
        "expected_evidence": "The dictionary",
    }
    data.update(changes)
    return data


def test_action_office_adds_a_milestone_with_baseline_and_dependencies(client, login_as, db, plan):
    rec, line, first = plan
    user = login_as("action_office")
    url = f"/lines/{line.id}/milestones/new"
    data = new_milestone_data(owner_id=user.id, office_id=rec.action_office_id, depends_on=[first.id])
    response = client.post_form(url, data, token_from=url)
    assert response.status_code == 302
    added = db.session.scalar(sa.select(Milestone).where(Milestone.title == "Publish the data dictionary"))
    assert added.baseline_due_on == added.current_due_on == days(30)
    assert added.owner_id == user.id and [d.id for d in added.depends_on] == [first.id]
    assert response.headers["Location"] == f"/milestones/{added.id}"
    (event,) = events(db, "milestone.create")
    assert event.actor_id == user.id and event.after_data["title"] == "Publish the data dictionary"


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"due_on": days(-5).isoformat()}, "due_on", "cannot be before the start date"),
        ({"title": "t" * 5000}, "title", "Field cannot be longer than 300 characters"),
        ({"title": ""}, "title", "This field is required"),
        ({"due_on": "not a date"}, "due_on", "Not a valid date"),
        ({"office_id": "999999"}, "office_id", "Not a valid choice"),
    ],
)
def test_bad_milestone_input_is_answered_next_to_the_field(client, login_as, db, plan, changes, field, message):
    rec, line, _ = plan
    login_as("action_office")
    url = f"/lines/{line.id}/milestones/new"
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Milestone))
    data = new_milestone_data(office_id=rec.action_office_id)
    data.update(changes)
    response = client.post_form(url, data, token_from=url)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    error = page.split(f'id="{field}-error"')[1].split("</span>")[0]
    assert message in error
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Milestone)) == before


def test_a_dependency_cycle_is_refused_and_nothing_changes(client, login_as, make, db, plan):
    rec, line, a = plan
    b = make.milestone(line, title="B")
    c = make.milestone(line, title="C")
    b.depends_on = [a]
    c.depends_on = [b]
    db.session.commit()
    login_as("action_office")
    url = f"/milestones/{a.id}/edit"
    response = client.post_form(url, milestone_form(a, depends_on=[c.id]), token_from=url)
    assert response.status_code == 400
    error = response.get_data(as_text=True).split('id="depends_on-error"')[1].split("</span>")[0]
    assert "cycle" in error and "Define required fields → C → B → Define required fields" in error
    assert reload(db, a).depends_on == [] and reload(db, a).version == a.version


def test_find_cycle_follows_the_graph():
    assert find_cycle(1, {2}, {2: {3}, 3: {1}}) == [1, 2, 3, 1]
    assert find_cycle(1, {2}, {2: {3}}) is None
    assert find_cycle(1, {1}, {}) == [1, 1]
    assert find_cycle(None, {1, 2}, {1: {2}}) is None


def test_a_start_after_the_due_date_is_refused_on_edit(client, login_as, db, plan):
    _, _, m = plan
    login_as("action_office")
    url = f"/milestones/{m.id}/edit"
    response = client.post_form(url, milestone_form(m, start_on=days(40).isoformat()), token_from=url)
    assert response.status_code == 400
    assert "must be on or before the due date" in response.get_data(as_text=True).split('id="start_on-error"')[1]
    assert reload(db, m).start_on == days(-10)


# --- edit conflicts ---------------------------------------------------------------


def test_the_second_of_two_edits_from_the_same_version_is_refused(client, login_as, db, plan):
    _, _, m = plan
    login_as("action_office")
    url = f"/milestones/{m.id}/edit"
    first_version = form_version(client, url)
    second_version = form_version(client, url)
    assert first_version == second_version == str(m.version)

    first = client.post_form(
        url, milestone_form(m, title="Define the required fields (v2)", version=first_version), token_from=url
    )
    assert first.status_code == 302
    second = client.post_form(
        url,
        milestone_form(m, title="Someone else's title", expected_evidence="Overwritten?", version=second_version),
        token_from=url,
    )
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "someone changed this milestone after you opened it" in page
    assert "Define required fields" in page and "Define the required fields (v2)" in page  # was -> now
    assert "Someone else&#39;s title" in page  # the refused entries are kept in the form
    saved = reload(db, m)
    assert saved.title == "Define the required fields (v2)"
    assert saved.expected_evidence == ""
    assert len(events(db, "milestone.update")) == 1


def test_a_stale_status_update_is_refused_too(client, login_as, db, plan):
    _, _, m = plan
    login_as("action_office")
    stale = form_version(client, f"/milestones/{m.id}")
    data = {"noted_on": days(0).isoformat(), "status": "in_progress", "percent_complete": 30, "note": "Started"}
    assert client.post_form(f"/milestones/{m.id}", {"action": "update"} | dict(data, version=stale)).status_code == 302
    response = client.post_form(
        f"/milestones/{m.id}", {"action": "update"} | dict(data, percent_complete=10, note="Older view", version=stale)
    )
    assert response.status_code == 409
    assert "Percent complete" in response.get_data(as_text=True)
    assert reload(db, m).percent_complete == 30
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MilestoneUpdate)) == 1


# --- permissions ------------------------------------------------------------------


def _attempts(m, line):
    edit = milestone_form(m, title="Hijacked")
    return [
        (f"/milestones/{m.id}/edit", edit),
        (
            f"/milestones/{m.id}",
            {"action": "update"}
            | {
                "noted_on": days(0).isoformat(),
                "status": "in_progress",
                "percent_complete": 50,
                "note": "x",
                "version": m.version,
            },
        ),
        (
            f"/milestones/{m.id}",
            {"action": "complete"} | {"completed_on": days(0).isoformat(), "note": "x", "version": m.version},
        ),
        (f"/milestones/{m.id}", {"action": "cancel"} | {"note": "x", "version": m.version}),
        (
            f"/milestones/{m.id}",
            {"action": "due_date"} | {"new_due_on": days(60).isoformat(), "justification": "x", "version": m.version},
        ),
        (f"/lines/{line.id}/milestones/new", new_milestone_data(office_id=m.office_id)),
        (f"/lines/{line.id}/edit", {"title": "Hijacked", "lead_owner_id": 0}),
        (f"/lines/{line.id}/move/down", {}),
    ]


@pytest.mark.parametrize("who", ["oig_reviewer", "other_office", "manager"])
def test_readers_and_other_offices_cannot_edit_a_milestone(client, login_as, make, db, plan, who):
    rec, line, m = plan
    if who == "other_office":
        login_as("action_office", office=make.office("ICE"))
    else:
        login_as(who)
    before = (m.title, m.status, m.percent_complete, m.current_due_on, m.version)
    counts = [
        db.session.scalar(sa.select(sa.func.count()).select_from(t))
        for t in (Milestone, MilestoneUpdate, DueDateChange, LineOfEffort)
    ]
    for url, data in _attempts(m, line):
        response = client.post_form(url, data)
        assert response.status_code == 403, url
    saved = reload(db, m)
    assert (saved.title, saved.status, saved.percent_complete, saved.current_due_on, saved.version) == before
    assert reload(db, line).title == "Data collection"
    assert [
        db.session.scalar(sa.select(sa.func.count()).select_from(t))
        for t in (Milestone, MilestoneUpdate, DueDateChange, LineOfEffort)
    ] == counts
    page = client.get(f"/milestones/{m.id}")
    if who == "other_office":
        assert page.status_code == 403
    else:
        assert page.status_code == 200
        assert "Post an update" not in page.get_data(as_text=True)


def test_a_closed_recommendation_plan_is_read_only(client, login_as, db, plan):
    rec, line, m = plan
    rec.status = "resolved_closed"
    db.session.commit()
    login_as("action_office")
    for url, data in _attempts(m, line):
        assert client.post_form(url, data).status_code == 403, url
    assert reload(db, m).title == "Define required fields"
    page = client.get(f"/milestones/{m.id}").get_data(as_text=True)
    assert "Post an update" not in page and "Edit milestone" not in page


def test_plan_controls_show_only_to_those_who_may_edit(client, login_as, plan):
    rec, _, _ = plan
    login_as("oig_reviewer")
    page = client.get(f"/recommendations/{rec.id}").get_data(as_text=True)
    assert "Add milestone" not in page and "Edit line" not in page and "Timeline of the plan" in page
    client.post_form("/sign-out")
    login_as("action_office")
    page = client.get(f"/recommendations/{rec.id}").get_data(as_text=True)
    assert "Add milestone" in page and "Edit line" in page and "Add line of effort" in page


# --- updates and completion -------------------------------------------------------


def test_updates_are_listed_newest_first(client, login_as, db, plan):
    _, _, m = plan
    login_as("action_office")
    for noted, note, percent in ((-3, "Kick-off held", 10), (-1, "Draft fields circulated", 40)):
        response = client.post_form(
            f"/milestones/{m.id}",
            {"action": "update"}
            | {
                "noted_on": days(noted).isoformat(),
                "status": "in_progress",
                "percent_complete": percent,
                "note": note,
                "version": reload(db, m).version,
            },
        )
        assert response.status_code == 302
    saved = reload(db, m)
    assert (saved.status, saved.percent_complete) == ("in_progress", 40)
    page = client.get(f"/milestones/{m.id}").get_data(as_text=True)
    updates = page.split('id="updates-heading"')[1]
    assert updates.index("Draft fields circulated") < updates.index("Kick-off held")
    assert len(events(db, "milestone.status_update")) == 2


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"percent_complete": 130}, "update-percent_complete"),
        ({"percent_complete": -1}, "update-percent_complete"),
        ({"percent_complete": "lots"}, "update-percent_complete"),
        ({"note": ""}, "update-note"),
        ({"noted_on": days(3).isoformat()}, "update-noted_on"),
        ({"status": "completed"}, "update-status"),
    ],
)
def test_a_bad_update_changes_nothing(client, login_as, db, plan, changes, field):
    _, _, m = plan
    login_as("action_office")
    data = {
        "noted_on": days(0).isoformat(),
        "status": "in_progress",
        "percent_complete": 50,
        "note": "Progress",
        "version": m.version,
    }
    response = client.post_form(f"/milestones/{m.id}", {"action": "update"} | dict(data, **changes))
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    saved = reload(db, m)
    assert (saved.status, saved.percent_complete, saved.version) == ("not_started", 0, m.version)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MilestoneUpdate)) == 0


def test_completion_waits_for_dependencies(client, login_as, make, db, plan):
    _, line, first = plan
    second = make.milestone(line, title="Build on the fields")
    second.depends_on = [first]
    db.session.commit()
    login_as("action_office")
    data = {"completed_on": days(0).isoformat(), "note": "Done", "version": second.version}
    assert client.post_form(f"/milestones/{second.id}", {"action": "complete"} | data).status_code == 409
    assert reload(db, second).status == "not_started"

    done = client.post_form(
        f"/milestones/{first.id}",
        {"action": "complete"}
        | {"completed_on": days(-1).isoformat(), "note": "Fields approved", "version": first.version},
    )
    assert done.status_code == 302
    assert client.post_form(f"/milestones/{second.id}", {"action": "complete"} | data).status_code == 302
    saved = reload(db, second)
    assert (saved.status, saved.percent_complete, saved.completed_on) == ("completed", 100, days(0))
    assert saved.updates[0].note == "Done" and saved.updates[0].status == "completed"
    # A closed milestone takes no further updates.
    response = client.post_form(
        f"/milestones/{second.id}",
        {"action": "update"}
        | {
            "noted_on": days(0).isoformat(),
            "status": "in_progress",
            "percent_complete": 50,
            "note": "x",
            "version": saved.version,
        },
    )
    assert response.status_code == 409


def test_completion_needs_a_date_and_a_note(client, login_as, db, plan):
    _, _, m = plan
    login_as("action_office")
    response = client.post_form(
        f"/milestones/{m.id}", {"action": "complete"} | {"completed_on": "", "note": "", "version": m.version}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="complete-completed_on-error"' in page and 'id="complete-note-error"' in page
    assert reload(db, m).status == "not_started"


def test_cancel_with_a_reason(client, login_as, db, plan):
    _, _, m = plan
    login_as("action_office")
    response = client.post_form(
        f"/milestones/{m.id}", {"action": "cancel"} | {"note": "Superseded by the new standard", "version": m.version}
    )
    assert response.status_code == 302
    assert reload(db, m).status == "cancelled"
    assert len(events(db, "milestone.cancel")) == 1


# --- due-date changes -------------------------------------------------------------


def test_before_acceptance_the_dates_move_at_once_with_a_reason(client, login_as, db, plan):
    _, _, m = plan
    login_as("action_office")
    response = client.post_form(
        f"/milestones/{m.id}",
        {"action": "due_date"}
        | {"new_due_on": days(35).isoformat(), "justification": "Components asked for more time", "version": m.version},
    )
    assert response.status_code == 302
    saved = reload(db, m)
    assert saved.current_due_on == saved.baseline_due_on == days(35)
    (change,) = saved.date_changes
    assert (change.status, change.old_due_on, change.new_due_on, change.baseline_moved) == (
        "applied",
        days(20),
        days(35),
        True,
    )
    page = client.get(f"/milestones/{m.id}").get_data(as_text=True)
    assert "Components asked for more time" in page and "Applied (plan not yet accepted)" in page


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"justification": ""}, "due-justification"),
        ({"new_due_on": days(-20).isoformat()}, "due-new_due_on"),
        ({"new_due_on": ""}, "due-new_due_on"),
    ],
)
def test_a_due_date_change_without_justification_or_before_the_start_is_refused(
    client, login_as, db, plan, changes, field
):
    _, _, m = plan
    login_as("action_office")
    data = dict({"new_due_on": days(35).isoformat(), "justification": "Reason", "version": m.version}, **changes)
    response = client.post_form(f"/milestones/{m.id}", {"action": "due_date"} | data)
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert reload(db, m).current_due_on == days(20)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DueDateChange)) == 0


def test_after_acceptance_a_manager_approves_and_the_baseline_stays(client, login_as, make, db, plan):
    rec, _, m = plan
    rec.status = "resolved_open"
    rec.management_decision_on = days(-1)
    db.session.commit()
    staff = login_as("action_office")
    response = client.post_form(
        f"/milestones/{m.id}",
        {"action": "due_date"}
        | {"new_due_on": days(50).isoformat(), "justification": "ICE system outage", "version": m.version},
    )
    assert response.status_code == 302
    saved = reload(db, m)
    assert saved.current_due_on == days(20) and saved.baseline_due_on == days(20)
    (change,) = saved.date_changes
    assert change.status == "pending" and change.requested_by_id == staff.id
    # Only one request at a time.
    again = client.post_form(
        f"/milestones/{m.id}",
        {"action": "due_date"}
        | {"new_due_on": days(60).isoformat(), "justification": "More", "version": saved.version},
    )
    assert again.status_code == 409
    # The requester cannot decide; a manager of another office cannot either.
    assert (
        client.post_form(
            f"/milestones/{m.id}", {"action": "decide", "change_id": change.id, "reason": "ok", "approve": "Approve"}
        ).status_code
        == 403
    )
    client.post_form("/sign-out")
    login_as("manager", office=make.office("CBP"))
    assert (
        client.post_form(
            f"/milestones/{m.id}", {"action": "decide", "change_id": change.id, "reason": "ok", "approve": "Approve"}
        ).status_code
        == 403
    )
    client.post_form("/sign-out")
    manager = login_as("manager")
    missing = client.post_form(
        f"/milestones/{m.id}", {"action": "decide", "change_id": change.id, "reason": "", "approve": "Approve"}
    )
    assert missing.status_code == 400 and 'id="decision-reason-error"' in missing.get_data(as_text=True)
    assert reload(db, change).status == "pending"

    approved = client.post_form(
        f"/milestones/{m.id}",
        {"action": "decide", "change_id": change.id, "reason": "Outage is documented", "approve": "Approve"},
    )
    assert approved.status_code == 302
    saved = reload(db, m)
    assert saved.current_due_on == days(50) and saved.baseline_due_on == days(20)
    change = reload(db, change)
    assert (change.status, change.decided_by_id, change.decision_reason) == (
        "approved",
        manager.id,
        "Outage is documented",
    )
    assert (
        client.post_form(
            f"/milestones/{m.id}", {"action": "decide", "change_id": change.id, "reason": "again", "approve": "Approve"}
        ).status_code
        == 403
    )
    page = client.get(f"/milestones/{m.id}").get_data(as_text=True)
    assert "30 days later than baseline" in page and "Outage is documented" in page
    assert len(events(db, "milestone.due_date_request")) == 1
    assert len(events(db, "milestone.due_date_approve")) == 1


def test_a_declined_request_leaves_the_date_and_stays_listed(client, login_as, make, db, plan):
    rec, _, m = plan
    rec.status = "resolved_open"
    db.session.commit()
    login_as("action_office")
    client.post_form(
        f"/milestones/{m.id}",
        {"action": "due_date"}
        | {"new_due_on": days(50).isoformat(), "justification": "Want more time", "version": m.version},
    )
    change = db.session.scalar(sa.select(DueDateChange))
    client.post_form("/sign-out")
    login_as("manager")
    page = client.get("/my-work").get_data(as_text=True)
    assert "Due-date changes awaiting your decision" in page and "1 due-date change of your office waits" in page
    assert 'href="/queue">Awaiting your approval</a>' in page and "Want more time" not in page
    assert "Want more time" in client.get("/queue").get_data(as_text=True)
    response = client.post_form(
        f"/milestones/{m.id}",
        {"action": "decide", "change_id": change.id, "reason": "Not justified by the facts", "decline": "Decline"},
    )
    assert response.status_code == 302
    assert reload(db, m).current_due_on == days(20)
    page = client.get(f"/milestones/{m.id}").get_data(as_text=True)
    assert "Declined" in page and "Not justified by the facts" in page and "Want more time" in page


# --- my work and the timeline -------------------------------------------------------


def test_my_work_lists_my_milestones_overdue_first_with_filters(client, login_as, make, db):
    user = make.user("action_office")
    other = make.user("action_office")
    rec = make.recommendation()
    gov, data = make.line(rec, title="Governance"), make.line(rec, title="Data")
    ice = make.office("ICE")
    make.milestone(gov, title="Later one", owner=user, due=days(40))
    make.milestone(data, title="Soon one", owner=user, due=days(5), office_id=ice.id)
    make.milestone(gov, title="Late one", owner=user, due=days(-3), status="in_progress")
    make.milestone(data, title="Done one", owner=user, due=days(-30), status="completed")
    make.milestone(gov, title="Not mine", owner=other, due=days(1))
    db.session.commit()
    login_as(user=user)
    page = client.get("/my-work").get_data(as_text=True)
    assert "Not mine" not in page
    # overdue first, then the other open ones by due date, completed last (issue 17)
    order = [page.index(t) for t in ("Late one", "Soon one", "Later one", "Done one")]
    assert order == sorted(order)
    assert f">{rec.report.number} Rec. {rec.number}: Governance</option>" in page  # lines named with their plan
    page = client.get(f"/my-work?line={data.id}").get_data(as_text=True)
    assert "Soon one" in page and "Done one" in page and "Later one" not in page
    page = client.get("/my-work?status=open").get_data(as_text=True)
    assert "Done one" not in page and "Late one" in page
    page = client.get(f"/my-work?office={ice.id}").get_data(as_text=True)
    assert "Soon one" in page and "Late one" not in page
    page = client.get("/my-work?status=completed").get_data(as_text=True)
    assert "Done one" in page and "Late one" not in page and "Soon one" not in page
    page = client.get(f"/my-work?line={gov.id}&status=open&office={rec.action_office_id}").get_data(as_text=True)
    assert "Late one" in page and "Later one" in page and "Done one" not in page and "Soon one" not in page
    assert client.get("/my-work?line=abc&status=bogus&office=").status_code == 200
    page = client.get(f"/my-work?office={ice.id}&status=completed").get_data(as_text=True)
    assert "No milestone of yours matches these filters" in page and "Clear filters" in page
    client.post_form("/sign-out")
    login_as(user=make.user("manager"))  # owns none, and is told why the list is empty
    page = client.get("/my-work").get_data(as_text=True)
    assert "You own no milestones" in page and "Clear filters" not in page


def _grow(make, lines, owner, n):
    for i in range(n):
        make.milestone(lines[i % len(lines)], owner=owner, due=days(i % 40 - 10))


def test_query_counts_do_not_grow_with_milestones(client, login_as, make, db, app):
    from tests.querycount import count_queries

    user = login_as("action_office")
    rec = make.recommendation()
    lines = [make.line(rec) for _ in range(3)]
    _grow(make, lines, user, 10)
    db.session.commit()
    urls = ("/my-work", f"/recommendations/{rec.id}", f"/recommendations/{rec.id}/timeline")
    small = {}
    for url in urls:
        with count_queries(app) as counter:
            assert client.get(url).status_code == 200
        small[url] = counter.count
    _grow(make, lines, user, 190)
    db.session.commit()
    for url in urls:
        with count_queries(app) as counter:
            response = client.get(url)
        assert response.status_code == 200
        assert counter.count == small[url], url
    assert response.get_data(as_text=True).count('scope="row"') == 200


def test_timeline_carries_its_data_as_json_and_as_a_table(client, login_as, make, db, plan):
    rec, line, m = plan
    late = make.milestone(line, title="Slipped </script> one", due=days(10))
    late.current_due_on = days(25)
    late.depends_on = [m]
    db.session.commit()
    login_as("oig_reviewer")
    page = client.get(f"/recommendations/{rec.id}/timeline").get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>", page)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs in scripts)
    assert "style=" not in page and "<style" not in page
    import json

    data = json.loads(page.split('id="timeline-data">')[1].split("</script>")[0])
    ids = {t["id"] for t in data}
    assert {f"m{m.id}", f"m{late.id}", f"b{late.id}"} <= ids
    assert next(t for t in data if t["id"] == f"m{late.id}")["dependencies"] == f"m{m.id}"
    table = page.split('id="table-heading"')[1]
    assert days(10).strftime("%b %-d, %Y") in table and days(25).strftime("%b %-d, %Y") in table
    assert '<th scope="col">Depends on</th>' in table
    late_row = table.split("Slipped &lt;/script&gt; one")[1].split("</tr>")[0]
    assert f'href="/milestones/{m.id}">{m.title}</a>' in late_row
    first_row = table.split(f'href="/milestones/{m.id}">{m.title}</a></th>')[1].split("</tr>")[0]
    assert first_row.rstrip().endswith('<td class="app-cell-short" data-label="Depends on">None</td>')


def test_the_milestone_page_has_no_inline_script_or_style(client, login_as, plan):
    _, _, m = plan
    login_as("action_office")
    page = client.get(f"/milestones/{m.id}").get_data(as_text=True)
    assert "<script>" not in page and "style=" not in page and "<style" not in page


def test_the_milestone_page_forms_post_to_the_page_and_come_back_in_place_with_a_summary(client, login_as, db, plan):
    _, _, m = plan
    login_as("action_office")
    page = client.get(f"/milestones/{m.id}").get_data(as_text=True)
    assert f'action="/milestones/{m.id}"' in page and "/updates" not in page
    response = client.post_form(
        f"/milestones/{m.id}",
        {
            "action": "update",
            "noted_on": days(0).isoformat(),
            "status": "in_progress",
            "percent_complete": "150",
            "note": "Most fields agreed",
            "version": m.version,
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "app-error-summary" in body and 'href="#update-percent_complete"' in body
    assert 'id="update-percent_complete-error"' in body and "Most fields agreed" in body
    assert client.post_form(f"/milestones/{m.id}", {"action": "nonsense"}).status_code == 400


def test_the_old_post_addresses_of_the_milestone_page_are_gone(client, login_as, plan):
    _, _, m = plan
    login_as("action_office")
    for old in ("updates", "complete", "cancel", "due-date"):
        assert client.post_form(f"/milestones/{m.id}/{old}", {"version": m.version}).status_code in (404, 405)
    assert client.post_form("/date-changes/1/decide", {"reason": "x", "approve": "Approve"}).status_code in (404, 405)


def test_a_refused_date_change_decision_comes_back_on_the_milestone_page_with_its_summary(client, login_as, db, plan):
    rec, _, m = plan
    rec.status = "resolved_open"
    db.session.commit()
    login_as("action_office")
    client.post_form(
        f"/milestones/{m.id}",
        {"action": "due_date", "new_due_on": days(50).isoformat(), "justification": "Outage", "version": m.version},
    )
    change = db.session.scalar(sa.select(DueDateChange))
    client.post_form("/sign-out")
    login_as("manager")
    page = client.get(f"/milestones/{m.id}").get_data(as_text=True)
    form = page.split('aria-label="Decide the due-date change"')[0].rsplit("<form", 1)[1]
    assert f'action="/milestones/{m.id}"' in form
    response = client.post_form(
        f"/milestones/{m.id}", {"action": "decide", "change_id": change.id, "reason": " ", "approve": "Approve"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "app-error-summary" in body and 'href="#decision-reason"' in body and 'id="decision-reason-error"' in body
    assert (
        f'action="/milestones/{m.id}"' in body.split('aria-label="Decide the due-date change"')[0].rsplit("<form", 1)[1]
    )
    assert reload(db, change).status == "pending"
    # A change of another milestone is not decided through this page.
    other = client.post_form(
        f"/milestones/{m.id + 1000}", {"action": "decide", "change_id": change.id, "reason": "ok", "approve": "Approve"}
    )
    assert other.status_code == 404 and reload(db, change).status == "pending"
