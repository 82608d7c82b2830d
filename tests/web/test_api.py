"""/api/v1: bearer tokens, the pages' permission rules, JSON errors, an OpenAPI document that tells the truth."""

import contextvars
import re
from datetime import date

import pytest
import sqlalchemy as sa

from app.api.models import ApiToken
from app.api.openapi import openapi_document
from app.audit import AuditEvent
from app.security import hash_token
from app.timeutil import utcnow


@pytest.fixture
def token_for(db):
    def issue(user, scope="read"):
        _, secret = ApiToken.issue(user, scope, "test")
        db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return issue


@pytest.fixture
def plan(make):
    rec = make.recommendation()
    line = make.line(rec)
    return rec, make.milestone(line, title="Our milestone")


def test_no_token_is_401_json_with_a_bearer_challenge(client):
    response = client.get("/api/v1/recommendations")
    assert response.status_code == 401
    assert response.json["status"] == 401 and "token" in response.json["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/recommendations", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_a_session_cookie_is_not_an_api_credential(client, login_as):
    login_as("oig_reviewer")
    assert client.get("/api/v1/reports").status_code == 401


def test_read_token_lists_with_pagination(client, make, token_for):
    for _ in range(3):
        make.recommendation()
    headers = token_for(make.user("oig_reviewer"))
    body = client.get("/api/v1/recommendations?per_page=2&page=2", headers=headers).json
    assert body["total"] == 3 and body["pages"] == 2 and body["page"] == 2 and len(body["items"]) == 1
    response = client.get("/api/v1/recommendations?per_page=500", headers=headers)
    assert response.status_code == 400 and "per_page" in response.json["message"]


def test_read_only_token_cannot_write(client, db, make, plan, token_for):
    _, milestone = plan
    headers = token_for(make.user("action_office"), "read")
    response = client.patch(f"/api/v1/milestones/{milestone.id}", json={"status": "in_progress"}, headers=headers)
    assert response.status_code == 403
    assert "read-only" in response.json["message"]
    db.session.refresh(milestone)
    assert milestone.status == "not_started"


def test_write_token_updates_a_milestone_with_an_audit_event(client, db, make, plan, token_for):
    rec, milestone = plan
    user = make.user("action_office")
    headers = token_for(user, "write")
    response = client.patch(
        f"/api/v1/milestones/{milestone.id}", json={"status": "completed", "version": 1}, headers=headers
    )
    assert response.status_code == 200, response.json
    assert response.json["status"] == "completed" and response.json["percent_complete"] == 100
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "milestone.complete"))
    assert event.actor_id == user.id and event.recommendation_id == rec.id
    stale = client.patch(
        f"/api/v1/milestones/{milestone.id}", json={"percent_complete": 5, "version": 1}, headers=headers
    )
    assert stale.status_code == 409
    # The milestone service's own rules hold: a closed milestone takes no further update.
    closed = client.patch(f"/api/v1/milestones/{milestone.id}", json={"percent_complete": 5}, headers=headers)
    assert closed.status_code == 409 and "closed" in closed.json["message"]


def test_api_milestone_update_goes_through_the_milestone_service(client, db, make, plan, token_for):
    from app.milestones.models import MilestoneUpdate

    _, milestone = plan
    user = make.user("action_office")
    response = client.patch(
        f"/api/v1/milestones/{milestone.id}",
        json={"status": "in_progress", "percent_complete": 40},
        headers=token_for(user, "write"),
    )
    assert response.status_code == 200 and response.json["percent_complete"] == 40
    update = db.session.scalar(sa.select(MilestoneUpdate).where(MilestoneUpdate.milestone_id == milestone.id))
    assert update.author_id == user.id and update.status == "in_progress"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "milestone.status_update"))
    assert event.actor_id == user.id


def test_oig_write_token_still_cannot_edit_the_plan(client, make, plan, token_for):
    _, milestone = plan
    headers = token_for(make.user("oig_reviewer"), "write")
    assert (
        client.patch(f"/api/v1/milestones/{milestone.id}", json={"status": "in_progress"}, headers=headers).status_code
        == 403
    )


