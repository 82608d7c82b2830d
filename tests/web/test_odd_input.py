"""Odd input: control characters are refused where text comes in, and every export survives
any string already stored (written outside the forms, or before they refused it)."""

import io
import json
import zipfile

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.api.models import ApiToken
from app.calendar.models import CalendarToken
from tests.factories import PASSWORD

CONTROL = [chr(c) for c in range(32)] + ["\x7f", "\ufffe", "\uffff", "\u2028", "\ufeff"]
EXPORT_URLS = [
    "/exports/recommendations.csv",
    "/exports/recommendations.xlsx",
    "/exports/milestones.csv",
    "/exports/milestones.xlsx",
    "/exports/metric-readings.csv",
    "/exports/metric-readings.xlsx",
    "/exports/audit-trail.csv",
    "/exports/audit-trail.xlsx",
    "/exports/semiannual.csv",
    "/exports/semiannual.xlsx",
]


def _texts(db):
    # Anything a database can hold: PostgreSQL refuses NUL, neither stores a lone surrogate.
    refused = "\x00" if db.engine.dialect.name == "postgresql" else ""
    plain = st.characters(blacklist_categories=("Cs",), blacklist_characters=refused)
    odd = st.sampled_from([c for c in CONTROL if c not in refused] + ["报", "=", '"', "'", "<", "&", " "])
    return st.text(st.one_of(plain, odd), min_size=1, max_size=30)


@pytest.fixture
def stored(app, db, make, client):
    """A recommendation with a line, a milestone, a metric and a reading; a manager with an API
    token and a calendar feed; signed in."""
    manager = make.user("manager", email="odd-manager@example.gov")
    rec = make.recommendation()
    line = make.line(rec)
    milestone = make.milestone(line)
    db.session.commit()
    _, api_secret = ApiToken.issue(manager, "read", "odd")
    _, feed_secret = CalendarToken.issue(manager)
    db.session.commit()
    client.post_form("/sign-in", {"email": manager.email, "password": PASSWORD}, token_from="/sign-in")
    return {
        "manager": manager,
        "rec": rec.id,
        "line": line.id,
        "milestone": milestone.id,
        "api": {"Authorization": f"Bearer {api_secret}"},
        "feed": f"/calendar/feed/{feed_secret}.ics",
    }


def _store(db, ids, text):
    """Write ``text`` into the text columns of the records the exports show, past the forms."""
    # One parameter per column: PostgreSQL types a parameter once (varchar and text differ).
    params = {"t": text, "t2": text, "rec": ids["rec"], "line": ids["line"], "m": ids["milestone"]}
    db.session.execute(sa.text("UPDATE milestones SET title = :t WHERE id = :m"), params)
    db.session.execute(sa.text("UPDATE lines_of_effort SET title = :t, objective = :t2 WHERE id = :line"), params)
    db.session.execute(
        sa.text("UPDATE recommendations SET text = :t, concurrence_response = :t2 WHERE id = :rec"), params
    )
    db.session.execute(
        sa.text(
            "UPDATE reports SET title = :t, oig_office = :t2 WHERE id = "
            "(SELECT report_id FROM recommendations WHERE id = :rec)"
        ),
        params,
    )
    db.session.commit()


def _check(url, response):
    assert response.status_code == 200, (url, response.status_code)
    body = response.data
    if url.endswith(".xlsx") or url.endswith(".docx"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            assert archive.testzip() is None
    if url.endswith(".xlsx"):
        from openpyxl import load_workbook

        load_workbook(io.BytesIO(body))
    if url.endswith(".docx"):
        import docx

        docx.Document(io.BytesIO(body))
    if url.endswith(".pdf"):
        assert body.startswith(b"%PDF")
    if url.endswith(".ics"):
        from icalendar import Calendar

        Calendar.from_ical(body)
    if url.startswith("/api/"):
        json.loads(body)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_export_survives_any_stored_string(app, db, client, stored, data):
    text = data.draw(_texts(db))
    _store(db, stored, text)
    urls = [
        *EXPORT_URLS,
        f"/exports/recommendations/{stored['rec']}/plan.docx",
        f"/exports/recommendations/{stored['rec']}/plan.pdf",
    ]
    for url in urls:
        _check(url, client.get(url))
    _check(stored["feed"], client.get(stored["feed"]))
    for url in (
        f"/api/v1/milestones/{stored['milestone']}",
        f"/api/v1/recommendations/{stored['rec']}",
        "/api/v1/milestones",
        "/api/v1/recommendations",
        "/api/v1/reports",
    ):
        _check(url, client.get(url, headers=stored["api"]))


@pytest.mark.parametrize("char", ["\x01", "\x02", "\x1b", "\x0b"])  # NUL: PostgreSQL refuses to store it
def test_a_milestone_titled_with_a_control_character_still_exports(app, db, client, stored, char):
    _store(db, stored, f"Train{char}staff")
    for url in ("/exports/milestones.xlsx", f"/exports/recommendations/{stored['rec']}/plan.docx"):
        response = client.get(url)
        _check(url, response)
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(client.get("/exports/milestones.xlsx").data)).active
    assert "Train\ufffdstaff" in [c.value for row in sheet.iter_rows() for c in row]


