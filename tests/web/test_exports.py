"""OIG-ready documents and exports: the plan as PDF and DOCX, CSV/XLSX lists, filters, audit events."""

import csv
import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.audit import AuditEvent
from app.milestones.models import Milestone
from app.recommendations.models import Recommendation
from app.exports.routes import DOCX_MIMETYPE
from tests.factories import PASSWORD, days


def _sign_in(client, email):
    response = client.post_form("/sign-in", {"email": email, "password": PASSWORD}, token_from="/sign-in")
    assert response.status_code == 302


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _demo_rec(db):
    return db.session.scalar(sa.select(Recommendation))


def _milestones(db):
    return db.session.scalars(sa.select(Milestone).order_by(Milestone.id)).all()


def test_plan_pdf_holds_every_milestone_title_and_dates(client, db, demo):
    from pypdf import PdfReader

    _sign_in(client, "policy@example.gov")
    rec = _demo_rec(db)
    response = client.get(f"/exports/recommendations/{rec.id}/plan.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "OIG-15-85-rec-1-corrective-action-plan.pdf" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    text = _squash(" ".join(page.extract_text() for page in reader.pages))
    assert "Corrective Action Plan" in text and "OIG-15-85" in text
    assert "Assistant Secretary for Policy" in text
    for m in _milestones(db):
        assert _squash(m.title) in text, m.title
        assert m.baseline_due_on.isoformat() in text
        assert m.current_due_on.isoformat() in text
        if m.start_on:
            assert m.start_on.isoformat() in text


def test_plan_pdf_renders_to_a_page_with_ink(client, db, demo):
    import pypdfium2

    _sign_in(client, "oig@example.gov")
    pdf = client.get(f"/exports/recommendations/{_demo_rec(db).id}/plan.pdf").data
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) >= 2
    image = document[0].render(scale=1).to_pil().convert("L")
    width, height = image.size
    assert width > height  # landscape, as the plan's tables need
    dark = sum(image.histogram()[:128])
    assert 0.005 < dark / (width * height) < 0.3  # text on a white page, not blank, not a black box


def test_plan_docx_opens_and_holds_the_same_rows(client, db, demo):
    from docx import Document

    _sign_in(client, "manager@example.gov")
    rec = _demo_rec(db)
    response = client.get(f"/exports/recommendations/{rec.id}/plan.docx")
    assert response.status_code == 200
    document = Document(io.BytesIO(response.data))
    rows = []
    for table in document.tables:
        cells = [c.text for c in table.rows[0].cells]
        if cells and cells[0] == "Milestone":
            rows += [[c.text for c in row.cells] for row in table.rows[1:]]
    expected = [
        [m.title, m.baseline_due_on.isoformat(), m.current_due_on.isoformat(), m.status_label] for m in _milestones(db)
    ]
    assert sorted([r[0], r[4], r[5], r[6]] for r in rows) == sorted(expected)
    body = "\n".join(p.text for p in document.paragraphs)
    assert rec.text in body


def test_plan_download_writes_an_audit_event(client, db, demo):
    _sign_in(client, "policy@example.gov")
    rec = _demo_rec(db)
    client.get(f"/exports/recommendations/{rec.id}/plan.docx")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "export.plan"))
    assert event.recommendation_id == rec.id and event.after_data["format"] == "docx"


def test_another_office_cannot_download_the_plan(client, db, make, login_as):
    rec = make.recommendation(office=make.office("ICE"))
    login_as("action_office")
    assert client.get(f"/exports/recommendations/{rec.id}/plan.pdf").status_code == 403
    assert client.get(f"/exports/recommendations/{rec.id}/plan.rtf").status_code == 404


