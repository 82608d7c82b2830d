"""The milestone page's History reads like the rest of the product: a due-date request, its refusal,
a second request and its approval say which request they are, the dates asked for in words, the
requester's and the manager's reasons as labelled prose, and no bookkeeping (ids, versions, raw
field names, ISO dates, "→ —" for a field the event did not change)."""

import html
import re

import sqlalchemy as sa

from app.milestones.models import DueDateChange
from app.timeutil import human_date
from tests.factories import days


def _text(fragment: str) -> str:
    """What a person reads: the tags gone, the entities decoded, the white space collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def _section(page: str, heading_id: str) -> str:
    """The text of the page's section that ``heading_id`` heads."""
    start = page.index(f'id="{heading_id}"')
    return _text(page[start : page.index("</section>", start)])


def _rows(section_html: str) -> list[str]:
    return [_text(row) for row in re.findall(r"<tr>(.*?)</tr>", section_html, re.S)[1:]]


def _history_rows(page: str) -> list[str]:
    start = page.index('id="history-heading"')
    return _rows(page[start : page.index("</section>", start)])


def _ask(client, milestone_id: int, day, why: str) -> None:
    page = client.get(f"/milestones/{milestone_id}").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    response = client.post_form(
        f"/milestones/{milestone_id}",
        {"action": "due_date", "new_due_on": day.isoformat(), "justification": why, "version": version},
    )
    assert response.status_code == 302


def _decide(client, db, milestone_id: int, verdict: str, why: str) -> None:
    change_id = db.session.scalars(sa.select(DueDateChange.id).where(DueDateChange.status == "pending")).one()
    response = client.post_form(
        f"/milestones/{milestone_id}",
        {"action": "decide", "change_id": change_id, "reason": why, verdict.lower(): verdict},
    )
    assert response.status_code == 302


def test_request_decline_request_approve_reads_as_prose_in_the_history(client, login_as, make, db):
    rec = make.recommendation()
    line = make.line(rec, title="Data collection")
    m = make.milestone(line, title="Define required fields", start_on=days(-10), due=days(20))
    db.session.commit()
    office = login_as("action_office")
    # Before OIG accepts the plan the date moves at once: a change, not a request (it has no number).
    _ask(client, m.id, days(25), "USCIS asked for time to test matching.")
    rec.status, rec.management_decision_on = "resolved_open", days(-1)
    db.session.commit()

    _ask(client, m.id, days(50), "ICE and CBP asked for another review cycle.")
    client.post_form("/sign-out")
    manager = login_as("manager")
    _decide(client, db, m.id, "Decline", "The review cycle fits in the current date.")
    client.post_form("/sign-out")
    login_as(user=office)
    _ask(client, m.id, days(50), "CBP's comments came in three weeks late.")
    page = client.get(f"/milestones/{m.id}").get_data(as_text=True)
    # The waiting request is named as the table and the history name it.
    assert ">Request 2: due-date change awaiting a decision</h2>" in page
    data = {"noted_on": days(0).isoformat(), "status": "in_progress", "percent_complete": 40, "note": "Draft sent"}
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    assert client.post_form(f"/milestones/{m.id}", {"action": "update", "version": version} | data).status_code == 302
    client.post_form("/sign-out")
    login_as(user=manager)
    _decide(client, db, m.id, "Approve", "The late comments are in the working group's minutes.")

    page = client.get(f"/milestones/{m.id}").get_data(as_text=True)
    history = _section(page, "history-heading")
    approved, update, asked_again, declined, asked, changed = _history_rows(page)[:6]
    was, moved, asked_for = human_date(days(20)), human_date(days(25)), human_date(days(50))

    assert asked.endswith(
        f"Due-date change requested Request 1 Requested due date: {asked_for} (instead of {moved}) "
        "Reason: ICE and CBP asked for another review cycle."
    )
    assert declined.endswith(
        f"Due-date change declined Request 1 Requested due date: {asked_for} "
        "Manager's reason: The review cycle fits in the current date."
    )
    assert asked_again.endswith(
        f"Due-date change requested Request 2 Requested due date: {asked_for} (instead of {moved}) "
        "Reason: CBP's comments came in three weeks late."
    )
    assert approved.endswith(
        f"Due-date change approved Request 2 Due date: {moved} → {asked_for} "
        "Manager's reason: The late comments are in the working group's minutes."
    )
    assert update.endswith(
        f"Update posted Status: Not started → In progress Progress: 0% → 40% "
        f"Date of the update: {human_date(days(0))} Note: Draft sent"
    )
    assert changed.endswith(
        f"Due date changed Baseline due date: {was} → {moved} Due date: {was} → {moved} "
        "Reason: USCIS asked for time to test matching."
    )
    assert "Request" not in changed  # applied at once, before acceptance: not a request
    for bookkeeping in ("Change id", "Version", "justification", "Justification", "decision", "→ —", "—", "_"):
        assert bookkeeping not in history, bookkeeping
    assert not re.search(r"\d{4}-\d{2}-\d{2}", history), "an ISO date in the history"

    # The due-date changes table numbers the requests the same way, newest first.
    start = page.index('id="dates-heading"')
    table = _rows(page[start : page.index("</section>", start)])
    assert [row.split(" ")[:2] for row in table[:2]] == [["Request", "2"], ["Request", "1"]]
    assert "Request" not in table[2] and "USCIS asked for time to test matching." in table[2]
    assert "Declined by" in table[1] and "The review cycle fits in the current date." in table[1]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DueDateChange)) == 3
