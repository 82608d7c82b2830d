"""Semiannual report tables: the rules on both sides of every boundary date, then the page and files."""
import csv
import io
from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.audit import AuditEvent
from app.demo import seed_demo
from app.exports.semiannual import (latest_period_end, qualifies_open, qualifies_over_one_year,
                                    qualifies_unresolved, recent_period_ends, semiannual_tables)
from tests.factories import PASSWORD

SEP30 = date(2026, 9, 30)
MAR31 = date(2026, 3, 31)


def rec(issued, status="unresolved_open", decided=None, final=None):
    return SimpleNamespace(issued_on=issued, status=status, management_decision_on=decided, final_action_on=final)


@pytest.mark.parametrize("period_end, r, expected", [
    # more than 6 months after issue at the period end: one day either side of exactly 6 months
    (SEP30, rec(date(2026, 3, 29)), True),
    (SEP30, rec(date(2026, 3, 30)), False),
    (MAR31, rec(date(2025, 9, 30)), True),   # + 6 months = Mar 30, the day before the period end
    (MAR31, rec(date(2025, 10, 1)), False),  # + 6 months = Apr 1
    # a management decision on the period end resolves it; one the day after does not
    (SEP30, rec(date(2026, 1, 1), "resolved_open", decided=SEP30), False),
    (SEP30, rec(date(2026, 1, 1), "resolved_open", decided=date(2026, 10, 1)), True),
    # closed without implementation: not listed
    (SEP30, rec(date(2026, 1, 1), "closed_not_implemented"), False),
])
def test_unresolved_more_than_six_months(period_end, r, expected):
    assert qualifies_unresolved(r, period_end) is expected


@pytest.mark.parametrize("period_end, r, expected", [
    (SEP30, rec(SEP30), True),                    # issued on the last day of the period
    (SEP30, rec(date(2026, 10, 1)), False),       # issued the day after
    (MAR31, rec(MAR31), True),
    (MAR31, rec(date(2026, 4, 1)), False),
    (SEP30, rec(date(2025, 1, 1), "resolved_closed", final=SEP30), False),            # final action on the day
    (SEP30, rec(date(2025, 1, 1), "resolved_closed", final=date(2026, 10, 1)), True),  # the day after
    (SEP30, rec(date(2025, 1, 1), "closure_pending"), True),
])
def test_open_without_final_action(period_end, r, expected):
    assert qualifies_open(r, period_end) is expected


@pytest.mark.parametrize("period_end, r, expected", [
    (SEP30, rec(date(2025, 9, 30), "resolved_open"), True),   # exactly one year: at least a year
    (SEP30, rec(date(2025, 10, 1), "resolved_open"), False),  # one day short
    (MAR31, rec(date(2025, 3, 31)), True),
    (MAR31, rec(date(2025, 4, 1)), False),
    (SEP30, rec(date(2024, 1, 1), "resolved_closed", final=date(2026, 9, 1)), False),
])
def test_open_at_least_one_year(period_end, r, expected):
    assert qualifies_over_one_year(r, period_end) is expected


@pytest.mark.parametrize("on, expected", [
    (date(2026, 9, 30), date(2026, 9, 30)),
    (date(2026, 10, 1), date(2026, 9, 30)),
    (date(2026, 3, 30), date(2025, 9, 30)),
    (date(2026, 3, 31), date(2026, 3, 31)),
    (date(2026, 4, 1), date(2026, 3, 31)),
])
def test_latest_period_end(on, expected):
    assert latest_period_end(on) == expected


def test_recent_period_ends_alternate():
    assert recent_period_ends(date(2026, 11, 27), 3) == [SEP30, MAR31, date(2025, 9, 30)]


def _labels(rows):
    return sorted(f"{r.recommendation.report.number}/{r.recommendation.number}" for r in rows)


def test_tables_for_the_last_september_30_list_exactly_the_qualifying_demo_recommendations(app, db, make):
    seed_demo(PASSWORD, date(2026, 11, 27))  # OIG-15-85 issued 75 days earlier: 2026-09-13
    plcy = make.office("DHS-PLCY")
    make.recommendation(make.report(number="OLD-1", issued_on=date(2025, 9, 30)), plcy, number="1")
    make.recommendation(make.report(number="MID-1", issued_on=date(2026, 3, 29)), plcy, number="1")
    make.recommendation(make.report(number="EDGE-1", issued_on=date(2026, 3, 30)), plcy, number="1")
    make.recommendation(make.report(number="LATE-1", issued_on=date(2026, 10, 1)), plcy, number="1")
    make.recommendation(make.report(number="DONE-1", issued_on=date(2025, 1, 2)), plcy, number="1",
                        status="resolved_closed", management_decision_on=date(2025, 3, 1),
                        final_action_on=date(2026, 9, 30))
    db.session.commit()
    oig = make.user("oig_reviewer")
    tables = semiannual_tables(oig, SEP30)
    assert _labels(tables.open) == ["EDGE-1/1", "MID-1/1", "OIG-15-85/1", "OLD-1/1"]
    assert _labels(tables.unresolved) == ["MID-1/1", "OLD-1/1"]
    assert _labels(tables.over_one_year) == ["OLD-1/1"]
    assert tables.period_start == date(2026, 4, 1)


def test_page_csv_and_xlsx_agree(client, db, make, login_as):
    plcy = make.office("DHS-PLCY")
    make.recommendation(make.report(number="OLD-2", issued_on=date(2024, 2, 1)), plcy, number="3",
                        concurrence_response="Waiting on funding.")
    login_as("manager", office=plcy)
    page = client.get("/exports/semiannual?period_end=2026-09-30").get_data(as_text=True)
    assert "OLD-2 Rec. 3" in page and "Waiting on funding." in page
    text = client.get("/exports/semiannual.csv?period_end=2026-09-30").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["Table"] for r in rows) == ["Open at least one year (GAO-IG Act)",
                                                "Open recommendations without final action",
                                                "Unresolved more than 6 months after issue"]
    workbook = load_workbook(io.BytesIO(client.get("/exports/semiannual.xlsx?period_end=2026-09-30").data))
    assert [ws.max_row for ws in workbook.worksheets] == [2, 2, 2]
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export.semiannual")).all()
    assert [e.after_data["format"] for e in events] == ["csv", "xlsx"]


def test_other_offices_recommendations_stay_out(client, make, login_as):
    make.recommendation(make.report(number="ICE-9", issued_on=date(2024, 2, 1)), make.office("ICE"))
    login_as("action_office")
    assert "ICE-9" not in client.get("/exports/semiannual?period_end=2026-09-30").get_data(as_text=True)
