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
from app.exports.semiannual import (
    latest_period_end,
    qualifies_open,
    qualifies_over_one_year,
    qualifies_unresolved,
    recent_period_ends,
    semiannual_tables,
)
from tests.factories import PASSWORD

SEP30 = date(2026, 9, 30)
MAR31 = date(2026, 3, 31)


def rec(issued, status="unresolved_open", decided=None, final=None, closed=None):
    return SimpleNamespace(
        issued_on=issued, status=status, management_decision_on=decided, final_action_on=final, closed_on=closed
    )


@pytest.mark.parametrize(
    "period_end, r, expected",
    [
        # more than 6 months after issue at the period end: one day either side of exactly 6 months
        (SEP30, rec(date(2026, 3, 29)), True),
        (SEP30, rec(date(2026, 3, 30)), False),
        (MAR31, rec(date(2025, 9, 30)), True),  # + 6 months = Mar 30, the day before the period end
        (MAR31, rec(date(2025, 10, 1)), False),  # + 6 months = Apr 1
        # a management decision on the period end resolves it; one the day after does not
        (SEP30, rec(date(2026, 1, 1), "resolved_open", decided=SEP30), False),
        (SEP30, rec(date(2026, 1, 1), "resolved_open", decided=date(2026, 10, 1)), True),
        # closed without implementation: listed in the periods it was open in, by the day it was closed
        (SEP30, rec(date(2026, 1, 1), "closed_not_implemented"), False),
        (SEP30, rec(date(2026, 1, 1), "closed_not_implemented", closed=SEP30), False),
        (SEP30, rec(date(2026, 1, 1), "closed_not_implemented", closed=date(2026, 10, 1)), True),
    ],
)
def test_unresolved_more_than_six_months(period_end, r, expected):
    assert qualifies_unresolved(r, period_end) is expected


@pytest.mark.parametrize(
    "period_end, r, expected",
    [
        (SEP30, rec(SEP30), True),  # issued on the last day of the period
        (SEP30, rec(date(2026, 10, 1)), False),  # issued the day after
        (MAR31, rec(MAR31), True),
        (MAR31, rec(date(2026, 4, 1)), False),
        (SEP30, rec(date(2025, 1, 1), "resolved_closed", final=SEP30), False),  # final action on the day
        (SEP30, rec(date(2025, 1, 1), "resolved_closed", final=date(2026, 10, 1)), True),  # the day after
        (SEP30, rec(date(2025, 1, 1), "closure_pending"), True),
        (SEP30, rec(date(2025, 1, 1), "closed_not_implemented", closed=date(2026, 9, 29)), False),
        (MAR31, rec(date(2025, 1, 1), "closed_not_implemented", closed=date(2026, 9, 29)), True),
    ],
)
def test_open_without_final_action(period_end, r, expected):
    assert qualifies_open(r, period_end) is expected


@pytest.mark.parametrize(
    "period_end, r, expected",
    [
        (SEP30, rec(date(2025, 9, 30), "resolved_open"), True),  # exactly one year: at least a year
        (SEP30, rec(date(2025, 10, 1), "resolved_open"), False),  # one day short
        (MAR31, rec(date(2025, 3, 31)), True),
        (MAR31, rec(date(2025, 4, 1)), False),
        (SEP30, rec(date(2024, 1, 1), "resolved_closed", final=date(2026, 9, 1)), False),
    ],
)
def test_open_at_least_one_year(period_end, r, expected):
    assert qualifies_over_one_year(r, period_end) is expected


@pytest.mark.parametrize(
    "on, expected",
    [
        (date(2026, 9, 30), date(2026, 9, 30)),
        (date(2026, 10, 1), date(2026, 9, 30)),
        (date(2026, 3, 30), date(2025, 9, 30)),
        (date(2026, 3, 31), date(2026, 3, 31)),
        (date(2026, 4, 1), date(2026, 3, 31)),
    ],
)
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
    make.recommendation(
        make.report(number="DONE-1", issued_on=date(2025, 1, 2)),
        plcy,
        number="1",
        status="resolved_closed",
        management_decision_on=date(2025, 3, 1),
        final_action_on=date(2026, 9, 30),
    )
    db.session.commit()
    oig = make.user("oig_reviewer")
    tables = semiannual_tables(oig, SEP30)
    assert _labels(tables.open) == ["EDGE-1/1", "MID-1/1", "OIG-15-85/1", "OLD-1/1"]
    assert _labels(tables.unresolved) == ["MID-1/1", "OLD-1/1"]
    assert _labels(tables.over_one_year) == ["OLD-1/1"]
    assert tables.period_start == date(2026, 4, 1)


