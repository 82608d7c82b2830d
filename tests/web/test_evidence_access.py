"""Who may see and change evidence: every evidence URL checks access to its recommendation."""

import io
import re

import pytest
import sqlalchemy as sa

from app.evidence.models import EvidenceItem, EvidenceVersion
from tests import evidence_files as files
from tests.querycount import count_queries

IDS = {"recommendation_id": 1, "milestone_id": 1, "item_id": 1, "version_id": 1}
#: Lists scoped to the user's own office rather than refused.
SCOPED = {"evidence.attention"}


def evidence_urls(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("evidence."):
            url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(IDS[m.group(1)]), rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule.endpoint, method, url


def _request(client, method, url):
    if method == "GET":
        return client.get(url)
    return client.post_form(
        url,
        {
            "reason": "x",
            "decision": "accepted",
            "comment": "x",
            "files-0-title": "x",
            "files-0-file": (io.BytesIO(files.PDF), "a.pdf"),
            "file": (io.BytesIO(files.PDF), "a.pdf"),
        },
        token_from="/sign-in" if not client.signed_in else "/",
        content_type="multipart/form-data",
    )


def test_the_demo_has_evidence_on_every_url_checked(demo, db):
    assert db.session.get(EvidenceItem, 1).recommendation_id == 1
    assert db.session.get(EvidenceVersion, 1).item.milestone_id == 1


def test_anonymous_visitors_are_sent_to_sign_in_on_every_evidence_url(app, client, demo):
    client.signed_in = False
    urls = list(evidence_urls(app))
    assert len(urls) >= 10
    for endpoint, method, url in urls:
        response = _request(client, method, url)
        assert response.status_code == 302, (endpoint, method, response.status_code)
        assert response.headers["Location"].startswith("/sign-in"), endpoint


@pytest.mark.parametrize("role", ["action_office", "manager"])
def test_another_offices_staff_get_403_on_every_evidence_url(app, client, demo, login_as, make, db, role):
    login_as(role, office=make.office("ICE"))
    client.signed_in = True
    before = db.session.scalar(sa.select(sa.func.count()).select_from(EvidenceVersion))
    for endpoint, method, url in evidence_urls(app):
        response = _request(client, method, url)
        if endpoint in SCOPED:
            assert response.status_code == 200
            assert "Signed working group charter" not in response.get_data(as_text=True)
        else:
            assert response.status_code == 403, (endpoint, method, response.status_code)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EvidenceVersion)) == before


@pytest.mark.parametrize("role", ["oig_reviewer", "manager"])
def test_readers_who_may_not_edit_the_plan_cannot_upload(app, client, demo, login_as, role):
    login_as(role)
    assert client.get("/milestones/1/evidence").status_code == 200
    assert client.get("/evidence/versions/1/download").data.startswith(b"%PDF-")
    for url, data in [
        ("/milestones/1/evidence", {"files-0-title": "x", "files-0-file": (io.BytesIO(files.PDF), "a.pdf")}),
        ("/recommendations/1/evidence", {"files-0-title": "x", "files-0-file": (io.BytesIO(files.PDF), "a.pdf")}),
        ("/evidence/1", {"action": "version", "file": (io.BytesIO(files.PDF), "a.pdf")}),
        ("/evidence/1", {"action": "withdraw", "reason": "x"}),
    ]:
        assert client.post_form(url, data, content_type="multipart/form-data").status_code == 403, url
    page = client.get("/milestones/1/evidence").get_data(as_text=True)
    assert "Upload evidence" not in page


def test_only_admins_see_the_integrity_page(app, client, demo, login_as):
    login_as("action_office")
    assert client.get("/evidence/integrity").status_code == 403


def test_upload_is_refused_once_the_recommendation_is_closed(app, client, login_as, make, db):
    rec = make.recommendation(status="resolved_closed")
    db.session.commit()
    login_as("action_office")
    assert client.get(f"/recommendations/{rec.id}/evidence").status_code == 200
    response = client.post_form(
        f"/recommendations/{rec.id}/evidence",
        {"files-0-title": "x", "files-0-file": (io.BytesIO(files.PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403


def test_evidence_pages_query_count_does_not_grow_with_rows(app, client, demo, login_as, db):
    login_as("action_office")
    urls = [
        "/evidence/attention",
        "/recommendations/1/evidence",
        "/milestones/1/evidence",
        "/evidence/1",
        "/recommendations/1",
    ]
    before = {}
    for url in urls:
        with count_queries(app) as counted:
            assert client.get(url).status_code == 200
        before[url] = counted.count
    for n in range(3):
        client.post_form(
            "/milestones/1/evidence",
            {"files-0-title": f"More {n}", "files-0-file": (io.BytesIO(files.PDF), "a.pdf")},
            content_type="multipart/form-data",
        )
        client.post_form(
            "/evidence/1",
            {"action": "version", "file": (io.BytesIO(files.PDF_V2), "a.pdf")},
            content_type="multipart/form-data",
        )
    for url in urls:
        with count_queries(app) as counted:
            assert client.get(url).status_code == 200
        assert counted.count == before[url], (url, counted.statements)
