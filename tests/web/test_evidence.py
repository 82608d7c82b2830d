"""Evidence: uploads streamed to disk and checked by content, versions, review, withdrawal, downloads."""

import hashlib
import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.evidence.models import EvidenceItem, EvidenceReview, EvidenceVersion
from app.evidence.services import closure_package
from tests import evidence_files as files
from tests.factories import PASSWORD


def stored_files(app) -> list[str]:
    root = Path(app.config["EVIDENCE_DIR"])
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def upload(client, url, *entries, token_from="/"):
    """entries: (bytes, filename, title[, description])."""
    data = {}
    for i, (content, filename, title, *rest) in enumerate(entries):
        data[f"files-{i}-file"] = (io.BytesIO(content), filename)
        data[f"files-{i}-title"] = title
        data[f"files-{i}-description"] = rest[0] if rest else ""
    return client.post_form(url, data, token_from=token_from, content_type="multipart/form-data")


@pytest.fixture
def milestone(make, db):
    m = make.milestone()
    db.session.commit()
    return m


def client_for(app, user):
    """Another browser, signed in as ``user``."""
    other = app.test_client()
    response = other.post_form("/sign-in", {"email": user.email, "password": PASSWORD}, token_from="/sign-in")
    assert response.status_code == 302
    return other


def count(db, model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_upload_streams_to_a_generated_name_with_its_hash(app, client, login_as, milestone, db):
    login_as("action_office")
    response = upload(
        client,
        f"/milestones/{milestone.id}/evidence",
        (files.PDF, "charter.pdf", "Signed charter", "The signed charter."),
    )
    assert response.status_code == 302
    version = db.session.scalar(sa.select(EvidenceVersion))
    assert version.item.title == "Signed charter" and version.item.milestone_id == milestone.id
    assert version.original_filename == "charter.pdf" and version.content_type == "application/pdf"
    assert version.sha256 == hashlib.sha256(files.PDF).hexdigest() and version.size_bytes == len(files.PDF)
    on_disk = stored_files(app)
    assert on_disk == [f"{version.storage_key[:2]}/{version.storage_key}"]  # no temporary file left behind
    assert "charter" not in on_disk[0]
    assert not Path(app.config["EVIDENCE_DIR"]).resolve().is_relative_to(Path(app.static_folder).resolve())
    assert (Path(app.config["EVIDENCE_DIR"]) / on_disk[0]).read_bytes() == files.PDF
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "evidence.upload"))
    assert event.after_data["sha256"] == version.sha256 and event.recommendation_id == version.item.recommendation_id


def test_several_files_in_one_upload_each_with_a_title(app, client, login_as, make, db):
    rec = make.recommendation()
    db.session.commit()
    login_as("action_office")
    page = client.get(f"/recommendations/{rec.id}/evidence?rows=2").get_data(as_text=True)
    assert 'name="files-1-title"' in page
    response = upload(
        client,
        f"/recommendations/{rec.id}/evidence",
        (files.CSV, "figures.csv", "FY2014 figures"),
        (files.png(), "chart.png", "Chart"),
    )
    assert response.status_code == 302
    items = db.session.scalars(sa.select(EvidenceItem).order_by(EvidenceItem.id)).all()
    assert [(i.title, i.milestone_id, i.versions[0].content_type) for i in items] == [
        ("FY2014 figures", None, "text/csv"),
        ("Chart", None, "image/png"),
    ]
    assert len(stored_files(app)) == 2


@pytest.mark.parametrize(
    "content, filename",
    [
        (files.PDF, "charter.pdf"),
        (files.ooxml("docx"), "memo.docx"),
        (files.ooxml("xlsx"), "data.xlsx"),
        (files.ooxml("pptx"), "briefing.pptx"),
        (files.CSV, "figures.csv"),
        (files.TXT, "notes.txt"),
        (files.png(), "chart.png"),
        (files.JPEG, "photo.jpeg"),
        (files.PDF, "报告.pdf"),
    ],
)
def test_every_allowed_type_is_accepted_by_content(client, login_as, milestone, db, content, filename):
    login_as("action_office")
    response = upload(client, f"/milestones/{milestone.id}/evidence", (content, filename, "A document"))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.scalar(sa.select(EvidenceVersion.original_filename)) == filename