def test_page_csv_and_xlsx_agree(client, db, make, login_as):
    plcy = make.office("DHS-PLCY")
    make.recommendation(
        make.report(number="OLD-2", issued_on=date(2024, 2, 1)),
        plcy,
        number="3",
        concurrence_response="Waiting on funding.",
    )
    login_as("manager", office=plcy)
    page = client.get("/exports/semiannual?period_end=2026-09-30").get_data(as_text=True)
    assert "OLD-2 Rec. 3" in page and "Waiting on funding." in page
    text = client.get("/exports/semiannual.csv?period_end=2026-09-30").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["Table"] for r in rows) == [
        "Open at least one year (GAO-IG Act)",
        "Open recommendations without final action",
        "Unresolved more than 6 months after issue",
    ]
    workbook = load_workbook(io.BytesIO(client.get("/exports/semiannual.xlsx?period_end=2026-09-30").data))
    assert [ws.max_row for ws in workbook.worksheets] == [2, 2, 2, 9, 9]
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export.semiannual")).all()
    assert [e.after_data["format"] for e in events] == ["csv", "xlsx"]


def test_other_offices_recommendations_stay_out(client, make, login_as):
    make.recommendation(make.report(number="ICE-9", issued_on=date(2024, 2, 1)), make.office("ICE"))
    login_as("action_office")
    assert "ICE-9" not in client.get("/exports/semiannual?period_end=2026-09-30").get_data(as_text=True)


# --- the IG Act section 5 tables: one period, computed by hand ---------------------------------------------

# The period Apr 1 - Sep 30, 2026. (report, recommendation): issued, status, management decision, closed,
# questioned, unsupported, disallowed, funds put to better use, agreed.
MONEY_CASE = [
    # issued before the period, no decision: A, D, and more than six months old at the end: D6
    ("R1", "1", date(2025, 12, 1), "unresolved_open", None, None, 1000, 200, None, None, None),
    # issued before, decided in the period: 300 of 800 disallowed, 2,000 of 5,000 agreed
    ("R2", "1", date(2026, 1, 15), "resolved_open", date(2026, 5, 10), None, 800, 0, 300, 5000, 2000),
    # decided before the period began: in no row
    ("R3", "1", date(2025, 6, 1), "resolved_open", date(2025, 12, 1), None, 999, None, 999, None, None),
    # issued in the period, no decision, less than six months old: B and D, not D6
    ("R4", "1", date(2026, 5, 1), "unresolved_open", None, None, 2500, 2500, None, None, None),
    # issued in the period, closed without implementation and without a decision during it: C(ii)
    ("R5", "1", date(2026, 4, 1), "closed_not_implemented", None, date(2026, 8, 15), None, None, None, 700, None),
    # issued after the period: in no row
    ("R6", "1", date(2026, 10, 1), "unresolved_open", None, None, 50, None, None, None, None),
    # closed without implementation before the period: in no row
    ("R7", "1", date(2025, 10, 1), "closed_not_implemented", None, date(2026, 3, 1), 10, None, None, None, None),
    # one report, two recommendations: one decided on the period's last day (all disallowed), one not
    ("R8", "a", date(2026, 2, 1), "resolved_open", date(2026, 9, 30), None, 100, None, 100, None, None),
    ("R8", "b", date(2026, 2, 1), "unresolved_open", None, None, 60, None, None, None, None),
]

# By hand: (number of reports, dollar value, unsupported costs)
QUESTIONED = {
    "A": (3, "1960.00", "200.00"),  # R1 1,000 (200) + R2 800 + R8 100 + 60
    "B": (1, "2500.00", "2500.00"),  # R4
    "A+B": (4, "4460.00", "2700.00"),
    "C": (2, "900.00", "0.00"),  # R2 800 + R8a 100
    "C(i)": (2, "400.00", None),  # R2 300 + R8a 100
    "C(ii)": (1, "500.00", None),  # R2 800 - 300
    "D": (3, "3560.00", "2700.00"),  # R1 1,000 + R4 2,500 + R8b 60
    "D6": (2, "1060.00", "200.00"),  # R1 + R8b (issued Feb 1: six months passed Aug 1)
}
BETTER_USE = {
    "A": (1, "5000.00"),
    "B": (1, "700.00"),
    "A+B": (2, "5700.00"),
    "C": (2, "5700.00"),
    "C(i)": (1, "2000.00"),
    "C(ii)": (2, "3700.00"),  # R2 5,000 - 2,000 + R5 700
    "D": (0, "0.00"),
    "D6": (0, "0.00"),
}


def _money_recs():
    ids = {}
    for report, number, issued, status, decided, closed, q, u, disallowed, funds, agreed in MONEY_CASE:
        yield SimpleNamespace(
            report_id=ids.setdefault(report, len(ids) + 1),
            issued_on=issued,
            status=status,
            management_decision_on=decided,
            closed_on=closed,
            questioned_costs=q,
            unsupported_costs=u,
            disallowed_costs=disallowed,
            funds_put_to_better_use=funds,
            agreed_funds=agreed,
        )