# --- the plan as a submission sent it ------------------------------------------------


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return _squash(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def _docx_milestone_rows(data: bytes) -> list[list[str]]:
    from docx import Document

    rows = []
    for table in Document(io.BytesIO(data)).tables:
        if [c.text for c in table.rows[0].cells][:1] == ["Milestone"]:
            rows += [[c.text for c in row.cells] for row in table.rows[1:]]
    return rows


@pytest.fixture
def sent_plan(make, db):
    """A plan of two lines and three milestones, sent to OIG as submission 1; returns (rec, submission, staff)."""
    from app.submissions.services import submit

    office = make.office("DHS-PLCY")
    rec = make.recommendation(
        office=office,
        responsible_official="Assistant Secretary for Policy",
        target_completion_on=days(300),
        concurrence="concur",
    )
    staff = make.user("action_office", office=office, name="Dana Whitfield")
    governance = make.line(rec, title="Governance and standardization", objective="One data standard")
    collection = make.line(rec, title="Data collection")
    make.milestone(governance, title="Charter the data governance board", owner=staff, due=days(20), start_on=days(-15))
    make.milestone(governance, title="Publish the data dictionary", owner=staff, due=days(75))
    make.milestone(collection, title="Monthly submissions from ICE, CBP and USCIS", due=days(120), start_on=days(5))
    submission = submit(rec, "plan", "Our corrective action plan,\nwith three milestones.", staff)
    db.session.commit()
    return rec, submission, staff


def test_a_submission_pdf_holds_every_milestone_title_and_dates_as_sent(client, db, login_as, sent_plan):
    rec, submission, staff = sent_plan
    login_as(user=staff)
    response = client.get(f"/exports/submissions/{submission.id}/plan.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert (
        f"{rec.report.number}-rec-{rec.number}-submission-1-plan-as-sent.pdf" in response.headers["Content-Disposition"]
    )
    text = _pdf_text(response.data)
    assert f"submission 1, corrective action plan, as sent to OIG on {submission.submitted_on.isoformat()}" in text
    assert "by Dana Whitfield" in text and "Our corrective action plan, with three milestones." in text
    assert "Assistant Secretary for Policy" in text and "Office DHS-PLCY" in text
    assert "Status when sent Unresolved, open" in text
    for m in _milestones(db):
        assert _squash(m.title) in text, m.title
        for day in (m.start_on, m.baseline_due_on, m.current_due_on):
            assert day.isoformat() in text
    # A plan carries no evidence or metric results: the document says so rather than failing.
    assert "No metrics recorded in this submission." in text
    assert "No evidence recorded in this submission." in text


def test_a_milestone_changed_after_sending_changes_the_live_plan_not_the_submission(client, db, login_as, sent_plan):
    from docx import Document

    rec, submission, staff = sent_plan
    milestone = _milestones(db)[0]
    sent_title, sent_due = milestone.title, milestone.current_due_on
    milestone.title = "Charter the board, renamed after sending"
    milestone.current_due_on = days(200)
    milestone.status = "in_progress"
    rec.responsible_official = "Someone appointed later"
    db.session.commit()

    login_as(user=staff)
    sent = _pdf_text(client.get(f"/exports/submissions/{submission.id}/plan.pdf").data)
    assert sent_title in sent and sent_due.isoformat() in sent
    assert "renamed after sending" not in sent and days(200).isoformat() not in sent
    assert "Assistant Secretary for Policy" in sent and "Someone appointed later" not in sent

    live = _pdf_text(client.get(f"/exports/recommendations/{rec.id}/plan.pdf").data)
    assert "renamed after sending" in live and days(200).isoformat() in live
    assert "Someone appointed later" in live

    sent_rows = _docx_milestone_rows(client.get(f"/exports/submissions/{submission.id}/plan.docx").data)
    changed = [r for r in sent_rows if r[0] == sent_title]
    assert changed and changed[0][5] == sent_due.isoformat() and changed[0][6] == "Not started"
    body = "\n".join(
        p.text
        for p in Document(io.BytesIO(client.get(f"/exports/submissions/{submission.id}/plan.docx").data)).paragraphs
    )
    assert "renamed after sending" not in body


def test_a_submission_docx_opens_and_holds_the_rows_of_its_snapshot(client, db, login_as, sent_plan):
    from docx import Document

    rec, submission, _ = sent_plan
    login_as("oig_reviewer")
    response = client.get(f"/exports/submissions/{submission.id}/plan.docx")
    assert response.status_code == 200 and response.mimetype == DOCX_MIMETYPE
    rows = _docx_milestone_rows(response.data)
    plan = next(s["data"] for s in submission.snapshot["sections"] if s["key"] == "plan")
    expected = [
        [m["title"], m["start_on"] or "", m["baseline_due_on"], m["current_due_on"]]
        for line in plan
        for m in line["milestones"]
    ]
    assert len(expected) == 3
    assert sorted([r[0], r[3], r[4], r[5]] for r in rows) == sorted(expected)
    document = Document(io.BytesIO(response.data))
    body = "\n".join(p.text for p in document.paragraphs)
    assert rec.text in body and "No metrics recorded in this submission." in body
    assert document.paragraphs[0].text.startswith("Corrective Action Plan (submission 1, corrective action plan")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "export.submission_plan"))
    assert event.recommendation_id == rec.id and event.object_id == submission.id
    assert event.after_data["format"] == "docx" and event.after_data["snapshot_sha256"] == submission.snapshot_sha256


