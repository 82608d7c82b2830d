"""Comments, concurrence, the history tab and the recommendation page's deadlines."""

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.comments.models import Comment
from tests.factories import days


@pytest.fixture
def rec(make, db):
    rec = make.recommendation(office=make.office("DHS-PLCY"), issued_on=days(-100))
    db.session.commit()
    return rec


def test_comments_are_kept_in_order_between_oig_and_the_office(client, login_as, make, db, rec):
    staff = make.user("action_office", office=rec.action_office, name="Dana Whitfield")
    reviewer = make.user("oig_reviewer", name="Marcus Ortega")
    login_as(user=reviewer)
    client.post_form(
        f"/recommendations/{rec.id}", {"action": "comment", "body": "Please add a data-quality milestone."}
    )
    client.delete_cookie("session")
    login_as(user=staff)
    response = client.post_form(
        f"/recommendations/{rec.id}", {"action": "comment", "body": "Added: sample-based accuracy review."}
    )
    assert response.status_code == 302
    page = client.get(f"/recommendations/{rec.id}").get_data(as_text=True)
    first, second = (
        page.index("Please add a data-quality milestone."),
        page.index("Added: sample-based accuracy review."),
    )
    assert first < second and "Marcus Ortega" in page and "Dana Whitfield" in page
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "comment.create")).all()
    assert [e.actor_id for e in events] == [reviewer.id, staff.id]
    assert all(e.recommendation_id == rec.id for e in events)


def test_comments_refused_to_outsiders_and_empty_messages(client, login_as, make, db, rec):
    login_as("action_office", office=make.office("ICE-TEST"))
    assert client.post_form(f"/recommendations/{rec.id}", {"action": "comment", "body": "Hello"}).status_code == 403
    client.delete_cookie("session")
    login_as("admin")
    assert client.post_form(f"/recommendations/{rec.id}", {"action": "comment", "body": "Hello"}).status_code == 403
    client.delete_cookie("session")
    login_as("action_office", office=rec.action_office)
    response = client.post_form(f"/recommendations/{rec.id}", {"action": "comment", "body": "  "})
    assert response.status_code == 400 and "Write a message before sending." in response.get_data(as_text=True)
    body = response.get_data(as_text=True)  # back on the recommendation's page, at its address, with the summary
    assert (
        "app-error-summary" in body
        and f'action="/recommendations/{rec.id}"' in body.split('value="comment"')[0].rsplit("<form", 1)[1]
    )
    assert client.post_form(f"/recommendations/{rec.id}/comments", {"body": "Hello"}).status_code in (404, 405)
    too_long = client.post_form(f"/recommendations/{rec.id}", {"action": "comment", "body": "x" * 10_001})
    assert too_long.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0


def test_the_office_records_its_concurrence_and_the_history_shows_before_and_after(client, login_as, make, db, rec):
    staff = login_as("action_office", office=rec.action_office, name="Dana Whitfield")
    response = client.post_form(
        f"/recommendations/{rec.id}/concurrence",
        {
            "concurrence": "partially_concur",
            "concurrence_response": "We agree in part.",
            "responsible_official": "Assistant Secretary for Policy",
            "target_completion_on": days(200).isoformat(),
            "version": rec.version,
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert rec.concurrence == "partially_concur" and rec.concurrence_response == "We agree in part."
    assert rec.responsible_official == "Assistant Secretary for Policy" and rec.target_completion_on == days(200)
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "recommendation.response")).one()
    assert event.actor_id == staff.id and event.before_data["concurrence"] is None
    history = client.get(f"/recommendations/{rec.id}/history").get_data(as_text=True)
    assert "Dana Whitfield edited the office&#39;s response" in history
    assert "concurrence from none to Partially concur" in history
    assert "Partially concur" in history and "We agree in part." in history
    bad = client.post_form(f"/recommendations/{rec.id}/concurrence", {"concurrence": "shrug"})
    assert bad.status_code == 400
    early = client.post_form(
        f"/recommendations/{rec.id}/concurrence",
        {"concurrence": "concur", "target_completion_on": days(-101).isoformat()},
    )
    assert early.status_code == 400 and "cannot be before the report was issued" in early.get_data(as_text=True)
    db.session.expire_all()
    assert rec.concurrence == "partially_concur"


@pytest.mark.parametrize("role", ["oig_reviewer", "manager", "admin"])
def test_only_the_office_staff_edit_concurrence(client, login_as, make, db, rec, role):
    login_as(role, office=None if role != "manager" else rec.action_office)
    response = client.post_form(f"/recommendations/{rec.id}/concurrence", {"concurrence": "non_concur"})
    assert response.status_code == 403
    db.session.expire_all()
    assert rec.concurrence is None


