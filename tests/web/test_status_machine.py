"""The status machine: every (role, transition) pair, tried through the server."""

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.recommendations.models import STATUSES, TRANSITIONS, Recommendation, StatusChange
from tests.factories import days

ROLES = ("action_office", "oig_reviewer", "manager", "admin")
PAIRS = [(a, b) for a in STATUSES for b in STATUSES]


def _set_status(db, rec, status):
    db.session.execute(
        sa.update(Recommendation)
        .where(Recommendation.id == rec.id)
        .values(status=status, management_decision_on=None, final_action_on=None)
    )
    db.session.commit()


def _state(db, rec_id):
    db.session.expire_all()
    rec = db.session.get(Recommendation, rec_id)
    changes = db.session.scalar(sa.select(sa.func.count()).select_from(StatusChange))
    return rec.status, rec.management_decision_on, rec.final_action_on, changes


def _last_event(db):
    return db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()


@pytest.mark.parametrize("role", ROLES)
def test_every_role_and_transition_pair(client, login_as, make, db, role):
    office = make.office("DHS-PLCY")
    rec = make.recommendation(office=office)
    login_as(role, office=None if role == "admin" else (office if role != "oig_reviewer" else None))
    failures = []
    for from_status, to_status in PAIRS:
        _set_status(db, rec, from_status)
        before = _state(db, rec.id)
        response = client.post_form(
            f"/recommendations/{rec.id}/status",
            {"to_status": to_status, "reason": f"{from_status} to {to_status}", "close_anyway": "y"},
        )
        after = _state(db, rec.id)
        event = _last_event(db)
        legal = (from_status, to_status) in TRANSITIONS
        case = f"{role}: {from_status} -> {to_status}"
        if role == "oig_reviewer" and legal:
            ok = (
                response.status_code == 302
                and after[0] == to_status
                and after[3] == before[3] + 1
                and event.action == "recommendation.status"
                and event.recommendation_id == rec.id
                and event.after_data["reason"] == f"{from_status} to {to_status}"
            )
        else:
            expected = 403 if role != "oig_reviewer" else 409
            action = "access.denied" if expected == 403 else "access.conflict"
            ok = (
                response.status_code == expected
                and after == before
                and event.action == action
                and event.recommendation_id == rec.id
                and event.after_data["to_status"] == to_status
                and event.after_data["from_status"] == from_status
            )
        if not ok:
            failures.append(f"{case}: {response.status_code}, {before} -> {after}, {event.action}")
    assert failures == []


def test_accepting_sets_the_decision_date_and_closing_the_final_action_date(client, login_as, make, db):
    rec = make.recommendation()
    login_as("oig_reviewer")
    client.post_form(f"/recommendations/{rec.id}/status", {"to_status": "resolved_open", "reason": "Plan fine"})
    db.session.expire_all()
    assert rec.status == "resolved_open" and rec.management_decision_on == days(0)
    for to in ("closure_pending", "resolved_closed"):
        assert (
            client.post_form(
                f"/recommendations/{rec.id}/status", {"to_status": to, "reason": "Verified", "close_anyway": "y"}
            ).status_code
            == 302
        )
    db.session.expire_all()
    assert rec.status == "resolved_closed" and rec.final_action_on == days(0)
    history = db.session.scalars(sa.select(StatusChange).order_by(StatusChange.id)).all()
    assert [(h.from_status, h.to_status) for h in history] == [
        ("unresolved_open", "resolved_open"),
        ("resolved_open", "closure_pending"),
        ("closure_pending", "resolved_closed"),
    ]


def test_reopening_a_resolved_recommendation_clears_the_decision_date(client, login_as, make, db):
    rec = make.recommendation(status="resolved_open", management_decision_on=days(-10))
    login_as("oig_reviewer")
    client.post_form(
        f"/recommendations/{rec.id}/status",
        {"to_status": "unresolved_open", "reason": "The plan no longer covers data quality."},
    )
    db.session.expire_all()
    assert rec.status == "unresolved_open" and rec.management_decision_on is None
    event = _last_event(db)
    assert event.before_data["management_decision_on"] == days(-10).isoformat()


@pytest.mark.parametrize(
    "data",
    [
        {"to_status": "resolved_open", "reason": ""},
        {"to_status": "resolved_open", "reason": "   "},
        {"to_status": "promoted", "reason": "Because"},
        {"reason": "Because"},
    ],
)
def test_bad_status_forms_are_answered_next_to_the_field(client, login_as, make, db, data):
    rec = make.recommendation()
    login_as("oig_reviewer")
    response = client.post_form(f"/recommendations/{rec.id}/status", data)
    assert response.status_code == 400
    assert "usa-error-message" in response.get_data(as_text=True)
    db.session.expire_all()
    assert rec.status == "unresolved_open"


def test_status_form_offers_only_legal_moves_and_only_to_oig(client, login_as, make, db):
    rec = make.recommendation(status="closure_pending")
    db.session.commit()
    login_as("oig_reviewer")
    page = client.get(f"/recommendations/{rec.id}/status").get_data(as_text=True)
    assert 'value="resolved_closed"' in page and 'value="resolved_open"' in page
    assert 'value="unresolved_open"' not in page
    assert "Change status" in client.get(f"/recommendations/{rec.id}").get_data(as_text=True)


def test_office_staff_see_no_status_form(client, login_as, make, db):
    rec = make.recommendation()
    login_as("action_office")
    assert client.get(f"/recommendations/{rec.id}/status").status_code == 403
    assert f"/recommendations/{rec.id}/status" not in client.get(f"/recommendations/{rec.id}").get_data(as_text=True)


@pytest.mark.parametrize(
    "from_status, to_status",
    [
        ("unresolved_open", "closed_not_implemented"),
        ("resolved_open", "closed_not_implemented"),
        ("closure_pending", "resolved_closed"),
    ],
)
def test_closing_keeps_the_day_it_was_closed(client, login_as, make, db, from_status, to_status):
    rec = make.recommendation()
    _set_status(db, rec, from_status)
    login_as("oig_reviewer")
    response = client.post_form(
        f"/recommendations/{rec.id}/status",
        {"to_status": to_status, "reason": "Overtaken by events.", "close_anyway": "y"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    rec = db.session.get(Recommendation, rec.id)
    assert rec.closed_on == days(0)
    assert _last_event(db).after_data["closed_on"] == days(0).isoformat()
