"""The private iCalendar feed: parses, holds the user's deadlines, dies with its token."""

import re

import sqlalchemy as sa
from icalendar import Calendar

from app.audit import AuditEvent
from app.milestones.models import Milestone
from tests.factories import PASSWORD

FEED_RE = re.compile(r'value="(http://localhost/calendar/feed/[^"]+\.ics)"')


def _sign_in(client, email):
    assert (
        client.post_form("/sign-in", {"email": email, "password": PASSWORD}, token_from="/sign-in").status_code == 302
    )


def _new_feed(client) -> str:
    made = client.post_form("/calendar/feed", token_from="/calendar/")
    assert made.status_code == 302  # post/redirect/get: a reload does not replace the address again
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert not FEED_RE.search(client.get("/calendar/").get_data(as_text=True))  # shown once
    return FEED_RE.search(page).group(1).removeprefix("http://localhost")


def test_feed_parses_and_holds_milestones_and_clocks(app, client, db, demo):
    _sign_in(client, "policy@example.gov")
    url = _new_feed(client)
    client.post("/sign-out")  # the feed needs no session
    anonymous = app.test_client()
    response = anonymous.get(url)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = {str(e["summary"]): e.decoded("dtstart") for e in calendar.walk("VEVENT")}
    open_milestones = db.session.scalars(sa.select(Milestone).where(Milestone.status != "completed")).all()
    for m in open_milestones:
        assert events[f"Due: {m.title}"] == m.current_due_on
    assert any("Resolution limit (6 months after issue)" in s for s in events)
    assert not any(
        m.title in s
        for m in db.session.scalars(sa.select(Milestone).where(Milestone.status == "completed"))
        for s in events
    )


def test_a_revoked_or_replaced_feed_answers_404(app, client, db, demo):
    _sign_in(client, "manager@example.gov")
    first = _new_feed(client)
    second = _new_feed(client)
    anonymous = app.test_client()
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200
    client.post_form("/calendar/feed/revoke", token_from="/calendar/")
    assert anonymous.get(second).status_code == 404
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action.like("calendar.%")).order_by(AuditEvent.id)
    ).all()
    assert actions == ["calendar.token_create", "calendar.token_create", "calendar.token_revoke"]


def test_an_unknown_token_is_404(client):
    assert client.get("/calendar/feed/not-a-token.ics").status_code == 404


def test_feed_shows_only_the_users_office(app, client, db, make, login_as):
    other = make.line(make.recommendation(office=make.office("CBP")))
    make.milestone(other, title="CBP private milestone")
    login_as("manager")
    url = _new_feed(client)
    assert b"CBP private milestone" not in app.test_client().get(url).data


def test_feed_page_never_shows_the_token_again(client, login_as):
    login_as("action_office")
    _new_feed(client)
    assert not FEED_RE.search(client.get("/calendar/").get_data(as_text=True))


def test_feed_query_count_does_not_grow_with_milestones(app, client, db, make, login_as):
    from tests.factories import days
    from tests.querycount import count_queries

    line = make.line(make.recommendation())
    make.milestone(line, due=days(5))
    login_as("manager")
    url = _new_feed(client)
    anonymous = app.test_client()
    with count_queries(app) as few:
        anonymous.get(url)
    for n in range(6):
        make.milestone(make.line(make.recommendation()), due=days(n + 1))
    db.session.commit()
    with count_queries(app) as many:
        anonymous.get(url)
    assert many.count == few.count