def test_another_offices_milestone_is_not_visible(client, make, token_for):
    theirs = make.milestone(make.line(make.recommendation(office=make.office("ICE"))), title="ICE only")
    mine = make.milestone(make.line(make.recommendation()), title="Policy's")
    headers = token_for(make.user("action_office"))
    assert client.get(f"/api/v1/milestones/{theirs.id}", headers=headers).status_code == 404
    titles = [m["title"] for m in client.get("/api/v1/milestones", headers=headers).json["items"]]
    assert titles == [mine.title]
    rec_id = theirs.line_of_effort.recommendation_id
    assert client.get(f"/api/v1/recommendations/{rec_id}", headers=headers).status_code == 404
    write = token_for(make.user("action_office"), "write")
    assert (
        client.patch(f"/api/v1/milestones/{theirs.id}", json={"status": "completed"}, headers=write).status_code == 404
    )


def test_audit_events_follow_the_same_scope(client, db, make, token_for):
    from app.audit import record

    mine, theirs = make.recommendation(), make.recommendation(office=make.office("CBP"))
    record("test.mine", mine, recommendation_id=mine.id)
    record("test.theirs", theirs, recommendation_id=theirs.id)
    db.session.commit()
    headers = token_for(make.user("manager"))
    actions = [e["action"] for e in client.get("/api/v1/audit-events?action=test.", headers=headers).json["items"]]
    assert actions == ["test.mine"]


def test_bad_bodies_are_400_json(client, make, plan, token_for):
    _, milestone = plan
    headers = token_for(make.user("action_office"), "write")
    for body in ({}, {"status": "done"}, {"percent_complete": 101}, {"percent_complete": "5"}, {"owner": 1}, [1]):
        response = client.patch(f"/api/v1/milestones/{milestone.id}", json=body, headers=headers)
        assert response.status_code == 400, body
        assert response.json["message"]
    response = client.patch(f"/api/v1/milestones/{milestone.id}", data="not json", headers=headers)
    assert response.status_code == 400


def test_a_revoked_token_is_refused(client, db, make, token_for):
    headers = token_for(make.user("oig_reviewer"))
    token = db.session.scalar(sa.select(ApiToken))
    assert token.token_hash == hash_token(headers["Authorization"].split()[1])  # only the hash is stored
    token.revoked_at = utcnow()
    db.session.commit()
    assert client.get("/api/v1/reports", headers=headers).status_code == 401


