"""/api/v1: bearer tokens, the pages' permission rules, JSON errors, an OpenAPI document that tells the truth."""
import contextvars
import re

import pytest
import sqlalchemy as sa

from app.api.models import ApiToken, hash_token
from app.api.openapi import openapi_document
from app.audit import AuditEvent
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
    response = client.patch(f"/api/v1/milestones/{milestone.id}", json={"status": "completed", "version": 1},
                            headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "completed" and response.json["percent_complete"] == 100
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "milestone.update"))
    assert event.actor_id == user.id and event.recommendation_id == rec.id
    stale = client.patch(f"/api/v1/milestones/{milestone.id}", json={"percent_complete": 5, "version": 1},
                         headers=headers)
    assert stale.status_code == 409


def test_oig_write_token_still_cannot_edit_the_plan(client, make, plan, token_for):
    _, milestone = plan
    headers = token_for(make.user("oig_reviewer"), "write")
    assert client.patch(f"/api/v1/milestones/{milestone.id}", json={"status": "in_progress"},
                        headers=headers).status_code == 403


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
    assert client.patch(f"/api/v1/milestones/{theirs.id}", json={"status": "completed"},
                        headers=write).status_code == 404


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
    page = client.post_form("/account/api-tokens/", {"name": "script", "scope": "write"},
                            token_from="/calendar/").get_data(as_text=True)
    secret = re.search(r'id="new-token" readonly value="(cat_[^"]+)"', page).group(1)
    assert secret not in client.get("/calendar/").get_data(as_text=True)
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    assert token.scope == "write"
    client.post_form(f"/account/api-tokens/{token.id}/revoke", token_from="/calendar/")
    assert client.get("/api/v1/reports", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert client.post_form("/account/api-tokens/", {"name": "", "scope": "admin"},
                            token_from="/calendar/").status_code == 400


# --- the OpenAPI document -------------------------------------------------------------

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

        @settings(max_examples=10, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            response = contextvars.Context().run(case.call, headers=headers)
            calls.append(case.operation.label)
            content_type = response.headers.get("content-type")
            if response.status_code >= 500 or content_type != ["application/json"]:
                failures.append((case.method, case.formatted_path, case.query, case.body, response.status_code,
                                 content_type))

        check()
    documented = {f"{method.upper()} {path}" for path, ops in openapi_document()["paths"].items() for method in ops}
    # Every operation was exercised (schemathesis leaves out the document it was loaded from).
    assert set(calls) == documented - {"GET /openapi.json"}
    assert failures == []
