"""Issue 20: the milestone page lists its latest status updates and changes a page at a time, like the
recommendation page's history, so its statements and the rows it loads do not grow with the milestone's
history (it listed them all: 2,000 updates on one page). bench/README.md, "Audited writes".
"""

import re

import sqlalchemy as sa
from sqlalchemy import event

from app.milestones import services
from app.milestones.models import MilestoneUpdate
from app.milestones.routes import HISTORY_PER_PAGE, UPDATES_PER_PAGE
from tests.factories import days
from tests.querycount import count_queries


def _add_history(db, milestone, author, count: int, start: int, events: int | None = None) -> None:
    """``count`` status updates (the oldest first) and ``events`` (as many by default) audit events about the milestone."""
    db.session.add_all(
        MilestoneUpdate(
            milestone_id=milestone.id,
            author_id=author.id,
            noted_on=days(-1),  # one day: newest first is the order they were added in
            note=f"Earlier update {start + i}",
            status="in_progress",
            percent_complete=(start + i) % 100,
        )
        for i in range(count)
    )
    for i in range(count if events is None else events):
        before = services.snapshot(milestone)
        milestone.percent_complete = (start + i) % 100
        milestone.description = f"Step {start + i}"
        services.record("milestone.update", milestone, before, actor=author)
    db.session.commit()


def _page(app, client, url: str):
    """The response, its statements, and the ORM objects the request loaded."""
    loaded = []

    def count(target, context):
        loaded.append(type(target).__name__)

    event.listen(sa.orm.Mapper, "load", count)
    try:
        with count_queries(app) as counter:
            response = client.get(url)
    finally:
        event.remove(sa.orm.Mapper, "load", count)
    assert response.status_code == 200, url
    return response.get_data(as_text=True), counter.statements, loaded


#: More than a page of each list.
FIRST = max(UPDATES_PER_PAGE, HISTORY_PER_PAGE) + 5


def test_the_milestone_page_reads_as_much_with_2000_updates_as_with_25(app, client, login_as, make, db):
    line = make.line(make.recommendation())
    milestone = make.milestone(line, due=days(20))
    user = login_as("action_office")
    url = f"/milestones/{milestone.id}"

    _add_history(db, milestone, user, FIRST, 0)
    client.get(url)  # warm
    small_page, small, small_loaded = _page(app, client, url)

    # 2,000 updates and 400 changes (each a hashed audit event, slower to make).
    _add_history(db, db.session.get(type(milestone), milestone.id), user, 2000, FIRST, 400)
    large_page, large, large_loaded = _page(app, client, url)

    assert len(small) == len(large), (small, large)
    assert sorted(small_loaded) == sorted(large_loaded), (len(small_loaded), len(large_loaded))
    assert large_loaded.count("MilestoneUpdate") == UPDATES_PER_PAGE
    assert large_loaded.count("AuditEvent") == HISTORY_PER_PAGE
    # The newest of each list is shown, the oldest not, and the counts say how many there are.
    last = FIRST + 2000 - 1
    assert f"Earlier update {last}" in large_page and "Earlier update 0<" not in large_page
    assert f"Step {FIRST + 400 - 1}" in large_page and "Step 0<" not in large_page
    assert f"{FIRST + 2000} updates, newest first, {UPDATES_PER_PAGE} a page." in large_page
    assert f"Page 1 of {-(-(FIRST + 2000) // UPDATES_PER_PAGE)}" in large_page
    assert "Pages of status updates" in small_page and "Pages of history" in small_page


def test_the_milestone_page_pages_its_updates_and_its_history_apart(app, client, login_as, make, db):
    line = make.line(make.recommendation())
    milestone = make.milestone(line, due=days(20))
    user = login_as("action_office")
    total = UPDATES_PER_PAGE * 2 + 3
    _add_history(db, milestone, user, total, 0)
    url = f"/milestones/{milestone.id}"

    first, _, _ = _page(app, client, url)
    links = re.findall(r'href="([^"]*updates_page=2[^"]*)"', first)
    assert links and links[0].endswith("#updates-heading"), links
    second, _, loaded = _page(app, client, links[0].replace("&amp;", "&"))
    # The second page of updates, the first of the history (the other list stays where it was).
    assert f"Earlier update {total - UPDATES_PER_PAGE - 1}<" in second
    assert f"Earlier update {total - 1}<" not in second
    assert f"Step {total - 1}<" in second
    assert loaded.count("MilestoneUpdate") == UPDATES_PER_PAGE
    history_links = re.findall(r'href="([^"]*history_page=2[^"]*)"', second)
    assert history_links and "updates_page=2" in history_links[0] and history_links[0].endswith("#history-heading")

    last, _, loaded = _page(app, client, f"{url}?updates_page=3")
    assert loaded.count("MilestoneUpdate") == total - 2 * UPDATES_PER_PAGE
    assert "Earlier update 0<" in last
    # Past the end: the last page; not a number: the first. Never an error.
    beyond, _, _ = _page(app, client, f"{url}?updates_page=999&history_page=999")
    assert "Earlier update 0<" in beyond and "Step 0<" in beyond
    odd, _, _ = _page(app, client, f"{url}?updates_page=abc&history_page=-1")
    assert f"Earlier update {total - 1}<" in odd and f"Step {total - 1}<" in odd
