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
        response = client.post_form(url, {"files-0-file": (io.BytesIO(body), "notes.txt"), "files-0-title": "Notes",
                                          "files-0-description": ""},
                                    token_from=url, content_type="multipart/form-data")
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
    threads = [threading.Thread(target=_uploader, args=(app, user.email, milestone.id, stop, outcomes))
               for _ in range(UPLOADERS)]
    for thread in threads:
        thread.start()
    try:
        while len(outcomes) < UPLOADERS:
            time.sleep(0.05)  # every uploader is signed in and sending
        results = [app.test_cli_runner().invoke(args=["backup", "create", str(tmp_path / f"backup-{n}")])
                   for n in range(BACKUPS)]
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
