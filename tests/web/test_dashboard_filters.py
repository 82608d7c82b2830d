"""The dashboard's list of recommendations: filtered and sorted from the URL, exported as shown,
in a fixed number of queries."""

import csv
import io
from datetime import timedelta

import pytest

from app.dashboard.filters import ListFilter
from app.dashboard.insights import age_bucket
from app.timeutil import today
from tests.querycount import count_queries


@pytest.fixture
def recs(make, db):
    plcy, ice = make.office("DHS-PLCY", name="DHS Office of Policy"), make.office("DHS-ICE", name="ICE")
    on = today()
    old = make.report(number="OIG-15-85", issued_on=on - timedelta(days=800))
    new = make.report(number="OIG-26-01", issued_on=on - timedelta(days=30), oig_office="GAO")
    made = {
        "old_policy": make.recommendation(
            old,
            plcy,
            number="1",
            text="Old policy work",
            status="resolved_open",
            priority=True,
            issued_on=old.issued_on,
        ),
        "old_ice": make.recommendation(
            old, ice, number="2", text="Old ICE work", status="resolved_closed", issued_on=old.issued_on
        ),
        "new_policy": make.recommendation(new, plcy, number="1", text="New policy work", issued_on=new.issued_on),
        "new_ice": make.recommendation(
            new, ice, number="2", text="New ICE work", priority=True, issued_on=new.issued_on
        ),
    }
    db.session.commit()
    return made


def _listed(page: str, recs) -> list[str]:
    """The recommendations listed, in page order (the list only: the deadlines above link too)."""
    page = page[page.index('id="recs-heading"') :]
    found = [(page.find(f'href="/recommendations/{r.id}"'), name) for name, r in recs.items()]
    return [name for position, name in sorted(found) if position >= 0]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["new_policy", "new_ice", "old_policy", "old_ice"]),
        ("?office=DHS-ICE", ["new_ice", "old_ice"]),
        ("?status=open", ["new_policy", "new_ice", "old_policy"]),
        ("?status=resolved_closed", ["old_ice"]),
        ("?age=0", ["new_policy", "new_ice"]),
        ("?age=3", ["old_policy", "old_ice"]),
        ("?age=1", []),
        ("?priority=yes", ["new_ice", "old_policy"]),
        ("?priority=no&sort=oldest", ["old_ice", "new_policy"]),
        ("?report=oig-15-85", ["old_policy", "old_ice"]),
        ("?oig=GAO", ["new_policy", "new_ice"]),
        ("?sort=oldest", ["old_policy", "old_ice", "new_policy", "new_ice"]),
        ("?sort=office", ["new_policy", "old_policy", "new_ice", "old_ice"]),
        ("?sort=status", ["new_policy", "new_ice", "old_policy", "old_ice"]),
        ("?sort=priority", ["new_ice", "old_policy", "new_policy", "old_ice"]),
        ("?office=DHS-PLCY&status=open&sort=oldest", ["old_policy", "new_policy"]),
        ("?status=shrug&age=9&sort=sideways&priority=maybe", ["new_policy", "new_ice", "old_policy", "old_ice"]),
    ],
)
def test_the_list_is_filtered_and_sorted_from_the_url(client, login_as, recs, query, expected):
    login_as("oig_reviewer")
    response = client.get("/" + query)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _listed(page, recs) == expected
    if not expected:
        assert "No recommendation matches these filters." in page


def test_the_form_keeps_the_filters_and_the_export_is_the_list_as_shown(client, login_as, recs):
    login_as("oig_reviewer")
    page = client.get("/?office=DHS-PLCY&status=open&sort=oldest").get_data(as_text=True)
    assert '<option value="DHS-PLCY" selected>' in page and '<option value="open" selected>' in page
    assert '<option value="oldest" selected>' in page and "Clear filters" in page
    assert "/exports/recommendations.csv?office=DHS-PLCY&amp;status=open&amp;sort=oldest" in page
    body = client.get("/exports/recommendations.csv?office=DHS-PLCY&status=open&sort=oldest").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert [(r[0], r[3]) for r in rows[1:]] == [("OIG-15-85", "1"), ("OIG-26-01", "1")]
    xlsx = client.get("/exports/recommendations.xlsx?office=DHS-ICE&age=0")
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert [(r[0].value, r[3].value) for r in sheet.iter_rows(min_row=2)] == [("OIG-26-01", "2")]


def test_an_office_sees_only_its_own_and_no_office_filter(client, login_as, recs):
    login_as("action_office", office=recs["new_ice"].action_office)
    page = client.get("/?office=DHS-PLCY").get_data(as_text=True)
    assert _listed(page, recs) == ["new_ice", "old_ice"]
    assert 'id="f-office"' not in page
    body = client.get("/exports/recommendations.csv?office=DHS-PLCY").get_data(as_text=True)
    assert "Old policy work" not in body and "New ICE work" in body


def test_the_age_filter_is_the_dashboard_age_bucket(recs):
    on = today()
    for bucket in ("0", "1", "2", "3"):
        values = ListFilter(age=bucket).values(on)
        for days in (1, 150, 200, 366, 500, 730, 731, 900):
            issued = on - timedelta(days=days)
            inside = (values["f_age_after"] is None or issued > values["f_age_after"]) and (
                values["f_age_through"] is None or issued <= values["f_age_through"]
            )
            assert inside == (age_bucket(issued, on) == int(bucket)), (bucket, days)


def test_a_filtered_list_costs_a_fixed_number_of_queries(app, client, login_as, make, db, recs):
    login_as("oig_reviewer")
    url = "/?office=DHS-PLCY&status=open&priority=yes&sort=office"
    with count_queries(app) as small:
        client.get(url)
    plcy = recs["old_policy"].action_office
    for i in range(30):
        make.recommendation(office=plcy, priority=True, text=f"More {i}")
    db.session.commit()
    with count_queries(app) as large:
        page = client.get(url).get_data(as_text=True)
    assert large.count == small.count <= 15  # the budget of the main pages (14) and the filters count
    assert "31 recommendations, 25 a page." in page and "Page 1 of 2" in page


def test_the_filter_offers_each_issuing_oig_once_and_an_office_only_its_own(make, db, recs):
    """The OIG choices are walked a distinct value at a time (``choices_statement``): every value
    once, in order; an office is offered only those it has a recommendation under."""
    from app.dashboard.filters import choices_statement

    ice = recs["new_ice"].action_office
    treasury = make.report(number="OIG-26-07", issued_on=today(), oig_office="Treasury OIG")
    make.recommendation(treasury, ice, number="1", text="Treasury work", issued_on=treasury.issued_on)
    db.session.commit()
    every = [v for kind, v, _ in db.session.execute(choices_statement(True), {}) if kind == "oig"]
    policy = recs["new_policy"].action_office_id
    policy_oigs = [v for _, v, _ in db.session.execute(choices_statement(False), {"office_id": policy})]
    ice_oigs = [v for _, v, _ in db.session.execute(choices_statement(False), {"office_id": ice.id})]
    default = recs["old_policy"].report.oig_office
    assert every == sorted({default, "GAO", "Treasury OIG"})
    assert policy_oigs == sorted({default, "GAO"})
    assert ice_oigs == every