def test_recommendation_page_shows_every_clock_and_marks_past_due(client, login_as, rec):
    login_as("oig_reviewer")
    page = client.get(f"/recommendations/{rec.id}").get_data(as_text=True)
    for label in (
        "Corrective action plan due (90 days after issue)",
        "Resolution limit (6 months after issue)",
        "Implementation target (1 year after management decision)",
        "Next 90-day status update",
    ):
        assert label in page
    assert page.count("Past due") == 2  # the plan (90 days) and the first update are late at day 100
    assert days(-10).strftime("%b %-d, %Y") in page  # plan response was due 10 days ago


def test_history_tab_lists_status_changes_with_author_and_refusals(client, login_as, make, db, rec):
    login_as("oig_reviewer", name="Marcus Ortega")
    client.post_form(f"/recommendations/{rec.id}/status", {"to_status": "resolved_open", "reason": "Plan accepted"})
    client.post_form(f"/recommendations/{rec.id}/status", {"to_status": "resolved_closed", "reason": "Skip"})
    page = client.get(f"/recommendations/{rec.id}/history").get_data(as_text=True)
    assert "Marcus Ortega changed the status from Unresolved, open to Resolved, open: “Plan accepted”." in page
    # The refusal says what was tried and the answer given (every refusal once read the same).
    assert (
        f"Marcus Ortega was refused (POST /recommendations/{rec.id}/status): “A recommendation cannot move from "
        "“Resolved, open” to “Resolved, closed”. Nothing was changed.”" in page.replace("&#34;", '"')
    )


def test_history_tab_is_paged_newest_first(client, login_as, make, db, rec, monkeypatch):
    from app import audit

    monkeypatch.setattr("app.recommendations.routes.HISTORY_PER_PAGE", 3)
    for n in range(7):
        audit.record("comment.create", rec, after={"body": f"note {n}"}, recommendation_id=rec.id)
    db.session.commit()
    login_as("oig_reviewer")
    first = client.get(f"/recommendations/{rec.id}/history").get_data(as_text=True)
    assert "7 events, 3 a page." in first and "Page 1 of 3" in first
    assert "note 6" in first and "note 3" not in first
    assert "The system wrote: “note 6”." in first
    last = client.get(f"/recommendations/{rec.id}/history?page=3").get_data(as_text=True)
    assert "note 0" in last and "note 1" not in last


def test_recommendation_page_query_count_does_not_grow_with_comments_and_history(app, client, login_as, make, db, rec):
    from app.comments.services import add_comment
    from tests.querycount import count_queries

    user = login_as("oig_reviewer")
    add_comment(rec, "first", user)
    db.session.commit()
    with count_queries(app) as small:
        assert client.get(f"/recommendations/{rec.id}").status_code == 200
    for n in range(30):
        add_comment(rec, f"message {n}", make.user("action_office", office=rec.action_office))
    db.session.commit()
    with count_queries(app) as large:
        assert client.get(f"/recommendations/{rec.id}").status_code == 200
    assert large.count == small.count


def test_history_page_query_count_does_not_grow_with_events_of_every_kind(app, client, login_as, make, db, rec):
    from app import audit
    from tests.querycount import count_queries

    def add(n):
        for i in range(n):
            audit.record(
                "milestone.due_date_approve",
                None,
                before={"current_due_on": "2027-01-16"},
                after={"current_due_on": "2027-02-06", "change_id": 1000 + i},
                recommendation_id=rec.id,
            )
            audit.record(
                "metric.reading.create",
                None,
                after={"component": "ICE", "period": "2026-Q1", "value": "3"},
                recommendation_id=rec.id,
            )
            audit.record(
                "metric.action.create",
                None,
                after={"flag_id": 2000 + i, "owner_id": 3000 + i, "decision": "accept", "reason": "r"},
                recommendation_id=rec.id,
            )
            audit.record(
                "evidence.review", None, after={"review_status": "accepted", "comment": "ok"}, recommendation_id=rec.id
            )
        db.session.commit()

    login_as("oig_reviewer")
    add(1)
    with count_queries(app) as small:
        assert client.get(f"/recommendations/{rec.id}/history").status_code == 200
    add(10)
    with count_queries(app) as large:
        assert client.get(f"/recommendations/{rec.id}/history").status_code == 200
    assert large.count == small.count