def test_a_closure_request_document_shows_its_evidence_and_metric_results_as_sent(client, db, demo, login_as):
    from app.auth.models import User
    from app.submissions.services import submit

    rec = _demo_rec(db)
    rec.status = "resolved_open"
    policy = db.session.scalar(sa.select(User).where(User.email == "policy@example.gov"))
    from app.submissions.package import readiness_for

    closure = submit(
        rec,
        "closure_request",
        "Done; here is the proof.",
        policy,
        acknowledgements={i.key: "Tracked." for i in readiness_for(rec)},
    )
    db.session.commit()
    sections = {s["key"]: s["data"] for s in closure.snapshot["sections"]}
    assert sections["evidence"] and sections["metrics"]

    login_as(user=policy)
    from docx import Document

    document = Document(io.BytesIO(client.get(f"/exports/submissions/{closure.id}/plan.docx").data))
    tables = {t.rows[0].cells[0].text: t for t in document.tables}
    evidence = [[c.text for c in row.cells] for row in tables["Evidence"].rows[1:]]
    assert sorted(r[0] for r in evidence) == sorted(e["title"] for e in sections["evidence"])
    metrics = [[c.text for c in row.cells] for row in tables["Metric"].rows[1:]]
    assert len(metrics) == len(sections["metrics"])
    read = next(m for m in sections["metrics"] if m["value"] is not None)
    assert [f"{read['metric']} ({read['component']})", str(read["value"]), read["period"]] in [
        [r[0], r[4], r[5]] for r in metrics
    ]


def test_an_old_snapshot_without_sections_renders_them_as_none_recorded(client, db, make, login_as):
    from app.submissions.models import Submission
    from app.submissions.services import snapshot_digest

    rec = make.recommendation(text="Collect data on prosecutorial discretion.")
    staff = make.user("action_office", office=rec.action_office, name="Early Adopter")
    # As an early version wrote it: the recommendation without the office or issue date, no plan section.
    snapshot = {
        "schema": 1,
        "kind": "status_update",
        "taken_at": "2024-01-05T10:00:00",
        "narrative": "",
        "sections": [
            {
                "key": "recommendation",
                "title": "Recommendation",
                "data": {
                    "report": rec.report.number,
                    "number": rec.number,
                    "text": "Collect data on prosecutorial discretion.",
                    "status": "unresolved_open",
                    "concurrence": None,
                },
            }
        ],
    }
    old = Submission(
        recommendation_id=rec.id,
        number=1,
        kind="status_update",
        narrative="",
        snapshot=snapshot,
        snapshot_sha256=snapshot_digest(snapshot),
        submitted_by_id=staff.id,
        submitted_on=days(-40),
    )
    db.session.add(old)
    db.session.commit()

    login_as(user=staff)
    pdf = client.get(f"/exports/submissions/{old.id}/plan.pdf")
    assert pdf.status_code == 200
    text = _pdf_text(pdf.data)
    assert "Collect data on prosecutorial discretion." in text
    assert "No lines of effort recorded in this submission." in text
    assert "No metrics recorded in this submission." in text and "No evidence recorded in this submission." in text
    assert "Action office Not recorded in this submission" in text
    assert f"Deadlines as of {days(-40).isoformat()}" in text
    docx = client.get(f"/exports/submissions/{old.id}/plan.docx")
    assert docx.status_code == 200 and _docx_milestone_rows(docx.data) == []


