"""OIG (and administrators) correct reports and recommendations as entered: every change audited
with its reason, stale edits refused with the 409 page; the action office cannot correct them."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent


def _report_form(report, **changes):
    data = {
        "number": report.number,
        "title": report.title,
        "issued_on": report.issued_on.isoformat(),
        "oig_office": report.oig_office,
        "agency": report.agency,
        "summary": report.summary,
        "version": report.version,
        "reason": "Typo in the title as entered.",
    }
    data.update(changes)
    return data


def _recommendation_form(rec, **changes):
    data = {
        "number": rec.number,
        "text": rec.text,
        "issued_on": rec.issued_on.isoformat(),
        "action_office_id": rec.action_office_id,
        "questioned_costs": "",
        "unsupported_costs": "",
        "funds_put_to_better_use": "",
        "version": rec.version,
        "reason": "The dollar figures were left out.",
    }
    if rec.priority:
        data["priority"] = "y"
    data.update(changes)
    return data


@pytest.mark.parametrize("role", ["oig_reviewer", "admin"])
def test_oig_and_admins_correct_a_report_with_a_reason(client, login_as, make, db, role):
    rec = make.recommendation()
    report = rec.report
    old_issued = report.issued_on
    login_as(role)
    assert "Correct the report" in client.get(f"/reports/{report.id}").get_data(as_text=True)
    page = client.get(f"/reports/{report.id}/edit")
    assert page.status_code == 200 and 'name="version"' in page.get_data(as_text=True)
    response = client.post_form(
        f"/reports/{report.id}/edit", _report_form(report, title="Corrected title", issued_on="2015-05-04")
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert report.title == "Corrected title" and report.issued_on.isoformat() == "2015-05-04"
    assert report.version == 2
    # The recommendation dated as the report was moves with it: its clocks run from that day.
    assert rec.issued_on.isoformat() == "2015-05-04" and old_issued.isoformat() != "2015-05-04"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "report.correct"))
    assert event.after_data["reason"] == "Typo in the title as entered."
    assert event.before_data["title"] != "Corrected title" and event.after_data["version"] == 2
    moved = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "recommendation.correct"))
    assert moved.recommendation_id == rec.id and "issue date" in moved.after_data["reason"]


def test_a_correction_needs_a_reason_and_a_unique_number(client, login_as, make, db):
    report = make.report(number="OIG-15-85")
    other = make.report(number="OIG-16-01")
    login_as("oig_reviewer")
    response = client.post_form(f"/reports/{report.id}/edit", _report_form(report, reason="  "))
    assert response.status_code == 400 and "Say why this is corrected" in response.get_data(as_text=True)
    response = client.post_form(f"/reports/{report.id}/edit", _report_form(report, number="oig-16-01"))
    assert response.status_code == 400 and "already exists" in response.get_data(as_text=True)
    db.session.expire_all()
    assert report.number == "OIG-15-85" and other.number == "OIG-16-01" and report.version == 1
    assert not db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "report.correct"))


def test_oig_corrects_a_recommendation_and_its_dollar_fields(client, login_as, make, db):
    rec = make.recommendation(priority=False)
    login_as("oig_reviewer")
    assert "Correct the recommendation" in client.get(f"/recommendations/{rec.id}").get_data(as_text=True)
    response = client.post_form(
        f"/reports/recommendations/{rec.id}/edit",
        _recommendation_form(
            rec, text="Corrected text.", priority="y", questioned_costs="1250.50", funds_put_to_better_use="99"
        ),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert rec.text == "Corrected text." and rec.priority and rec.questioned_costs == Decimal("1250.50")
    assert rec.funds_put_to_better_use == Decimal("99")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "recommendation.correct"))
    assert event.recommendation_id == rec.id and event.after_data["reason"] == "The dollar figures were left out."
    history = client.get(f"/recommendations/{rec.id}/history").get_data(as_text=True)
    assert "corrected the recommendation: " in history and "reason: “The dollar figures were left out.”" in history


def test_oig_corrects_unsupported_costs_shown_on_the_page_and_audited(client, login_as, make, db):
    rec = make.recommendation(questioned_costs=Decimal("5000"), unsupported_costs=Decimal("1200.00"))
    login_as("oig_reviewer")
    page = client.get(f"/reports/recommendations/{rec.id}/edit").get_data(as_text=True)
    # The field is on the page, with its label, its hint and the stored amount.
    assert 'name="unsupported_costs"' in page and "Of which unsupported costs (USD)" in page
    assert "not supported by adequate documentation" in page and 'value="1200.00"' in page
    response = client.post_form(
        f"/reports/recommendations/{rec.id}/edit",
        _recommendation_form(
            rec, questioned_costs="5000", unsupported_costs="800.25", reason="Unsupported amount was mistyped."
        ),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert rec.unsupported_costs == Decimal("800.25") and rec.questioned_costs == Decimal("5000")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "recommendation.correct"))
    assert Decimal(event.before_data["unsupported_costs"]) == Decimal("1200.00")
    assert Decimal(event.after_data["unsupported_costs"]) == Decimal("800.25")
    assert event.after_data["reason"] == "Unsupported amount was mistyped."
    history = client.get(f"/recommendations/{rec.id}/history").get_data(as_text=True)
    assert "unsupported costs" in history


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1", "Enter an amount from 0"),
        ("lots", "Not a valid decimal value"),
        ("10.005", "at most two decimal places"),
        ("NaN", "Enter an amount from 0"),
        ("Infinity", "Enter an amount from 0"),
        ("1e309", "Enter an amount from 0"),
        ("6000", "Unsupported costs cannot exceed the questioned costs."),
    ],
)
def test_bad_unsupported_costs_are_answered_next_to_the_field_and_change_nothing(
    client, login_as, make, db, value, message
):
    rec = make.recommendation(questioned_costs=Decimal("5000"), unsupported_costs=Decimal("1200.00"))
    login_as("oig_reviewer")
    response = client.post_form(
        f"/reports/recommendations/{rec.id}/edit",
        _recommendation_form(rec, questioned_costs="5000", unsupported_costs=value, text="Changed too."),
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and message in body
    # Next to the field (its error element), and the entry stays in the box to be fixed.
    error = body[body.index('id="unsupported_costs-error"') :]
    assert message in error[: error.index("</span>")]
    assert f'value="{value}"' in body
    db.session.expire_all()
    assert rec.unsupported_costs == Decimal("1200.00") and rec.text == "Develop and implement a plan."
    assert rec.version == 1
    assert not db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "recommendation.correct"))


@pytest.mark.parametrize("role", ["action_office", "manager"])
def test_the_office_cannot_correct_reports_or_recommendations(client, login_as, make, db, role):
    rec = make.recommendation()
    user = login_as(role, office=rec.action_office)
    assert client.get(f"/reports/{rec.report_id}/edit").status_code == 403
    assert client.post_form(f"/reports/{rec.report_id}/edit", _report_form(rec.report, title="Mine")).status_code == 403
    assert client.get(f"/reports/recommendations/{rec.id}/edit").status_code == 403
    response = client.post_form(f"/reports/recommendations/{rec.id}/edit", _recommendation_form(rec, text="Ours"))
    assert response.status_code == 403
    assert "Correct the recommendation" not in client.get(f"/recommendations/{rec.id}").get_data(as_text=True)
    db.session.expire_all()
    assert rec.text != "Ours" and rec.report.title != "Mine" and user.role == role


def test_a_stale_correction_is_refused_with_what_changed(client, login_as, make, db):
    rec = make.recommendation(text="Original text.")
    db.session.commit()
    opened = rec.version
    other = make.user("oig_reviewer", name="Olga Other")
    db.session.commit()
    # Someone else corrects the text after this user opened the form.
    from app.reports.services import correct_recommendation

    correct_recommendation(rec, other, reason="Their fix.", text="Their text.")
    db.session.commit()
    login_as("oig_reviewer")
    data = _recommendation_form(rec, text="My text.", version=opened)
    response = client.post_form(f"/reports/recommendations/{rec.id}/edit", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "someone changed this recommendation after you opened it" in page
    assert "My text." in page and "Their text." in page and "Olga Other" in page
    assert f'name="version" type="hidden" value="{opened + 1}"' in page
    db.session.expire_all()
    assert rec.text == "Their text."
    # Saved again from the page (at the version it now carries): goes through.
    response = client.post_form(f"/reports/recommendations/{rec.id}/edit", {**data, "version": opened + 1})
    assert response.status_code == 302
    db.session.expire_all()
    assert rec.text == "My text."


def test_two_saves_racing_past_the_check_lose_nothing(app, make, db):
    """The database has the last word: an UPDATE from a version read before another save
    matches no row."""
    from sqlalchemy.orm.exc import StaleDataError
    from app.reports.models import Report

    report = make.report()
    db.session.commit()
    assert report.version == 1  # read now, as a form would be built
    with db.engine.begin() as other:
        other.execute(sa.update(Report).where(Report.id == report.id).values(version=2, title="Saved meanwhile"))
    report.title = "Mine"
    with pytest.raises(StaleDataError):
        db.session.commit()
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Report, report.id).title == "Saved meanwhile"


def test_a_race_outside_an_edit_form_answers_409_not_500(app, client, login_as, make, db, monkeypatch):
    """A save that loses a race where no form guards the record changes nothing and says so."""
    from sqlalchemy.orm.exc import StaleDataError
    from app.recommendations import routes

    rec = make.recommendation()
    db.session.commit()
    login_as("oig_reviewer")

    def racing(*args, **kwargs):
        raise StaleDataError("UPDATE statement on table 'recommendations' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr(routes, "history", racing)
    response = client.get(f"/recommendations/{rec.id}")
    assert response.status_code == 409 and "changed by someone else at the same moment" in response.get_data(
        as_text=True
    )
