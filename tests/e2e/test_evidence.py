"""Evidence in the browser: upload, a second version, OIG's review, byte-identical downloads, the 413 page."""

import sqlalchemy as sa
from playwright.sync_api import expect

from app.evidence.models import EvidenceItem
from app.extensions import db
from tests import evidence_files as files

MILESTONE = "Deputy Secretary approves the data strategy and corrective action plan"


def _milestone_id() -> int:
    from app.milestones.models import Milestone

    return db.session.scalar(sa.select(Milestone.id).where(Milestone.title == MILESTONE))


def test_upload_a_version_review_and_download(page, sign_in, demo, live_server, app):
    sign_in("policy@example.gov", open=f"/milestones/{_milestone_id()}/evidence")
    expect(page.get_by_role("heading", level=1)).to_contain_text(MILESTONE)
    page.locator("#files-0-file").set_input_files(
        files=[{"name": "approval-memo.pdf", "mimeType": "application/pdf", "buffer": files.PDF}]
    )
    page.get_by_label("Title").fill("Approval memorandum")
    page.get_by_label("Description").fill("Signed by the Deputy Secretary.")
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_text("1 file uploaded.")).to_be_visible()

    page.get_by_role("link", name="Approval memorandum").click()
    page.locator("#file").set_input_files(
        files=[{"name": "approval-memo-signed.pdf", "mimeType": "application/pdf", "buffer": files.PDF_V2}]
    )
    page.get_by_label("What changed").fill("Countersigned copy")
    page.get_by_role("button", name="Upload new version").click()
    expect(page.get_by_text("Version 2 uploaded.")).to_be_visible()
    item_url = page.url
    assert page.console_errors == []

    page.get_by_role("button", name="Sign out").click()
    sign_in("oig@example.gov", open=item_url)
    expect(page.get_by_role("button", name="Upload new version")).to_have_count(0)
    page.locator("label.usa-radio__label", has_text="Accepted").click()  # USWDS hides the input itself
    expect(page.get_by_label("Accepted")).to_be_checked()
    page.get_by_label("Comment").fill("Signed and countersigned; accepted.")
    page.get_by_role("button", name="Record review").click()
    expect(page.get_by_text("Marked accepted.")).to_be_visible()
    expect(page.locator(".app-evidence--accepted")).to_have_text("Accepted")

    item = db.session.scalar(sa.select(EvidenceItem).where(EvidenceItem.title == "Approval memorandum"))
    expected = {1: (files.PDF, "approval-memo.pdf"), 2: (files.PDF_V2, "approval-memo-signed.pdf")}
    for version in item.versions:
        content, name = expected[version.number]
        with page.expect_download() as info:
            page.get_by_role("link", name=f"Download {name}").click()
        download = info.value
        assert download.suggested_filename == name
        assert open(download.path(), "rb").read() == content
        response = page.request.get(f"/evidence/versions/{version.id}/download")
        assert response.body() == content
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-disposition"].startswith("attachment;")
        assert name in response.headers["content-disposition"]
    assert page.console_errors == []


def test_an_over_size_upload_gets_a_clear_page(page, sign_in, demo, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    sign_in("policy@example.gov", open=f"/milestones/{_milestone_id()}/evidence")
    big = files.PDF + b"%" + b"x" * (3 * 1024 * 1024)
    page.locator("#files-0-file").set_input_files(
        files=[{"name": "big.pdf", "mimeType": "application/pdf", "buffer": big}]
    )
    page.get_by_label("Title").fill("Too big")
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_role("heading", name="File too large")).to_be_visible()
    expect(page.get_by_text("Nothing was saved.")).to_be_visible()


def test_a_refused_type_is_explained_next_to_the_field(page, sign_in, demo):
    sign_in("policy@example.gov", open=f"/milestones/{_milestone_id()}/evidence")
    page.locator("#files-0-file").set_input_files(
        files=[{"name": "report.pdf", "mimeType": "application/pdf", "buffer": files.ELF}]
    )
    page.get_by_label("Title").fill("Not a PDF")
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#files-0-file-error")).to_contain_text("This type of file is not accepted")