def test_cli_creates_a_token_printed_once(app, db, make, client):
    user = make.user("manager")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["tokens", "create", "--email", user.email, "--scope", "read"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert secret.startswith("cat_")
    assert client.get("/api/v1/reports", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    bad = app.test_cli_runner().invoke(args=["tokens", "create", "--email", "nobody@x.gov", "--scope", "read"])
    assert bad.exit_code != 0


def test_token_page_shows_a_new_token_once_and_revokes(client, db, login_as):
    user = login_as("action_office")
    made = client.post_form(
        "/calendar/", {"action": "api_token", "name": "script", "scope": "write"}, token_from="/calendar/"
    )
    # Post/redirect/get: the answer to the POST is a redirect, so a reload never posts it again.
    assert made.status_code == 302 and made.headers["Location"] == "/calendar/#new-token-heading"
    assert b"cat_" not in made.data
    page = client.get("/calendar/").get_data(as_text=True)
    secret = re.search(r'id="new-token" readonly value="(cat_[^"]+)"', page).group(1)
    assert page.count(secret) == 1
    with client.session_transaction() as session:  # nothing of it is left in the session
        assert not any(k.startswith("once_") for k in session) and secret not in str(dict(session))
    reloaded = client.get("/calendar/").get_data(as_text=True)  # the reload: shown once, not again
    assert secret not in reloaded and 'id="new-token"' not in reloaded
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id)).where(ApiToken.user_id == user.id)) == 1
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    assert token.scope == "write"
    client.post_form(f"/account/api-tokens/{token.id}/revoke", token_from="/calendar/")
    assert client.get("/api/v1/reports", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    refused = client.post_form(
        "/calendar/", {"action": "api_token", "name": "", "scope": "admin"}, token_from="/calendar/"
    )
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "app-error-summary" in body and 'class="usa-error-message"' in body
    assert 'action="/calendar/"' in body.split('name="action" value="api_token"')[0].rsplit("<form", 1)[1]
    assert client.post_form(
        "/account/api-tokens/", {"name": "x", "scope": "read"}, token_from="/calendar/"
    ).status_code in (
        404,
        405,
    )


# --- the OpenAPI document -------------------------------------------------------------

# --- evidence, metrics and readings ---------------------------------------------------------


def _evidence(db, rec, milestone=None, title="Signed policy"):
    from app.evidence.models import EvidenceItem, EvidenceVersion

    item = EvidenceItem(recommendation=rec, milestone=milestone, title=title, description="Proof")
    db.session.add(item)
    db.session.flush()
    db.session.add(
        EvidenceVersion(
            item=item,
            number=1,
            storage_key=f"key-{item.id}",
            original_filename="p.pdf",
            content_type="application/pdf",
            size_bytes=1234,
            sha256="ab" * 32,
        )
    )
    db.session.commit()
    return item


def _metric(db, line, **kw):
    from app.metrics.models import Metric

    kw = {
        "name": "Share of releases with a recorded basis",
        "unit": "%",
        "target_value": 90,
        "frequency": "quarterly",
        "components": "ICE,CBP",
        # Readings for 2026-Q1 on: the periods the tests post have ended and are due.
        "collect_from": date(2026, 1, 1),
        **kw,
    }
    metric = Metric(line_of_effort=line, **kw)
    db.session.add(metric)
    db.session.commit()
    return metric


def test_evidence_metadata_follows_the_office_scope(client, db, make, plan, token_for):
    rec, milestone = plan
    mine = _evidence(db, rec, milestone)
    theirs = _evidence(db, make.recommendation(office=make.office("ICE")), title="ICE only")
    headers = token_for(make.user("action_office"))
    body = client.get("/api/v1/evidence", headers=headers).json
    assert [e["id"] for e in body["items"]] == [mine.id] and body["total"] == 1
    item = client.get(f"/api/v1/evidence/{mine.id}", headers=headers).json
    assert item["milestone_id"] == milestone.id and item["review_status"] == "pending" and not item["withdrawn"]
    assert item["versions"] == [
        {
            "number": 1,
            "original_filename": "p.pdf",
            "content_type": "application/pdf",
            "size_bytes": 1234,
            "sha256": "ab" * 32,
            "uploaded_at": item["versions"][0]["uploaded_at"],
        }
    ]
    assert client.get(f"/api/v1/evidence/{theirs.id}", headers=headers).status_code == 404
    oig = token_for(make.user("oig_reviewer"))
    assert client.get(f"/api/v1/evidence?recommendation={theirs.recommendation_id}", headers=oig).json["total"] == 1
    assert client.get("/api/v1/evidence?recommendation=x", headers=oig).status_code == 400


def test_metrics_and_readings_follow_the_office_scope(client, db, make, plan, token_for):
    rec, milestone = plan
    mine = _metric(db, milestone.line_of_effort)
    theirs = _metric(db, make.line(make.recommendation(office=make.office("ICE"))), name="ICE only")
    headers = token_for(make.user("action_office"))
    assert [m["id"] for m in client.get("/api/v1/metrics", headers=headers).json["items"]] == [mine.id]
    metric = client.get(f"/api/v1/metrics/{mine.id}", headers=headers).json
    assert metric["recommendation_id"] == rec.id and metric["components"] == ["ICE", "CBP"]
    assert metric["target_value"] == "90.0000" or float(metric["target_value"]) == 90
    for url in (f"/api/v1/metrics/{theirs.id}", f"/api/v1/metrics/{theirs.id}/readings"):
        assert client.get(url, headers=headers).status_code == 404, url
    write = token_for(make.user("action_office"), "write")
    response = client.post(
        f"/api/v1/metrics/{theirs.id}/readings",
        json={"period": "2026-Q1", "component": "ICE", "value": "95"},
        headers=write,
    )
    assert response.status_code == 404


def test_read_only_token_cannot_write_readings(client, db, make, plan, token_for):
    from app.metrics.models import Reading

    metric = _metric(db, plan[1].line_of_effort)
    headers = token_for(make.user("action_office"), "read")
    response = client.post(
        f"/api/v1/metrics/{metric.id}/readings",
        json={"period": "2026-Q1", "component": "ICE", "value": "95"},
        headers=headers,
    )
    assert response.status_code == 403 and response.json["message"]
    oig = token_for(make.user("oig_reviewer"), "write")
    response = client.post(
        f"/api/v1/metrics/{metric.id}/readings",
        json={"period": "2026-Q1", "component": "ICE", "value": "95"},
        headers=oig,
    )
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 0


def test_a_reading_is_stored_with_an_audit_event_and_a_correction_keeps_history(client, db, make, plan, token_for):
    from app.metrics.models import Reading

    rec, milestone = plan
    metric = _metric(db, milestone.line_of_effort)
    user = make.user("action_office")
    headers = token_for(user, "write")
    url = f"/api/v1/metrics/{metric.id}/readings"
    response = client.post(url, json={"period": "2026-q1", "component": "ICE", "value": "1,234.5"}, headers=headers)
    assert response.status_code == 201, response.json
    assert response.json["period"] == "2026-Q1" and float(response.json["value"]) == 1234.5
    assert response.json["outcome"] == "created" and response.json["history"] == []
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "metric.reading.create"))
    assert event.actor_id == user.id and event.recommendation_id == rec.id

    version = response.json["version"]
    response = client.post(
        url,
        json={"period": "2026-Q1", "component": "ICE", "value": 80, "note": "Recount", "version": version},
        headers=headers,
    )
    assert response.status_code == 200 and response.json["outcome"] == "corrected"
    assert float(response.json["value"]) == 80 and float(response.json["history"][0]["value"]) == 1234.5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 1
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "metric.reading.correct"))
    # 80 is below the target of 90: the flags were synced like the form does.
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action.like("metric.flag%")))
    listed = client.get(url, headers=token_for(make.user("oig_reviewer"))).json
    assert listed["total"] == 1 and len(listed["items"][0]["history"]) == 1


