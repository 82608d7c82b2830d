"""On a phone a stacked table (``data_table(stacked=True)``, USWDS) shows each row as a block of
cells, each under its column's name, which the cell carries in ``data-label``: a cell without one
would stand alone, its meaning lost. The browser walk (tests/e2e/layout.py) checks that these
tables fit a phone; this checks their markup on the pages that have them, for each role."""

from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from app.auth.models import User


class _StackedCells(HTMLParser):
    """The body cells of every stacked table: (its caption, the cell's tag, its data-label)."""

    def __init__(self):
        super().__init__()
        self.depth = 0  # inside a stacked table's <tbody> when > 0
        self.cells: list[tuple[str, str | None]] = []
        self.tables = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table" and "usa-table--stacked" in (attributes.get("class") or "").split():
            self.tables += 1
            self.depth = 1
        elif self.depth and tag == "tbody":
            self.depth = 2
        elif self.depth == 2 and tag in ("td", "th"):
            self.cells.append((tag, attributes.get("data-label")))

    def handle_endtag(self, tag):
        if tag == "table":
            self.depth = 0


#: (the demo's person, page, how many stacked tables it has at least)
PAGES = [
    ("policy@example.gov", "/", 2),
    ("oig@example.gov", "/", 2),
    ("policy@example.gov", "/my-work", 1),
    ("policy@example.gov", "/recommendations/1", 4),
    ("oig@example.gov", "/recommendations/1", 4),
    ("manager@example.gov", "/milestones/7", 2),
    ("oig@example.gov", "/reports/", 1),
    ("policy@example.gov", "/recommendations/1/metrics", 5),
    ("oig@example.gov", "/recommendations/1/flags", 1),
    ("oig@example.gov", "/recommendations/1/closure-package", 4),
    ("policy@example.gov", "/recommendations/1/timeline", 3),
    ("oig@example.gov", "/metrics/1", 3),
    ("oig@example.gov", "/evidence/1", 1),
    ("policy@example.gov", "/recommendations/1/evidence", 3),
    ("policy@example.gov", "/recommendations/1/metrics/import", 1),
    ("oig@example.gov", "/reports/1", 1),
    ("oig@example.gov", "/exports/semiannual", 1),
    ("admin@example.gov", "/reminders/outbox", 1),
    ("policy@example.gov", "/milestones/1/evidence", 1),
]


@pytest.mark.parametrize("email, path, tables", PAGES)
def test_every_cell_of_a_stacked_table_names_its_column(client, db, login_as, demo, email, path, tables):
    login_as(user=db.session.scalar(sa.select(User).where(User.email == email)))
    found = _StackedCells()
    found.feed(client.get(path).get_data(as_text=True))
    assert found.tables >= tables, f"{path}: {found.tables} stacked tables"
    assert found.cells, path
    assert [cell for cell in found.cells if not cell[1]] == [], path
