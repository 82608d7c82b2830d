"""Faults around evidence files: backups while uploads run, uploads cut off by a crash."""

import io
import os
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from app.evidence.models import EvidenceItem
from tests import evidence_files as files
from tests.factories import PASSWORD

UPLOADERS = 4
BACKUPS = 6


def _uploader(app, email: str, milestone_id: int, stop: threading.Event, outcomes: list):
    client = app.test_client()
    client.post_form("/sign-in", {"email": email, "password": PASSWORD}, token_from="/sign-in")
    url = f"/milestones/{milestone_id}/evidence"
    body = files.TXT * 4_000  # about 200 kB: written to .incoming while a backup walks the tree
    while not stop.is_set():
        response = client.post_form(
            url,
            {"files-0-file": (io.BytesIO(body), "notes.txt"), "files-0-title": "Notes", "files-0-description": ""},
            token_from=url,
            content_type="multipart/form-data",
        )
        outcomes.append(response.status_code)


def test_backups_while_uploads_run_all_succeed_and_hold_no_partial_file(app, db, make, tmp_path):
    rec = make.recommendation()
    milestone = make.milestone(make.line(rec))
    user = make.user("action_office", office=rec.action_office)
    db.session.commit()
    incoming = Path(app.config["EVIDENCE_DIR"]) / ".incoming"
    incoming.mkdir(parents=True)
    (incoming / "left-by-a-crash.part").write_bytes(b"half an upload")  # always there, whatever the timing
    stop, outcomes = threading.Event(), []
    threads = [
        threading.Thread(target=_uploader, args=(app, user.email, milestone.id, stop, outcomes))
        for _ in range(UPLOADERS)
    ]
    for thread in threads:
        thread.start()
    try:
        while len(outcomes) < UPLOADERS:
            time.sleep(0.05)  # every uploader is signed in and sending
        results = [
            app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / f"backup-{n}")])
            for n in range(BACKUPS)
        ]
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    assert [r.exit_code for r in results] == [0] * BACKUPS, [r.output for r in results]
    for n in range(BACKUPS):
        held = [p.relative_to(tmp_path).as_posix() for p in (tmp_path / f"backup-{n}").rglob("*")]
        assert not [p for p in held if p.endswith(".part") or ".incoming" in p], held
    assert set(outcomes) == {302}
    db.session.remove()
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(EvidenceItem))
    assert stored == len(outcomes)


def _leftovers(app):
    """Two partial uploads and two stored files without a record: one of each older than an hour."""
    root = Path(app.config["EVIDENCE_DIR"])
    (root / ".incoming").mkdir(parents=True, exist_ok=True)
    (root / "ab").mkdir(parents=True, exist_ok=True)
    old = time.time() - 2 * 3600
    paths = {
        "old_part": root / ".incoming" / "0ld.part",
        "new_part": root / ".incoming" / "n3w.part",
        "old_stray": root / "ab" / ("ab" + "1" * 38),
        "new_stray": root / "ab" / ("ab" + "2" * 38),
    }
    for path in paths.values():
        path.write_bytes(b"half")
    for key in ("old_part", "old_stray"):
        os.utime(paths[key], (old, old))
    return paths


def test_evidence_verify_reports_partial_and_unrecorded_files_and_clean_removes_the_old_ones(app, db):
    from app.audit import AuditEvent

    paths = _leftovers(app)
    runner = app.test_cli_runner()
    report = runner.invoke(args=["evidence", "verify"])
    assert report.exit_code == 0, report.output
    assert "partial upload: .incoming/0ld.part, 2.0 h old (an upload cut off by a crash)" in report.output
    assert "partial upload: .incoming/n3w.part, 0 min old (may be an upload still running; kept)" in report.output
    assert f"stored but belongs to no record: {paths['old_stray'].name}, 2.0 h old" in report.output
    assert f"stored but belongs to no record: {paths['new_stray'].name}, 0 min old" in report.output
    assert all(p.exists() for p in paths.values())

    cleaned = runner.invoke(args=["evidence", "verify", "--clean"])
    assert cleaned.exit_code == 0, cleaned.output
    assert (
        "  removing .incoming/0ld.part" in cleaned.output and f"  removing {paths['old_stray'].name}" in cleaned.output
    )
    assert "removed 1 partial upload(s) and 1 file(s) without a record" in cleaned.output
    assert not paths["old_part"].exists() and not paths["old_stray"].exists()
    assert paths["new_part"].exists() and paths["new_stray"].exists()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "evidence.clean"))
    assert event.after_data == {"partial": ["0ld.part"], "unrecorded": [paths["old_stray"].name]}


def test_the_daily_job_and_the_scheduler_start_remove_partial_uploads_older_than_an_hour(app, db, monkeypatch):
    from app.reminders import cli

    paths = _leftovers(app)
    cli.housekeeping_job(app)
    assert not paths["old_part"].exists() and paths["new_part"].exists()
    assert paths["old_stray"].exists()  # a file without a record waits for a person's --clean

    paths = _leftovers(app)
    started = []
    # The command cleans before it joins the leader election; the election loop itself is not run here.
    monkeypatch.setattr(cli, "run_scheduler", lambda app, stop: started.append(1))
    monkeypatch.setattr(cli.signal, "signal", lambda *args: None)
    result = app.test_cli_runner().invoke(args=["scheduler"])
    assert result.exit_code == 0 and started == [1]
    assert not paths["old_part"].exists() and paths["new_part"].exists()
