"""Recommendations from an Oversight.gov-style CSV: checked whole, all or nothing, idempotent."""

import io
from pathlib import Path

import sqlalchemy as sa

from app.audit import AuditEvent
from app.imports.services import check, import_rows
from app.recommendations.models import Recommendation
from app.reports.models import Report

SAMPLE = Path(__file__).parents[1] / "data" / "oversight_sample.csv"


def _count(db, model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _upload(client, data: bytes, name="recs.csv", button="submit"):
    return client.post_form(
        "/imports/",
        {"file": (io.BytesIO(data), name), button: "1"},
        token_from="/imports/",
        content_type="multipart/form-data",
    )


def test_the_sample_of_real_recommendations_imports_and_a_second_import_changes_nothing(client, db, login_as):
    login_as("oig_reviewer")
    data = SAMPLE.read_bytes()
    response = _upload(client, data)
    assert response.status_code == 302
    assert _count(db, Recommendation) == 20
    rec = db.session.scalar(sa.select(Recommendation).join(Recommendation.report).where(Report.number == "OIG-15-85"))
    assert rec.status == "unresolved_open" and rec.action_office.name == "DHS Office of Policy"
    assert rec.issued_on.isoformat() == "2015-05-04"
    closed = db.session.scalar(
        sa.select(Recommendation).join(Recommendation.report).where(Report.number == "OIG-19-18")
    )
    assert closed.status == "resolved_closed"
    hiring = db.session.scalars(
        sa.select(Recommendation).join(Recommendation.report).where(Report.number == "GAO-24-106153")
    ).all()
    assert len(hiring) == 4 and {r.issued_on.isoformat() for r in hiring} == {"2024-06-11"}
    events = _count(db, AuditEvent)

    response = _upload(client, data)
    assert response.status_code == 302
    assert "Imported 0 new recommendations; 20 already present" in client.get("/imports/").get_data(as_text=True)
    assert _count(db, Recommendation) == 20
    assert _count(db, AuditEvent) == events


def test_a_bad_date_reports_that_line_and_imports_nothing(client, db, login_as):
    login_as("admin")
    lines = SAMPLE.read_text().splitlines()
    lines[5] = lines[5].replace("09/22/2021", "09/31/2021")
    response = _upload(client, ("\n".join(lines) + "\n").encode())
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was imported: 1 of 20 rows have errors" in page
    assert "“09/31/2021” is not a date" in page
    assert '<th scope="row" data-label="Line">6</th>' in page
    assert _count(db, Recommendation) == 0 and _count(db, Report) == 0


def test_check_only_reports_without_importing(client, db, login_as):
    login_as("oig_reviewer")
    response = _upload(client, SAMPLE.read_bytes(), button="check")
    assert response.status_code == 200
    assert "20 new recommendations would be imported" in response.get_data(as_text=True)
    assert _count(db, Recommendation) == 0


def test_row_errors_are_each_reported(app, db):
    data = (
        "Report Number,Report Title,Issue Date,Agency,Recommendation Number,Recommendation,Status,"
        "Questioned Costs,Ignored column\n"
        'R-1,Title,2024-01-05,DHS,1,Do it.,Open,"$1,250.50",x\n'
        "R-1,Title,2024-01-05,DHS,1,Do it again.,Open,,x\n"
        "R-2,Title,2024-01-05,DHS,1,Do it.,Maybe,,x\n"
        "R-3,Title,2024-01-05,,1,,Open,lots,x\n"
    ).encode()
    report = check(data)
    assert not report.ok
    assert [r.line for r in report.error_rows] == [3, 4, 5]
    assert report.rows[0].values["questioned_costs"] == 1250.50
    assert "the same recommendation is on line 2" in report.rows[1].errors
    assert any("status “Maybe”" in e for e in report.rows[2].errors)
    assert len(report.rows[3].errors) == 3  # no office, no text, bad amount


def test_missing_columns_and_non_csv_files_are_refused(app, db):
    assert check(b"Report Number,Title\nX,Y\n").file_errors[0].startswith("Missing columns")
    assert check(b"").file_errors == ["The file is empty."]
    assert check(b"\xff\xfe\x00binary").file_errors


def test_only_oig_and_admins_import(client, login_as):
    login_as("action_office")
    assert client.get("/imports/").status_code == 403


def test_no_file_rerenders_the_form_with_400(client, login_as):
    login_as("oig_reviewer")
    response = client.post_form("/imports/", {"submit": "1"}, token_from="/imports/")
    assert response.status_code == 400
    assert "Choose a CSV file." in response.get_data(as_text=True)


def test_import_rows_refuses_a_file_with_errors(app, db):
    import pytest

    with pytest.raises(ValueError):
        import_rows(check(b"Report Number\n1\n"))


_HEADER = "Report Number,Report Title,Issue Date,Agency,Recommendation Number,Recommendation,Status\n"


def test_an_office_name_two_offices_share_is_refused_until_the_file_gives_the_code(client, db, make, login_as):
    """Two offices may share a name, never a code: the file must say which one, or nothing is imported."""
    make.office(code="DHS-ICE-ERO", name="Enforcement and Removal Operations")
    ero = make.office(code="DHS-CBP-ERO", name="Enforcement and Removal Operations")
    login_as("oig_reviewer")
    row = "R-9,Title,2024-01-05,{office},1,Do it.,Open\n"
    response = _upload(client, (_HEADER + row.format(office="Enforcement and Removal Operations")).encode())
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was imported: 1 of 1 rows have errors" in page
    assert "is the name of 2 offices (DHS-ICE-ERO, DHS-CBP-ERO): write its code" in page
    assert _count(db, Recommendation) == 0

    response = _upload(client, (_HEADER + row.format(office="DHS-CBP-ERO")).encode())
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Recommendation)).action_office_id == ero.id


def test_an_office_spelled_in_another_case_is_the_office_already_there(client, db, make, login_as):
    from app.offices.models import Office

    policy = make.office(code="DHS-OFFICE-OF-POLICY", name="DHS Office of Policy")
    login_as("admin")
    offices = _count(db, Office)
    rows = (
        "R-7,Title,2024-01-05,DHS office of policy,1,Do it.,Open\n"
        "R-7,Title,2024-01-05,DHS Office-of-Policy,2,And this.,Open\n"
    )
    response = _upload(client, (_HEADER + rows).encode())
    assert response.status_code == 302
    assert [r.action_office_id for r in db.session.scalars(sa.select(Recommendation))] == [policy.id, policy.id]
    assert _count(db, Office) == offices


def test_an_office_without_a_letter_or_digit_is_an_error_on_its_line(app, db):
    report = check((_HEADER + "R-8,Title,2024-01-05,--,1,Do it.,Open\n").encode())
    assert report.rows[0].errors == ["agency or office “--” has no letter or digit"]