def test_bad_readings_are_400_json(client, db, make, plan, token_for):
    from app.metrics.models import Reading

    metric = _metric(db, plan[1].line_of_effort)
    dq = _metric(db, plan[1].line_of_effort, name="Completeness", kind="completeness", target_value=95)
    headers = token_for(make.user("action_office"), "write")
    good = {"period": "2026-Q1", "component": "ICE", "value": "5"}
    for body in (
        [1],
        {},
        {**good, "period": "2026-13"},
        {**good, "period": "March"},
        {**good, "component": "FEMA"},
        {**good, "value": "lots"},
        {**good, "value": "NaN"},
        {**good, "value": "1e30"},
        {**good, "value": True},
        {**good, "note": 5},
        {**good, "extra": 1},
        {**good, "note": "a\x00b"},
    ):
        response = client.post(f"/api/v1/metrics/{metric.id}/readings", json=body, headers=headers)
        assert response.status_code == 400, body
        assert response.json["message"], body
    for value in ("120", "5/0", "7/5"):
        response = client.post(f"/api/v1/metrics/{dq.id}/readings", json={**good, "value": value}, headers=headers)
        assert response.status_code == 400, value
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 0
    ok = client.post(f"/api/v1/metrics/{dq.id}/readings", json={**good, "value": "940/1000"}, headers=headers)
    assert ok.status_code == 201 and float(ok.json["value"]) == 94 and float(ok.json["numerator"]) == 940


def _api_routes(app):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_openapi_document_validates_and_matches_the_routes(app, client, make, token_for):
    from openapi_spec_validator import validate

    served = client.get("/api/v1/openapi.json", headers=token_for(make.user("manager"))).json
    validate(served)
    documented = {(path, method) for path, ops in served["paths"].items() for method in ops}
    assert documented == _api_routes(app)
    for path, ops in served["paths"].items():
        for method, op in ops.items():
            assert op["operationId"] and "200" in op["responses"], (path, method)


def _resolve(doc: dict, schema: dict) -> dict:
    """Follow ``$ref`` and merge ``allOf``: the object a schema promises."""
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema:
        merged = {"type": "object", "properties": {}, "required": []}
        for part in map(lambda p: _resolve(doc, p), schema["allOf"]):
            merged["properties"].update(part.get("properties", {}))
            merged["required"] += part.get("required", [])
        return merged
    return schema


