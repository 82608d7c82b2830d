"""OIG reviewers and admins add reports and their recommendations."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.recommendations.models import Recommendation
from app.reports.models import Report

REPORT = {
    "number": "OIG-24-01",
    "title": "A new audit",
    "issued_on": "2024-03-15",
    "oig_office": "DHS Office of Inspector General",
    "agency": "DHS",
    "summary": "",
}


@pytest.mark.parametrize("role", ["oig_reviewer", "admin"])
def test_oig_and_admins_add_a_report_with_recommendations(client, login_as, make, db, role):
    office = make.office("DHS-PLCY", name="DHS Office of Policy")
    login_as(role)
    response = client.post_form("/reports/new", REPORT)
    assert response.status_code == 302
    report = db.session.scalar(sa.select(Report).where(Report.number == "OIG-24-01"))
    assert response.headers["Location"] == f"/reports/{report.id}/recommendations/new"
    response = client.post_form(
        f"/reports/{report.id}/recommendations/new",
        {
            "number": "1",
            "text": "Develop a plan.",
            "action_office_id": office.id,
            "priority": "y",
            "questioned_costs": "125000.50",
            "unsupported_costs": "20000",
            "funds_put_to_better_use": "",
        },
    )
    assert response.status_code == 302
    rec = db.session.scalar(sa.select(Recommendation).where(Recommendation.report_id == report.id))
    assert rec.priority and rec.questioned_costs == Decimal("125000.50") and rec.funds_put_to_better_use is None
    assert rec.unsupported_costs == Decimal("20000")
    assert rec.status == "unresolved_open" and rec.issued_on.isoformat() == "2024-03-15"
    page = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "$125,000.50" in page and "of which unsupported $20,000.00" in page and "DHS Office of Policy" in page
    assert "OIG-24-01" in client.get("/reports/").get_data(as_text=True)
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["report.create", "recommendation.create"]


@pytest.mark.parametrize("role", ["action_office", "manager"])
def test_the_office_cannot_add_reports(client, login_as, db, role):
    login_as(role)
    assert client.post_form("/reports/new", REPORT).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("number", "", "This field is required."),
        ("issued_on", "15/03/2024", "Enter the issue date as YYYY-MM-DD."),
        ("title", "x" * 501, "Field cannot be longer than 500 characters."),
    ],
)
def test_bad_report_input_is_answered_next_to_the_field(client, login_as, db, field, value, message):
    login_as("oig_reviewer")
    response = client.post_form("/reports/new", {**REPORT, field: value})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0


def test_duplicate_numbers_and_bad_amounts_are_refused(client, login_as, make, db):
    office = make.office("DHS-PLCY")
    rec = make.recommendation(office=office, number="1")
    login_as("oig_reviewer")
    dup = client.post_form("/reports/new", {**REPORT, "number": rec.report.number})
    assert dup.status_code == 400 and "already exists" in dup.get_data(as_text=True)
    url = f"/reports/{rec.report_id}/recommendations/new"
    base = {"number": "2", "text": "Do it.", "action_office_id": office.id}
    for data, message in [
        ({"number": "1"}, "already has a recommendation 1"),
        ({"questioned_costs": "-5"}, "Enter an amount"),
        ({"questioned_costs": "lots"}, "Not a valid decimal value"),
        ({"action_office_id": "99999"}, "Not a valid choice"),
    ]:
        response = client.post_form(url, {**base, **data})
        assert response.status_code == 400 and message in response.get_data(as_text=True), data
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Recommendation)) == 1


@pytest.mark.parametrize(
    "money, message",
    [
        (
            {"questioned_costs": "100", "unsupported_costs": "100.01"},
            "Unsupported costs cannot exceed the questioned costs.",
        ),
        ({"questioned_costs": "", "unsupported_costs": "5"}, "Unsupported costs are part of the questioned costs"),
        ({"questioned_costs": "100", "unsupported_costs": "-1"}, "Enter an amount from 0"),
        ({"questioned_costs": "100", "unsupported_costs": "10.001"}, "at most two decimal places"),
    ],
)
def test_unsupported_costs_are_part_of_the_questioned_costs(client, login_as, make, db, money, message):
    office = make.office("DHS-PLCY")
    report = make.report()
    db.session.commit()
    login_as("oig_reviewer")
    response = client.post_form(
        f"/reports/{report.id}/recommendations/new",
        {"number": "1", "text": "Develop a plan.", "action_office_id": office.id, **money},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and message in body and 'id="unsupported_costs-error"' in body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Recommendation)) == 0
