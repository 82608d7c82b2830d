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
    expected = [[m.title, m.baseline_due_on.isoformat(), m.current_due_on.isoformat(), m.status_label]
                for m in _milestones(db)]
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
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export.recommendations")
                               .order_by(AuditEvent.id)).all()[-1]
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
    make.recommendation(text="=HYPERLINK(\"http://evil\")")
    login_as("oig_reviewer")
    rows = _csv_rows(client.get("/exports/recommendations.csv"))
    assert rows[0]["Text"].startswith("'=")


@pytest.mark.parametrize("url, status", [
    ("/exports/nothing.csv", 404), ("/exports/recommendations.pdf", 404),
    ("/exports/semiannual?period_end=2025-06-30", 404), ("/exports/semiannual.pdf", 404),
    ("/exports/semiannual?period_end=not-a-date", 200),  # falls back to the latest period
    ("/exports/milestones.csv?due_from=garbage&recommendation=x", 200),
])
def test_bad_export_parameters_never_give_a_500(client, login_as, url, status):
    login_as("oig_reviewer")
    assert client.get(url).status_code == status


def test_exports_page_is_served(client, login_as):
    login_as("manager")
    page = client.get("/exports/").get_data(as_text=True)
    assert "Semiannual report to Congress" in page


@pytest.mark.parametrize("url", ["/exports/milestones.csv", "/exports/recommendations.xlsx",
                                 "/exports/audit-trail.csv", "/exports/semiannual.csv?period_end=2026-09-30"])
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
    assert many.count == few.count, many.statements[few.count - 2:few.count + 3]