# --- refused at the door ----------------------------------------------------------------------


@pytest.fixture
def plan(make, db):
    rec = make.recommendation()
    line = make.line(rec)
    db.session.commit()
    return rec, line


def _milestone_form(rec, **changes):
    from tests.web.test_milestones import new_milestone_data

    return new_milestone_data(office_id=rec.action_office_id, **changes)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("title", "Train\x01staff", "control character (U+0001)"),
        ("title", "Train\x00staff", "control character (U+0000)"),
        ("title", "Train\nstaff", "must be on one line"),
        ("description", "Two\x1bparagraphs", "control character (U+001B)"),
        ("expected_evidence", "A\x7fB\x08", "control character (U+0008)"),
    ],
)
def test_a_form_refuses_control_characters_next_to_the_field(client, login_as, db, plan, field, value, message):
    from app.milestones.models import Milestone

    rec, line = plan
    login_as("action_office", office=rec.action_office)
    url = f"/lines/{line.id}/milestones/new"
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Milestone))
    response = client.post_form(url, _milestone_form(rec, **{field: value}), token_from=url)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    if "\x00" in value:  # refused before any form reads it, naming the field
        assert f"The field “{field}” contains a control character (U+0000)" in page
    else:
        assert message in page.split(f'id="{field}-error"')[1].split("</span>")[0]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Milestone)) == before


def test_line_breaks_and_tabs_are_kept_in_a_multi_line_field(client, login_as, db, plan):
    from app.milestones.models import Milestone

    rec, line = plan
    login_as("action_office", office=rec.action_office)
    url = f"/lines/{line.id}/milestones/new"
    response = client.post_form(url, _milestone_form(rec, description="First\r\n\tsecond"), token_from=url)
    assert response.status_code == 302
    assert "\tsecond" in db.session.scalar(
        sa.select(Milestone.description).where(Milestone.line_of_effort_id == line.id)
    )