def _schema_mismatches(doc: dict, schema: dict, value, where: str = "$") -> list[str]:
    """Keys a response carries that its schema does not describe, and required keys it lacks, at any depth."""
    schema = _resolve(doc, schema)
    problems = []
    if isinstance(value, dict) and "properties" in schema:
        described = schema["properties"]
        problems += [f"{where}.{key}: not in the schema" for key in sorted(set(value) - set(described))]
        problems += [f"{where}.{key}: missing" for key in sorted(set(schema.get("required", [])) - set(value))]
        for key in sorted(set(value) & set(described)):
            problems += _schema_mismatches(doc, described[key], value[key], f"{where}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            problems += _schema_mismatches(doc, schema["items"], item, f"{where}[{i}]")
    return problems


def _check_response(doc: dict, path: str, method: str, response) -> None:
    """The body matches the schema documented for this path, method and status: keys and types."""
    from openapi_schema_validator import OAS30Validator

    operation = doc["paths"][path][method]
    assert str(response.status_code) in operation["responses"], (path, method, response.status_code)
    schema = operation["responses"][str(response.status_code)]["content"]["application/json"]["schema"]
    assert _schema_mismatches(doc, schema, response.json) == [], (path, method)
    errors = [e.message for e in OAS30Validator({**schema, "components": doc["components"]}).iter_errors(response.json)]
    assert errors == [], (path, method, errors)


def test_reading_responses_carry_exactly_the_documented_fields(client, db, make, plan, token_for):
    metric = _metric(db, plan[1].line_of_effort, name="Completeness", kind="completeness", target_value=95)
    headers = token_for(make.user("action_office"), "write")
    doc = client.get("/api/v1/openapi.json", headers=headers).json
    path, url = "/metrics/{metric_id}/readings", f"/api/v1/metrics/{metric.id}/readings"
    outcomes = []
    version = None
    for body, status in (
        ({"period": "2026-Q1", "component": "ICE", "value": "940/1000"}, 201),
        ({"period": "2026-Q1", "component": "ICE", "value": "940/1000"}, 200),
        ({"period": "2026-Q1", "component": "ICE", "value": "950/1000", "note": "Recount", "version": 0}, 200),
    ):
        if "version" in body:
            body = {**body, "version": version}
        response = client.post(url, json=body, headers=headers)
        version = response.json.get("version")
        assert response.status_code == status, response.json
        _check_response(doc, path, "post", response)
        outcomes.append(response.json["outcome"])
    assert outcomes == ["created", "unchanged", "corrected"]
    documented = _resolve(doc, doc["paths"][path]["post"]["responses"]["201"]["content"]["application/json"]["schema"])[
        "properties"
    ]["outcome"]["enum"]
    assert sorted(documented) == sorted(outcomes)
    listed = client.get(url, headers=headers)
    assert listed.json["items"][0]["history"] and "outcome" not in listed.json["items"][0]
    _check_response(doc, path, "get", listed)


def test_milestone_responses_carry_exactly_the_documented_fields(client, db, make, plan, token_for):
    rec, milestone = plan
    make.milestone(milestone.line_of_effort, title="Unowned, not started", start_on=None)
    headers = token_for(make.user("action_office", name="Owner"), "write")
    doc = client.get("/api/v1/openapi.json", headers=headers).json
    listed = client.get(f"/api/v1/milestones?recommendation={rec.id}", headers=headers)
    assert listed.json["total"] == 2
    _check_response(doc, "/milestones", "get", listed)
    one = client.get(f"/api/v1/milestones/{milestone.id}", headers=headers)
    _check_response(doc, "/milestones/{milestone_id}", "get", one)
    patched = client.patch(
        f"/api/v1/milestones/{milestone.id}",
        headers=headers,
        json={"status": "completed", "version": one.json["version"]},
    )
    assert patched.status_code == 200 and patched.json["completed_on"]
    _check_response(doc, "/milestones/{milestone_id}", "patch", patched)
    stale = client.patch(
        f"/api/v1/milestones/{milestone.id}",
        headers=headers,
        json={"percent_complete": 10, "version": one.json["version"]},
    )
    assert stale.status_code == 409
    _check_response(doc, "/milestones/{milestone_id}", "patch", stale)


def test_every_read_endpoint_answers_with_its_documented_fields(client, db, demo, token_for):
    from app.auth.models import User

    policy = db.session.scalar(sa.select(User).where(User.email == "policy@example.gov"))
    headers = token_for(policy)
    doc = client.get("/api/v1/openapi.json", headers=headers).json
    first_ids = {}
    for path in sorted(doc["paths"], key=lambda p: p.count("{")):
        if "get" not in doc["paths"][path] or path == "/openapi.json":
            continue
        url = path
        for name in re.findall(r"{(\w+)}", path):
            collection = path.split("/{" + name + "}")[0]
            url = url.replace("{" + name + "}", str(first_ids[collection]))
        response = client.get(f"/api/v1{url}", headers=headers)
        assert response.status_code == 200, (url, response.json)
        _check_response(doc, path, "get", response)
        if "items" in response.json:
            assert response.json["items"], f"{url} lists nothing: the check would prove nothing"
            first_ids[path] = response.json["items"][0]["id"]


def test_schemathesis_finds_no_server_errors(app, db, make, token_for, demo):
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    from app.auth.models import User

    user = db.session.scalar(sa.select(User).where(User.email == "policy@example.gov"))
    headers = token_for(user, "write")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=headers)
    failures, calls = [], []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            response = contextvars.Context().run(case.call, headers=headers)
            calls.append(case.operation.label)
            content_type = response.headers.get("content-type")
            if response.status_code >= 500 or content_type != ["application/json"]:
                failures.append(
                    (case.method, case.formatted_path, case.query, case.body, response.status_code, content_type)
                )

        check()
    documented = {f"{method.upper()} {path}" for path, ops in openapi_document()["paths"].items() for method in ops}
    # Every operation was exercised (schemathesis leaves out the document it was loaded from).
    assert set(calls) == documented - {"GET /openapi.json"}
    assert failures == []