def test_the_submission_page_links_to_the_plan_as_sent(client, login_as, sent_plan):
    _, submission, staff = sent_plan
    login_as(user=staff)
    page = client.get(f"/submissions/{submission.id}").get_data(as_text=True)
    assert f'href="/exports/submissions/{submission.id}/plan.pdf">plan as sent, PDF</a>' in page
    assert f'href="/exports/submissions/{submission.id}/plan.docx">plan as sent, Word (DOCX)</a>' in page


def test_who_may_not_see_a_submission_may_not_download_its_plan(client, db, make, login_as, sent_plan):
    _, submission, _ = sent_plan
    login_as("action_office", office=make.office("ICE"))
    assert client.get(f"/submissions/{submission.id}").status_code == 403
    for fmt in ("pdf", "docx"):
        assert client.get(f"/exports/submissions/{submission.id}/plan.{fmt}").status_code == 403
    assert client.get(f"/exports/submissions/{submission.id}/plan.rtf").status_code == 404
    assert client.get(f"/submissions/{submission.id + 1000}").status_code == 404
    assert client.get(f"/exports/submissions/{submission.id + 1000}/plan.pdf").status_code == 404
    assert (
        db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "export.submission_plan"))
        == 0
    )


def test_a_signed_out_visitor_is_sent_to_sign_in(client, sent_plan):
    _, submission, _ = sent_plan
    for url in (f"/submissions/{submission.id}", f"/exports/submissions/{submission.id}/plan.pdf"):
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def _csv_rows(response):
    text = response.data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_recommendation_export_honours_filters_and_office_scope(client, db, make, login_as):
    plcy, ice = make.office("DHS-PLCY"), make.office("ICE")
    open_rec = make.recommendation(office=plcy, status="unresolved_open", text="Collect data on releases.")
    make.recommendation(office=plcy, status="resolved_closed", text="Closed long ago.")
    make.recommendation(office=ice, status="unresolved_open", text="Another office's work.")
    login_as("action_office", office=plcy)
    rows = _csv_rows(client.get("/exports/recommendations.csv?status=unresolved_open"))
    assert [r["Text"] for r in rows] == ["Collect data on releases."]
    assert rows[0]["Report"] == open_rec.report.number
    rows = _csv_rows(client.get("/exports/recommendations.csv?q=releases"))
    assert [r["Text"] for r in rows] == ["Collect data on releases."]
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "export.recommendations").order_by(AuditEvent.id)
    ).all()[-1]
    assert event.after_data == {"format": "csv", "filters": {"q": "releases"}, "rows": 1}


def test_milestone_export_as_xlsx_with_overdue_filter(client, db, make, login_as):
    line = make.line(make.recommendation())
    late = make.milestone(line, title="Late one", due=days(-3))
    make.milestone(line, title="On time", due=days(20))
    make.milestone(line, title="Done late", due=days(-5), status="completed")
    login_as("oig_reviewer")
    response = client.get("/exports/milestones.xlsx?overdue=1")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.values)
    header, rows = values[0], values[1:]
    assert [r[header.index("Milestone")] for r in rows] == [late.title]
    assert rows[0][header.index("Overdue")] == "yes"


def test_audit_trail_export_is_limited_to_the_users_recommendations(client, db, make, login_as):
    from app.audit import record

    mine, theirs = make.recommendation(), make.recommendation(office=make.office("CBP"))
    record("test.mine", mine, recommendation_id=mine.id)
    record("test.theirs", theirs, recommendation_id=theirs.id)
    db.session.commit()
    login_as("manager")
    actions = [r["Action"] for r in _csv_rows(client.get("/exports/audit-trail.csv?action=test."))]
    assert actions == ["test.mine"]


