"""Every editable record refuses a stale save with the same 409 page, and a metric's target
changed by the office after acceptance waits for a manager who did not ask for it."""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from app import audit
from app.audit import AuditEvent
from app.metrics.models import TargetChange
from app.metrics.definitions import create_metric
from app.metrics.services import save_reading
from app.metrics.values import ParsedValue
from app.recommendations.services import update_response
from app.timeutil import today


def _metric(make, db, rec=None, **kw):
    rec = rec or make.recommendation(status="resolved_open")
    line = make.line(rec, title="Data collection")
    data = dict(
        name="Share of releases with a recorded basis",
        kind="outcome",
        unit="%",
        direction="higher",
        baseline_value=Decimal(0),
        baseline_period="FY2014",
        target_value=Decimal(90),
        target_on=None,
        frequency="quarterly",
        components="ICE,CBP",
        data_source="EARM",
        collect_from=date(2025, 1, 1),
    )
    data.update(kw)
    metric = create_metric(line, data, today(), sync=False)
    db.session.commit()
    return metric


def _metric_form(metric, **changes):
    data = {
        "line_of_effort_id": metric.line_of_effort_id,
        "name": metric.name,
        "kind": metric.kind,
        "unit": metric.unit,
        "direction": metric.direction,
        "baseline_value": "0",
        "baseline_period": metric.baseline_period,
        "target_value": "90",
        "target_on": "",
        "frequency": metric.frequency,
        "components": "ICE, CBP",
        "data_source": metric.data_source,
        "collect_from": metric.collect_from.isoformat(),
        "version": metric.version,
        "justification": "",
    }
    data.update(changes)
    return data


def _conflict(response, *texts):
    page = response.get_data(as_text=True)
    assert response.status_code == 409, page[:2000]
    assert "after you opened it" in page and "Your entry" in page and "Stored now" in page
    for text in texts:
        assert text in page, text
    return page


def test_a_stale_line_of_effort_edit_shows_what_changed(client, login_as, make, db):
    rec = make.recommendation()
    line = make.line(rec, title="Governance")
    other = make.user("action_office", office=rec.action_office, name="Ana Other")
    db.session.commit()
    before = line.version
    line.title = "Governance and standards"
    db.session.flush()
    audit.record(
        "line_of_effort.update",
        line,
        before={"title": "Governance"},
        after={"title": "Governance and standards"},
        recommendation_id=rec.id,
        actor=other,
    )
    db.session.commit()
    login_as("action_office", office=rec.action_office)
    data = {
        "title": "Governance (mine)",
        "kind": "governance",
        "objective": "",
        "description": "",
        "lead_owner_id": 0,
        "version": before,
    }
    _conflict(
        client.post_form(f"/lines/{line.id}/edit", data), "Governance (mine)", "Governance and standards", "Ana Other"
    )
    db.session.expire_all()
    assert line.title == "Governance and standards"
    assert client.post_form(f"/lines/{line.id}/edit", {**data, "version": line.version}).status_code == 302
    db.session.expire_all()
    assert line.title == "Governance (mine)"


def test_a_stale_concurrence_response_is_refused(client, login_as, make, db):
    rec = make.recommendation()
    colleague = make.user("action_office", office=rec.action_office, name="Colleague Cole")
    db.session.commit()
    opened = rec.version
    update_response(
        rec,
        colleague,
        concurrence="concur",
        concurrence_response="We concur.",
        responsible_official="",
        target_completion_on=None,
    )
    db.session.commit()
    login_as("action_office", office=rec.action_office)
    response = client.post_form(
        f"/recommendations/{rec.id}/concurrence",
        {
            "concurrence": "non_concur",
            "concurrence_response": "We do not.",
            "responsible_official": "",
            "target_completion_on": "",
            "version": opened,
        },
    )
    _conflict(response, "We do not.", "We concur.", "Colleague Cole", "Non-concur", "Concur")
    db.session.expire_all()
    assert rec.concurrence == "concur"


def test_a_stale_metric_edit_is_refused(client, login_as, make, db):
    metric = _metric(make, db)
    opened = metric.version
    metric.data_source = "ENFORCE"
    db.session.flush()
    audit.record("metric.update", metric, before={"data_source": "EARM"}, after={"data_source": "ENFORCE"})
    db.session.commit()
    login_as("action_office", office=metric.line_of_effort.recommendation.action_office)
    response = client.post_form(f"/metrics/{metric.id}/edit", _metric_form(metric, data_source="EID", version=opened))
    _conflict(response, "EID", "ENFORCE")
    db.session.expire_all()
    assert metric.data_source == "ENFORCE"


