"""Stored evidence is re-hashed by `flask evidence verify` and the admin page; the demo brings real files."""

from pathlib import Path

import sqlalchemy as sa

from app.evidence.models import EvidenceCheck, EvidenceItem, EvidenceReview, EvidenceVersion
from app.evidence.storage import LocalStorage


def _path(app, version) -> Path:
    return Path(app.config["EVIDENCE_DIR"]) / version.storage_key[:2] / version.storage_key


def test_the_demo_attaches_real_pdf_and_csv_files_to_completed_milestones(app, db, demo):
    items = db.session.scalars(sa.select(EvidenceItem).order_by(EvidenceItem.id)).all()
    assert len(items) == 3 and all(i.milestone.status == "completed" for i in items)
    types = {i.versions[0].original_filename: i.versions[0].content_type for i in items}
    assert types["PD-working-group-charter.pdf"] == "application/pdf"
    assert types["system-inventory.csv"] == "text/csv"
    storage = LocalStorage(app.config["EVIDENCE_DIR"])
    for item in items:
        version = item.versions[0]
        assert storage.verify(version.storage_key, version.sha256) == "ok"
    pdf = _path(app, items[0].versions[0]).read_bytes()
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    # The cross-reference table points at each object: the PDF is well formed, not just labelled.
    xref_at = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[xref_at:].startswith(b"xref")
    offsets = [int(line[:10]) for line in pdf[xref_at:].split(b"\n")[3:8]]
    assert [pdf[o:].split(b" ")[0] for o in offsets] == [b"1", b"2", b"3", b"4", b"5"]
    assert {i.review_status for i in items} == {"accepted", "pending", "insufficient"}


def test_seed_demo_twice_adds_no_evidence(app, db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "a demo password of some length")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    counts = [
        db.session.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (EvidenceItem, EvidenceVersion, EvidenceReview)
    ]
    files = sorted(Path(app.config["EVIDENCE_DIR"]).rglob("*"))
    assert counts == [3, 3, 2]
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert [
        db.session.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (EvidenceItem, EvidenceVersion, EvidenceReview)
    ] == counts
    assert sorted(Path(app.config["EVIDENCE_DIR"]).rglob("*")) == files


def test_verify_passes_then_fails_naming_an_altered_or_missing_file(app, db, demo):
    runner = app.test_cli_runner()
    clean = runner.invoke(args=["evidence", "verify"])
    assert clean.exit_code == 0, clean.output
    assert "evidence intact: 3 files" in clean.output

    versions = db.session.scalars(sa.select(EvidenceVersion).order_by(EvidenceVersion.id)).all()
    altered = _path(app, versions[1])
    data = bytearray(altered.read_bytes())
    data[40] ^= 0x01  # one byte
    altered.write_bytes(bytes(data))
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 1
    assert f"ALTERED: {versions[1].storage_key} ({versions[1].original_filename}" in result.output
    assert versions[0].storage_key not in result.output

    _path(app, versions[2]).rename(_path(app, versions[2]).with_suffix(".moved"))
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 1 and f"MISSING: {versions[2].storage_key}" in result.output
    check = db.session.scalar(sa.select(EvidenceCheck).order_by(EvidenceCheck.id.desc()))
    assert {p["problem"] for p in check.problem_list} == {"altered", "missing"}


def test_the_admin_page_shows_the_last_result_and_runs_a_check(app, client, db, demo, login_as):
    login_as("admin")
    assert "No check has run yet." in client.get("/evidence/integrity").get_data(as_text=True)
    version = db.session.scalar(sa.select(EvidenceVersion).order_by(EvidenceVersion.id))
    path = _path(app, version)
    path.write_bytes(path.read_bytes() + b"\n")
    response = client.post_form("/evidence/integrity", token_from="/evidence/integrity", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "1 of 3 stored files are missing or altered" in page
    assert version.original_filename in page and version.storage_key in page
    assert app.test_cli_runner().invoke(args=["evidence", "verify"]).exit_code == 1