@pytest.mark.parametrize(
    "content, filename, message",
    [
        (files.ELF, "report.pdf", "This type of file is not accepted"),
        (b"", "empty.pdf", "The file is empty"),
        (files.plain_zip(), "archive.docx", "This type of file is not accepted"),
        (files.ooxml("docm"), "macro.docx", "This type of file is not accepted"),
        (files.CSV + b"\x00\x01", "figures.csv", "This type of file is not accepted"),
        (b"\xff\xfe not utf-8 \xc3\x28", "notes.txt", "This type of file is not accepted"),
        (files.PDF, "picture.png", "its name ends in"),
        (files.PDF, "../../x.pdf", "may not contain a folder path"),
        # Werkzeug's parser already drops the backslash; what is left still may not be a dot-file.
        (files.PDF, "..\\evil.pdf", "Rename the file and try again."),
        (files.PDF, "a\x00b.pdf", "control characters"),
        (files.PDF, ".hidden.pdf", "may not start with a dot"),
    ],
)
def test_refused_uploads_leave_no_row_and_no_file(app, client, login_as, milestone, db, content, filename, message):
    login_as("action_office")
    before = stored_files(app)
    response = upload(client, f"/milestones/{milestone.id}/evidence", (content, filename, "A document"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page and "Nothing was saved" in page
    assert count(db, EvidenceItem) == 0 and count(db, EvidenceVersion) == 0
    assert stored_files(app) == before


def test_missing_title_or_file_is_explained(app, client, login_as, milestone, db):
    login_as("action_office")
    response = client.post_form(
        f"/milestones/{milestone.id}/evidence",
        {"files-0-title": "", "files-0-description": ""},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose a file to upload." in page and "Give the document a title." in page


def test_over_size_upload_is_a_clear_413_and_leaves_nothing(app, client, login_as, milestone, db):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    login_as("action_office")
    before = stored_files(app)
    big = files.PDF + b"%" + b"x" * (100 * 1024)
    response = upload(client, f"/milestones/{milestone.id}/evidence", (big, "big.pdf", "Too big"))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "File too large" in page and "larger than the 64 KB this site accepts" in page
    assert "Nothing was saved" in page
    assert count(db, EvidenceItem) == 0 and stored_files(app) == before


def test_a_crash_before_the_commit_leaves_no_row_and_no_file(app, client, login_as, milestone, db):
    login_as("action_office")
    before = stored_files(app)

    def crash(session):
        if any(isinstance(o, EvidenceVersion) for o in session.new) or any(
            isinstance(o, EvidenceVersion) for o in session.identity_map.values()
        ):
            raise RuntimeError("forced crash between writing the file and committing the row")

    sa.event.listen(db.session, "before_commit", crash)
    try:
        response = upload(client, f"/milestones/{milestone.id}/evidence", (files.PDF, "a.pdf", "Crash"))
    finally:
        sa.event.remove(db.session, "before_commit", crash)
    assert response.status_code == 500
    assert count(db, EvidenceItem) == 0 and count(db, EvidenceVersion) == 0
    assert stored_files(app) == before


def test_virus_scan_hook_runs_before_a_file_is_accepted(app, client, login_as, milestone, db):
    # A real command: refuses any file that contains the word MALWARE.
    app.config["EVIDENCE_SCAN_COMMAND"] = "sh -c '! grep -q MALWARE \"$1\"' scan {path}"
    login_as("action_office")
    url = f"/milestones/{milestone.id}/evidence"
    refused = upload(client, url, (b"this file carries MALWARE\n", "notes.txt", "Infected"))
    assert refused.status_code == 400 and "virus scan did not pass" in refused.get_data(as_text=True)
    assert count(db, EvidenceItem) == 0 and stored_files(app) == []
    assert upload(client, url, (files.TXT, "notes.txt", "Clean")).status_code == 302
    app.config["EVIDENCE_SCAN_COMMAND"] = "/nonexistent/clamdscan --no-summary {path}"
    unscanned = upload(client, url, (files.TXT, "notes.txt", "Unscanned"))
    assert unscanned.status_code == 400 and "could not be checked for viruses" in unscanned.get_data(as_text=True)
    assert count(db, EvidenceItem) == 1


def _item(client, login_as, milestone, db, content=files.PDF, filename="charter.pdf"):
    user = login_as("action_office")
    upload(client, f"/milestones/{milestone.id}/evidence", (content, filename, "Charter"))
    return db.session.scalar(sa.select(EvidenceItem)), user


def test_a_new_version_keeps_every_earlier_one_downloadable(app, client, login_as, milestone, db):
    item, _ = _item(client, login_as, milestone, db)
    response = client.post_form(
        f"/evidence/{item.id}",
        {"action": "version"} | {"file": (io.BytesIO(files.PDF_V2), "charter-v2.pdf"), "note": "Signature added"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.expire_all()
    v2, v1 = item.versions
    assert (v1.number, v2.number, item.current_version) == (1, 2, 2)
    assert client.get(f"/evidence/versions/{v1.id}/download").data == files.PDF
    assert client.get(f"/evidence/versions/{v2.id}/download").data == files.PDF_V2
    assert len(stored_files(app)) == 2
    page = client.get(f"/evidence/{item.id}").get_data(as_text=True)
    assert "Download charter.pdf" in page and "Download charter-v2.pdf" in page and "Signature added" in page
    assert "PDF · " in page and "application/pdf" not in page  # what a reader calls the file, not its media type
    assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "evidence.version"))


def test_download_headers(app, client, login_as, milestone, db):
    item, _ = _item(client, login_as, milestone, db, files.PDF, "报告 final.pdf")
    response = client.get(f"/evidence/versions/{item.versions[0].id}/download")
    assert response.status_code == 200 and response.data == files.PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E6%8A%A5%E5%91%8A%20final.pdf" in disposition


def test_images_preview_inline_and_other_files_never(app, client, login_as, milestone, db):
    item, _ = _item(client, login_as, milestone, db, files.png(), "chart.png")
    response = client.get(f"/evidence/versions/{item.versions[0].id}/preview")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"].startswith("inline")
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert 'alt="Preview of chart.png"' in client.get(f"/evidence/{item.id}").get_data(as_text=True)


def test_oig_reviews_and_the_office_sees_it(app, client, login_as, milestone, db, make):
    item, office_user = _item(client, login_as, milestone, db)
    refused = client.post_form(
        f"/evidence/{item.id}", {"action": "review"} | {"decision": "accepted", "comment": "Self-review"}
    )
    assert refused.status_code == 403
    reviewer = make.user("oig_reviewer")
    db.session.commit()
    office_client, client = client, client_for(app, reviewer)
    assert (
        client.post_form(
            f"/evidence/{item.id}",
            {"action": "version"} | {"file": (io.BytesIO(files.PDF), "x.pdf")},
            content_type="multipart/form-data",
        ).status_code
        == 403
    )
    no_comment = client.post_form(
        f"/evidence/{item.id}", {"action": "review"} | {"decision": "insufficient", "comment": ""}
    )
    assert no_comment.status_code == 400 and "Explain the decision." in no_comment.get_data(as_text=True)
    bad = client.post_form(f"/evidence/{item.id}", {"action": "review"} | {"decision": "rejected", "comment": "x"})
    assert bad.status_code == 400
    ok = client.post_form(
        f"/evidence/{item.id}",
        {"action": "review"} | {"decision": "insufficient", "comment": "The charter is not signed."},
    )
    assert ok.status_code == 302
    db.session.expire_all()
    assert item.review_status == "insufficient"
    review = db.session.scalar(sa.select(EvidenceReview))
    assert (review.reviewer_id, review.version.number) == (reviewer.id, 1)
    client = office_client
    for url in (f"/milestones/{milestone.id}/evidence", "/evidence/attention"):
        page = client.get(url).get_data(as_text=True)
        assert "Insufficient" in page and "The charter is not signed." in page
    # A new version goes back to OIG.
    client.post_form(
        f"/evidence/{item.id}",
        {"action": "version"} | {"file": (io.BytesIO(files.PDF_V2), "charter.pdf")},
        content_type="multipart/form-data",
    )
    db.session.expire_all()
    assert item.review_status == "pending"
    assert "The charter is not signed." not in client.get("/evidence/attention").get_data(as_text=True)


def test_withdrawal_keeps_the_record_and_the_file(app, client, login_as, milestone, db):
    item, _ = _item(client, login_as, milestone, db)
    assert client.post_form(f"/evidence/{item.id}", {"action": "withdraw"} | {"reason": ""}).status_code == 400
    assert (
        client.post_form(f"/evidence/{item.id}", {"action": "withdraw"} | {"reason": "Superseded"}).status_code == 302
    )
    db.session.expire_all()
    assert item.is_withdrawn and item.withdrawal_reason == "Superseded"
    assert client.get(f"/evidence/versions/{item.versions[0].id}/download").data == files.PDF
    assert client.post_form(f"/evidence/{item.id}", {"action": "withdraw"} | {"reason": "Again"}).status_code == 409
    again = client.post_form(
        f"/evidence/{item.id}",
        {"action": "version"} | {"file": (io.BytesIO(files.PDF), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert again.status_code == 409
    assert "Withdrawn" in client.get(f"/milestones/{milestone.id}/evidence").get_data(as_text=True)
    assert closure_package(item.recommendation_id) == []
    assert db.session.scalar(sa.select(AuditEvent.after).where(AuditEvent.action == "evidence.withdraw"))


def test_evidence_dir_under_static_is_refused_at_startup(app):
    from app import create_app

    from config import TestConfig

    class UnderStatic(TestConfig):
        EVIDENCE_DIR = str(Path(app.static_folder) / "evidence")

    with pytest.raises(RuntimeError, match="EVIDENCE_DIR must not be under static"):
        create_app(UnderStatic)


def test_the_database_refuses_to_delete_or_change_evidence(app, db, client, login_as, milestone):
    item, _ = _item(client, login_as, milestone, db)
    for statement in (
        "UPDATE evidence_versions SET sha256 = 'x'",
        "DELETE FROM evidence_versions",
        "DELETE FROM evidence_items",
    ):
        with pytest.raises(sa.exc.DatabaseError):
            db.session.execute(sa.text(statement))
            db.session.commit()
        db.session.rollback()
    assert count(db, EvidenceVersion) == 1


def test_the_recommendation_page_summarises_its_evidence(client, demo):
    client.post_form("/sign-in", {"email": "policy@example.gov", "password": PASSWORD}, token_from="/sign-in")
    page = " ".join(client.get("/recommendations/1").get_data(as_text=True).split())
    assert "3 evidence items: 1 accepted, 1 insufficient, 1 awaiting review." in page
    assert 'href="/recommendations/1/evidence"' in page


def test_the_milestone_partial_lists_the_milestones_evidence(app, demo, db):
    from flask import render_template_string
    from flask_login import login_user

    from app.auth.models import User
    from app.milestones.models import Milestone

    milestone = db.session.get(Milestone, 1)
    with app.test_request_context("/milestones/1"):
        login_user(db.session.scalar(sa.select(User).where(User.email == "policy@example.gov")))
        html = render_template_string('{% include "evidence/_milestone_evidence.html" %}', milestone=milestone)
    assert "Signed working group charter" in html and "Accepted" in html
    assert "PD-working-group-charter.pdf" in html
    assert 'href="/milestones/1/evidence">Upload or manage evidence' in html


def test_a_semicolon_in_a_name_stays_inside_the_header_value(app, client, login_as, milestone, db):
    from werkzeug.http import parse_options_header

    name = "memo; filename=evil.exe.pdf"
    item, _ = _item(client, login_as, milestone, db, files.PDF, name)
    assert item.versions[0].original_filename == name
    disposition = client.get(f"/evidence/versions/{item.versions[0].id}/download").headers["Content-Disposition"]
    assert disposition == (
        "attachment; filename=\"memo_filename_evil.exe.pdf\"; filename*=UTF-8''memo%3B%20filename%3Devil.exe.pdf"
    )
    assert parse_options_header(disposition) == ("attachment", {"filename": name})


def test_a_refused_review_comes_back_at_the_item_s_address_with_its_summary(app, client, login_as, milestone, db, make):
    item, _ = _item(client, login_as, milestone, db)
    reviewer = make.user("oig_reviewer")
    db.session.commit()
    oig = client_for(app, reviewer)
    page = oig.get(f"/evidence/{item.id}").get_data(as_text=True)
    for action in ("review",):
        assert f'action="/evidence/{item.id}"' in page.split(f'name="action" value="{action}"')[0].rsplit("<form", 1)[1]
    response = oig.post_form(f"/evidence/{item.id}", {"action": "review", "decision": "insufficient", "comment": ""})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "app-error-summary" in body and "Explain the decision." in body
    assert f'action="/evidence/{item.id}"' in body.split('name="action" value="review"')[0].rsplit("<form", 1)[1]
    assert oig.post_form(f"/evidence/{item.id}", {"decision": "accepted", "comment": "x"}).status_code == 400
    for old in ("versions", "review", "withdraw"):
        assert oig.post_form(f"/evidence/{item.id}/{old}", {"comment": "x"}).status_code in (404, 405)
    db.session.refresh(item)
    assert item.review_status == "pending"