def test_a_reading_for_a_period_not_ended_or_before_the_first_is_refused_like_the_form(
    client, db, make, plan, token_for
):
    from app.metrics.models import Reading
    from app.metrics.periods import period_of
    from app.timeutil import today

    metric = _metric(db, plan[1].line_of_effort)
    url, headers = f"/api/v1/metrics/{metric.id}/readings", token_for(make.user("action_office"), "write")
    current = period_of("quarterly", today())
    response = client.post(url, json={"period": current, "component": "ICE", "value": "5"}, headers=headers)
    assert response.status_code == 400 and f"{current} has not ended yet" in response.json["message"]
    response = client.post(url, json={"period": "2025-Q4", "component": "ICE", "value": "5"}, headers=headers)
    assert response.status_code == 400
    assert "2025-Q4 is before the metric's first period (2026-Q1)" in response.json["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 0


def test_a_stored_reading_changes_through_the_api_only_from_its_version(client, db, make, plan, token_for):
    from app.metrics.models import Reading

    metric = _metric(db, plan[1].line_of_effort)
    url, headers = f"/api/v1/metrics/{metric.id}/readings", token_for(make.user("action_office"), "write")
    first = client.post(url, json={"period": "2026-Q1", "component": "ICE", "value": "88"}, headers=headers)
    assert first.status_code == 201 and first.json["version"] == 1
    blind = client.post(url, json={"period": "2026-Q1", "component": "ICE", "value": "91"}, headers=headers)
    assert blind.status_code == 409 and "give the version you read" in blind.json["message"]
    fixed = client.post(
        url, json={"period": "2026-Q1", "component": "ICE", "value": "91", "version": 1}, headers=headers
    )
    assert fixed.status_code == 200 and fixed.json["outcome"] == "corrected" and fixed.json["version"] == 2
    stale = client.post(
        url, json={"period": "2026-Q1", "component": "ICE", "value": "95", "version": 1}, headers=headers
    )
    assert stale.status_code == 409 and "changed since version 1 (now version 2)" in stale.json["message"]
    for bad in ("2", 0, -1, True, 1.5):
        response = client.post(
            url, json={"period": "2026-Q1", "component": "ICE", "value": "95", "version": bad}, headers=headers
        )
        assert response.status_code == 400, bad
    reading = db.session.scalar(sa.select(Reading))
    db.session.refresh(reading)
    assert float(reading.value) == 91 and reading.version == 2