@pytest.mark.parametrize(
    "query, name",
    [
        ("?q=ok&q=bad%01value", "q"),  # every value of a key, not only the first
        ("?status=open&bad%02key=1", "bad\x02key"),
        ("?q=two%0Alines", "q"),
    ],
)
def test_a_query_string_with_a_control_character_is_a_400_naming_the_parameter(client, login_as, query, name):
    login_as("manager")
    response = client.get("/exports/recommendations.csv" + query)
    assert response.status_code == 400
    assert "The query parameter “" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "body, message",
    [
        ({"status": "in_progress\x01"}, "`status` contains a control character (U+0001)"),
        ({"status\x03": "x"}, "A key in the body contains a control character (U+0003)"),
        ({"status": "in_progress", "version": [1, {"deep": "a\x1fb"}]}, "`deep` contains a control character"),
    ],
)
def test_an_api_body_with_a_control_character_is_a_400_naming_the_field(client, db, make, body, message):
    rec = make.recommendation()
    milestone = make.milestone(make.line(rec))
    user = make.user("action_office", office=rec.action_office)
    db.session.commit()
    _, secret = ApiToken.issue(user, "write", "odd")
    db.session.commit()
    response = client.patch(
        f"/api/v1/milestones/{milestone.id}", json=body, headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 400 and message in response.json["message"], response.json


def test_a_csv_import_refuses_control_characters_in_any_cell_and_in_names(app, db):
    from app.imports.services import check

    head = "Report Number,Report Title,Issue Date,Agency,Recommendation Number,Recommendation,Status,Ignored\n"
    report = check(
        (
            head + "R-1,Title,2024-01-05,DHS,1,Do it.,Open,x\x01y\n"
            'R-2,Ti\x00tle,2024-01-05,DHS,1,"Two\nlines",Open,x\n'
            "R-3,Title,2024-01-05,DHS,1,Do it.,Open,x\n"
        ).encode()
    )
    assert [r.line for r in report.error_rows] == [2, 4]  # a record is numbered by its last line
    assert report.rows[0].errors == [
        "column “Ignored” contains a control character (U+0001), which is not "
        "allowed. Remove it (it is often pasted in invisibly) and try again."
    ]
    assert any(e.startswith("report title contains a control character (U+0000)") for e in report.rows[1].errors)
    assert len(report.rows[1].errors) == 1  # the line break in the recommendation's text is fine
    named = check(
        (
            "Report Number,Report Title,Issue Date,Agency,Recommendation Number,Recomm\x02endation,"
            "Status\nR-1,T,2024-01-05,DHS,1,Do it.,Open\n"
        ).encode()
    )
    assert named.file_errors[0].startswith("The name of column 6 contains a control character (U+0002)")


def test_a_metric_csv_import_refuses_control_characters(app, db):
    from app.metrics.csv_import import check_csv

    result = check_csv("period,component,metric,value,note\n2026-Q1,TOTAL,1,5,ok\x0bnot\n", [])
    assert any("note contains a control character (U+000B)" in p for _, p in result.problems)
    header = check_csv("period,component,metric,val\x01ue\n", [])
    assert "the name of column 4 contains a control character (U+0001)" in header.problems[0][1]


def test_deeply_nested_json_is_a_400_not_a_500(client, db, make):
    rec = make.recommendation()
    milestone = make.milestone(make.line(rec))
    user = make.user("action_office", office=rec.action_office)
    db.session.commit()
    _, secret = ApiToken.issue(user, "write", "odd")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    for body in ("[" * 100_000, "{" * 50_000, '{"status": ', "\x00"):
        response = client.patch(f"/api/v1/milestones/{milestone.id}", data=body, headers=headers)
        assert response.status_code == 400 and response.json["message"] == "The body is not valid JSON."
    response = client.post("/api/v1/metrics/1/readings", data="[" * 100_000, headers=headers)
    assert response.status_code in (400, 404)


# --- names in headers ------------------------------------------------------------------------


@pytest.mark.parametrize("number", ['Q"; filename=evil.html; x="', "报告-2026", "OIG-15-85"])
def test_download_names_follow_rfc_6266_through_the_real_server(app, db, make, live_server, number):
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request

    from werkzeug.http import parse_options_header

    report = make.report(number=number)
    rec = make.recommendation(report=report, number="1")
    user = make.user("manager", email="names@example.gov")
    db.session.commit()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(live_server + "/sign-in", timeout=10).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    opener.open(
        live_server + "/sign-in",
        data=urllib.parse.urlencode({"email": user.email, "password": PASSWORD, "csrf_token": token}).encode(),
        timeout=10,
    )
    with opener.open(f"{live_server}/exports/recommendations/{rec.id}/plan.docx", timeout=10) as response:
        assert response.status == 200
        header = response.headers["Content-Disposition"]
        response.read()
    header.encode("ascii")  # nothing but ASCII in a header
    kind, params = parse_options_header(header)
    assert kind == "attachment" and set(params) == {"filename"}  # werkzeug folds filename* into filename
    assert params["filename"] == f"{number}-rec-1-corrective-action-plan.docx"
    fallback = re.search(r'filename="([^"]*)"', header).group(1)
    assert fallback.endswith("-rec-1-corrective-action-plan.docx") and not set('";\\') & set(fallback)
    assert header.count("filename=") == 1 and header.count("filename*=UTF-8''") == 1


def test_every_header_name_goes_through_one_helper():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "app"
    offenders = [
        str(p)
        for p in root.rglob("*.py")
        if 'filename="{' in p.read_text()
        or "download_name=" in p.read_text().replace("download_name=version.original_filename", "")
    ]
    assert offenders == []


# --- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [("due_on", "9999-12-31"), ("due_on", "0001-01-01"), ("start_on", "1989-12-31"), ("due_on", "2101-01-01")],
)
def test_a_form_date_outside_1990_to_2100_is_refused_next_to_the_field(client, login_as, db, plan, field, value):
    from app.milestones.models import Milestone

    rec, line = plan
    login_as("action_office", office=rec.action_office)
    url = f"/lines/{line.id}/milestones/new"
    response = client.post_form(url, _milestone_form(rec, **{field: value}), token_from=url)
    assert response.status_code == 400
    error = response.get_data(as_text=True).split(f'id="{field}-error"')[1].split("</span>")[0]
    assert "Enter a date between 1990 and 2100." in error
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Milestone)) == 0


def test_an_imported_date_outside_1990_to_2100_is_refused(app, db):
    from app.imports.services import check

    report = check(
        b"Report Number,Report Title,Issue Date,Agency,Recommendation Number,Recommendation,Status\n"
        b"R-1,Title,12/31/9999,DHS,1,Do it.,Open\nR-2,Title,1850-01-01,DHS,1,Do it.,Open\n"
        b"R-3,Title,2024-01-05,DHS,1,Do it.,Open\n"
    )
    assert [r.line for r in report.error_rows] == [2, 3]
    assert report.rows[0].errors == ["issue date: “12/31/9999” is not between 1990 and 2100"]


def test_an_api_reading_period_outside_1990_to_2100_is_refused(app, db):
    from app.metrics.periods import parse_period

    with pytest.raises(ValueError, match="not between 1990 and 2100"):
        parse_period("quarterly", "9999-Q1")
    assert parse_period("quarterly", "2026-Q1") == "2026-Q1"


def test_the_calendar_feed_survives_a_date_stored_out_of_range(app, db, client, stored):
    from icalendar import Calendar

    db.session.execute(
        sa.text("UPDATE milestones SET current_due_on = :d WHERE id = :m"),
        {"d": "9999-12-31", "m": stored["milestone"]},
    )
    db.session.commit()
    response = client.get(stored["feed"])
    assert response.status_code == 200
    Calendar.from_ical(response.data)