def _as_hand(questioned, better_use):
    from decimal import Decimal

    got_q = {r.key: (r.reports, r.value, r.unsupported) for r in questioned.rows}
    got_f = {r.key: (r.reports, r.value) for r in better_use.rows}
    want_q = {k: (n, Decimal(v), Decimal(u) if u is not None else None) for k, (n, v, u) in QUESTIONED.items()}
    want_f = {k: (n, Decimal(v)) for k, (n, v) in BETTER_USE.items()}
    return got_q, want_q, got_f, want_f


def test_money_tables_for_one_period_match_the_hand_count():
    from app.exports.section5 import money_tables

    questioned, better_use = money_tables(_money_recs(), date(2026, 4, 1), SEP30)
    got_q, want_q, got_f, want_f = _as_hand(questioned, better_use)
    assert got_q == want_q
    assert got_f == want_f
    # what came in is what went out, or is still waiting
    assert questioned.row("A+B").value == questioned.row("C").value + questioned.row("D").value


def _seed_money_case(make, db):
    plcy = make.office("DHS-PLCY")
    reports = {}
    for report, number, issued, status, decided, closed, q, u, disallowed, funds, agreed in MONEY_CASE:
        if report not in reports:
            reports[report] = make.report(number=report, issued_on=issued)
        make.recommendation(
            reports[report],
            plcy,
            number=number,
            issued_on=issued,
            status=status,
            management_decision_on=decided,
            closed_on=closed,
            questioned_costs=q,
            unsupported_costs=u,
            disallowed_costs=disallowed,
            funds_put_to_better_use=funds,
            agreed_funds=agreed,
        )
    make.recommendation(
        make.report(number="ICE-OTHER", issued_on=date(2026, 5, 1)), make.office("ICE"), questioned_costs=123456
    )  # another office's: never in the office's own tables
    db.session.commit()
    return plcy


def test_money_tables_from_the_database_page_csv_xlsx_and_pdf(client, db, make, login_as):
    from decimal import Decimal

    from app.exports.section5 import section5_tables

    plcy = _seed_money_case(make, db)
    staff = login_as("action_office", office=plcy)
    questioned, better_use = section5_tables(staff, date(2026, 4, 1), SEP30)
    got_q, want_q, got_f, want_f = _as_hand(questioned, better_use)
    assert got_q == want_q and got_f == want_f

    page = client.get("/exports/semiannual?period_end=2026-09-30").get_data(as_text=True)
    table = page.split('id="money-questioned"')[1].split("</table>")[0]
    assert "<caption" in table and '<th scope="col" class="app-num">Unsupported costs</th>' in table
    d_row = table.split("D. For which no management decision had been made by the end")[1].split("</tr>")[0]
    assert ">3<" in d_row and "$3,560.00" in d_row and "$2,700.00" in d_row
    funds = page.split('id="money-better_use"')[1].split("</table>")[0]
    assert "Dollar value of recommendations agreed to by management" in funds and "$2,000.00" in funds
    assert "123,456" not in page

    text = client.get("/exports/semiannual-money.csv?period_end=2026-09-30").data.decode("utf-8-sig")
    rows = {(r["Table"], r["Row"]): r for r in csv.DictReader(io.StringIO(text))}
    assert len(rows) == 16
    assert rows[("Reports with questioned costs", "D6")]["Dollar value"] == "1060.00"
    assert rows[("Reports with questioned costs", "D6")]["Unsupported costs"] == "200.00"
    assert rows[("Reports with questioned costs", "C(i)")]["Unsupported costs"] == ""
    assert rows[("Reports with recommendations that funds be put to better use", "C(ii)")]["Number of reports"] == "2"

    workbook = load_workbook(io.BytesIO(client.get("/exports/semiannual.xlsx?period_end=2026-09-30").data))
    sheet = workbook["Questioned costs"]
    values = {r[0]: r[2:] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["A+B"] == (4, 4460.0, 2700.0) and values["C(ii)"] == (1, 500.0, None)
    assert {r[0]: r[2:4] for r in workbook["Funds put to better use"].iter_rows(min_row=2, values_only=True)}["C"] == (
        2,
        5700.0,
    )

    response = client.get("/exports/semiannual.pdf?period_end=2026-09-30")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    from pypdf import PdfReader

    pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    for words in (
        "Reports with questioned costs",
        "$4,460.00",
        "$2,700.00",
        "$3,700.00",
        "no management decision was made within six months of issue",
    ):
        assert words in " ".join(pdf_text.split()), words
    formats = [
        e.after_data["format"]
        for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "export.semiannual").order_by(AuditEvent.id)
        )
    ]
    assert formats == ["money.csv", "xlsx", "pdf"]
    assert Decimal(str(values["D"][1])) == Decimal("3560")
