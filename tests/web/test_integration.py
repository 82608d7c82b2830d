"""The seams between domains: closure requests carry evidence and metric results, documents and
exports show them, search finds evidence, the dashboard shows flags and waiting submissions."""

import sqlalchemy as sa

from app.auth.models import User
from app.evidence.models import EvidenceItem
from app.metrics.models import Flag, Reading
from app.recommendations.models import Recommendation
from app.timeutil import today


def _demo(db):
    rec = db.session.scalar(sa.select(Recommendation))
    policy = db.session.scalar(sa.select(User).where(User.email == "policy@example.gov"))
    return rec, policy


def test_a_closure_request_snapshot_holds_the_evidence_and_metric_results(app, db, demo):
    from app.submissions.snapshot import build_snapshot

    rec, _ = _demo(db)
    titles = set(db.session.scalars(sa.select(EvidenceItem.title)))
    assert titles
    closure = {s["key"]: s for s in build_snapshot(rec, "closure_request")["sections"]}
    assert {row["title"] for row in closure["evidence"]["data"]} == titles
    results = closure["metrics"]["data"]
    assert results and all({"metric", "component", "target", "value", "on_target"} <= set(r) for r in results)
    assert any(r["value"] is not None for r in results)
    plan_only = {s["key"] for s in build_snapshot(rec, "plan")["sections"]}
    assert "evidence" not in plan_only and "metrics" not in plan_only


def test_the_plan_document_lists_evidence_and_metrics_against_targets(app, db, demo):
    from app.exports.plan import plan_document, plan_html

    rec, _ = _demo(db)
    doc = plan_document(rec, today())
    assert doc.evidence and doc.metrics
    html = plan_html(doc)
    for row in doc.evidence:
        assert row["title"] in html
    assert "No metrics recorded yet." not in html


def test_metric_readings_export_honours_scope_and_filters(client, login_as, db, demo, make):
    rec, policy = _demo(db)
    login_as(user=policy)
    csv_text = client.get("/exports/metric-readings.csv?component=ICE").get_data(as_text=True).lstrip("\ufeff")
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("Recommendation,Metric,Component,Period,Value,Target")
    ice = db.session.scalar(sa.select(sa.func.count(Reading.id)).where(Reading.component == "ICE"))
    assert len(lines) - 1 == ice and all(",ICE," in line for line in lines[1:])


def test_another_office_exports_no_readings(app, db, demo, make):
    client = app.test_client()
    other = make.user("action_office", office=make.office("OTHER-EXP"))
    db.session.commit()
    from tests.factories import PASSWORD

    client.post_form("/sign-in", {"email": other.email, "password": PASSWORD}, token_from="/sign-in")
    csv_text = client.get("/exports/metric-readings.csv").get_data(as_text=True)
    assert len(csv_text.strip().splitlines()) == 1


def test_search_finds_evidence_by_its_title(app, db, demo):
    from app.search.services import search

    _, policy = _demo(db)
    item = db.session.scalar(sa.select(EvidenceItem).order_by(EvidenceItem.id))
    word = max(item.title.split(), key=len)
    result = search(policy, word, "evidence", {})
    assert item.title in [hit.title for hit in result.hits]


def test_dashboard_shows_open_flags_and_submissions_waiting(client, login_as, db, demo):
    from app.submissions.services import submit

    rec, policy = _demo(db)
    submit(rec, "plan", "Our corrective action plan.", policy)
    db.session.commit()
    flags = db.session.scalar(sa.select(sa.func.count(Flag.id)).where(Flag.status == "open"))
    oig = db.session.scalar(sa.select(User).where(User.email == "oig@example.gov"))
    login_as(user=oig)
    page = client.get("/").get_data(as_text=True)
    assert "Submissions waiting for your decision (1)" in page
    assert "Open monitoring flags" in page and f">{flags}<" in page


def test_semiannual_explanation_is_the_latest_narrative_sent(app, db, demo):
    from app.exports.semiannual import explanations
    from app.submissions.services import submit

    rec, policy = _demo(db)
    submit(rec, "plan", "Plan narrative.", policy)
    db.session.commit()
    assert explanations([rec.id]) == {rec.id: "Plan narrative."}