def test_a_reading_correction_from_a_stale_page_is_refused(client, login_as, make, db):
    metric = _metric(make, db)
    staff = make.user("action_office", office=metric.line_of_effort.recommendation.action_office, name="Rita Reader")
    reading, _ = save_reading(metric, "2025-Q1", "ICE", ParsedValue(Decimal(80)), "", staff)
    db.session.commit()
    login_as("action_office", office=metric.line_of_effort.recommendation.action_office)
    page = client.get(f"/metrics/{metric.id}/readings/new?period=2025-Q1&component=ICE").get_data(as_text=True)
    assert f'name="version" type="hidden" value="{reading.version}"' in page
    opened = reading.version
    save_reading(metric, "2025-Q1", "ICE", ParsedValue(Decimal(85)), "late records", staff)
    db.session.commit()
    data = {"period": "2025-Q1", "component": "ICE", "value": "82", "note": "", "version": opened}
    _conflict(client.post_form(f"/metrics/{metric.id}/readings/new", data), "82", "85", "Rita Reader")
    db.session.expire_all()
    assert reading.value == 85
    # A reading for a new period needs no version; one for a period already entered does.
    fresh = {"period": "2025-Q2", "component": "ICE", "value": "91", "note": ""}
    assert client.post_form(f"/metrics/{metric.id}/readings/new", fresh).status_code == 302


def test_after_acceptance_the_office_target_change_waits_for_another_manager(client, login_as, make, db):
    metric = _metric(make, db)
    office = metric.line_of_effort.recommendation.action_office
    staff = login_as("action_office", office=office)
    response = client.post_form(f"/metrics/{metric.id}/edit", _metric_form(metric, target_value="80"))
    assert response.status_code == 400 and "Explain why the target changes" in response.get_data(as_text=True)
    response = client.post_form(
        f"/metrics/{metric.id}/edit",
        _metric_form(metric, target_value="80", justification="ICE cannot separate DACA releases before FY2027."),
    )
    assert response.status_code == 302
    db.session.expire_all()
    change = db.session.scalar(sa.select(TargetChange))
    assert metric.target_value == 90 and change.status == "pending" and change.requested_by_id == staff.id
    page = client.get(f"/metrics/{metric.id}").get_data(as_text=True)
    assert "Awaiting a manager" in page and "ICE cannot separate DACA releases" in page
    # The office cannot approve it; a manager of another office neither.
    assert (
        client.post_form(
            f"/metrics/{metric.id}", {"action": "decide_target", "change_id": change.id, "reason": "ok", "approve": "y"}
        ).status_code
        == 403
    )
    client.post_form("/sign-out")
    login_as("manager", office=make.office("DHS-ICE"))
    assert (
        client.post_form(
            f"/metrics/{metric.id}", {"action": "decide_target", "change_id": change.id, "reason": "ok", "approve": "y"}
        ).status_code
        == 403
    )
    client.post_form("/sign-out")
    manager = login_as("manager", office=office, name="Morgan Manager")
    assert "Target changes awaiting your decision" in client.get("/my-work").get_data(as_text=True)
    response = client.post_form(
        f"/metrics/{metric.id}",
        {"action": "decide_target", "change_id": change.id, "reason": "Agreed for FY2026.", "decline": "Decline"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert change.status == "declined" and change.decided_by_id == manager.id and metric.target_value == 90
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.object_type == "metric").order_by(AuditEvent.id)
    ).all()
    assert actions[-2:] == ["metric.target_request", "metric.target_decline"]


def test_before_acceptance_a_target_change_applies_at_once(client, login_as, make, db):
    metric = _metric(make, db, rec=make.recommendation(status="unresolved_open"))
    login_as("action_office", office=metric.line_of_effort.recommendation.action_office)
    response = client.post_form(
        f"/metrics/{metric.id}/edit",
        _metric_form(metric, target_value="80", justification="Plan not accepted yet; set realistically."),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert metric.target_value == 80
    assert db.session.scalar(sa.select(TargetChange.status)) == "applied"


def test_a_manager_never_decides_their_own_request(client, login_as, make, db):
    metric = _metric(make, db)
    office = metric.line_of_effort.recommendation.action_office
    manager = make.user("manager", office=office)
    db.session.add(
        TargetChange(
            metric_id=metric.id,
            old_target_value=90,
            new_target_value=70,
            justification="mine",
            status="pending",
            requested_by_id=manager.id,
        )
    )
    db.session.commit()
    change = db.session.scalar(sa.select(TargetChange))
    login_as(user=manager)
    response = client.post_form(
        f"/metrics/{metric.id}", {"action": "decide_target", "change_id": change.id, "reason": "ok", "approve": "y"}
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert change.status == "pending"