def test_csv_cells_that_look_like_formulas_are_defused(client, db, make, login_as):
    make.recommendation(text='=HYPERLINK("http://evil")')
    login_as("oig_reviewer")
    rows = _csv_rows(client.get("/exports/recommendations.csv"))
    assert rows[0]["Text"].startswith("'=")


@pytest.mark.parametrize(
    "url, status",
    [
        ("/exports/nothing.csv", 404),
        ("/exports/recommendations.pdf", 404),
        ("/exports/semiannual?period_end=2025-06-30", 404),
        ("/exports/semiannual.docx", 404),
        ("/exports/semiannual.pdf?period_end=2025-06-30", 404),
        ("/exports/semiannual?period_end=not-a-date", 200),  # falls back to the latest period
        ("/exports/milestones.csv?due_from=garbage&recommendation=x", 200),
    ],
)
def test_bad_export_parameters_never_give_a_500(client, login_as, url, status):
    login_as("oig_reviewer")
    assert client.get(url).status_code == status


def test_exports_page_is_served(client, login_as):
    login_as("manager")
    page = client.get("/exports/").get_data(as_text=True)
    assert "Semiannual report to Congress" in page


@pytest.mark.parametrize(
    "url",
    [
        "/exports/milestones.csv",
        "/exports/recommendations.xlsx",
        "/exports/audit-trail.csv",
        "/exports/semiannual.csv?period_end=2026-09-30",
    ],
)
def test_export_query_count_does_not_grow_with_rows(app, client, db, make, login_as, url):
    from app.audit import record
    from tests.querycount import count_queries

    def add_rows():
        rec = make.recommendation(issued_on=days(-400))
        make.milestone(make.line(rec), owner=make.user("action_office"))
        record("test.row", rec, recommendation_id=rec.id)
        db.session.commit()

    add_rows()
    login_as("oig_reviewer")
    with count_queries(app) as few:
        client.get(url)
    for _ in range(5):
        add_rows()
    with count_queries(app) as many:
        client.get(url)
    assert many.count == few.count, many.statements[few.count - 2 : few.count + 3]


def test_the_acknowledgements_of_a_closure_request_are_in_its_documents_and_the_live_plan(client, db, demo, login_as):
    from docx import Document
    from pypdf import PdfReader

    from app.auth.models import User
    from app.submissions.package import readiness_for
    from app.submissions.services import submit

    rec = _demo_rec(db)
    rec.status = "resolved_open"
    policy = db.session.scalar(sa.select(User).where(User.email == "policy@example.gov"))
    items = readiness_for(rec)
    assert items
    words = {i.key: f"Acknowledged {n}: finished after closure, tracked by ICE." for n, i in enumerate(items)}
    closure = submit(rec, "closure_request", "Done; here is the proof.", policy, acknowledgements=words)
    db.session.commit()
    recorded = next(s["data"] for s in closure.snapshot["sections"] if s["key"] == "readiness")
    assert sorted(r["acknowledgement"] for r in recorded) == sorted(words.values())

    login_as("oig_reviewer")
    for url in (f"/exports/submissions/{closure.id}/plan", f"/exports/recommendations/{rec.id}/plan"):
        pdf = client.get(f"{url}.pdf")
        assert pdf.status_code == 200, url
        text = _squash(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages))
        assert "acknowledged by the sender" in text
        for n, item in enumerate(items):
            assert f"Acknowledged {n}: finished after closure, tracked by ICE." in text
        document = Document(io.BytesIO(client.get(f"{url}.docx").data))
        tables = {t.rows[0].cells[0].text: t for t in document.tables}
        rows = [[c.text for c in row.cells] for row in tables["Not done"].rows[1:]]
        assert sorted(rows) == sorted([i.text, words[i.key]] for i in items)
        headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
        assert any("acknowledged by the sender" in h for h in headings)


def test_a_plan_with_no_closure_request_has_no_acknowledgements_section(client, db, demo, login_as):
    from docx import Document

    rec = _demo_rec(db)
    login_as("oig_reviewer")
    document = Document(io.BytesIO(client.get(f"/exports/recommendations/{rec.id}/plan.docx").data))
    assert "Not done" not in {t.rows[0].cells[0].text for t in document.tables}
