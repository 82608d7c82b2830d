"""Benchmark: the daily reminder job over 50,000 milestones, 5,000 of them due, sent to a local aiosmtpd.

    .venv/bin/python bench/reminders.py            # SQLite in a temporary folder
    DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/reminders.py   # an empty database

Writes the result into bench/README.md, section "Reminders".
"""

import multiprocessing
import os
import re
import socket
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from app import create_app  # noqa: E402
from config import Config  # noqa: E402

MILESTONES = int(os.environ.get("BENCH_MILESTONES", 50_000))
DUE = int(os.environ.get("BENCH_DUE", 5_000))
OWNERS = 500
RECOMMENDATIONS = 50


class Counter:
    def __init__(self, count):
        self.count = count

    async def handle_DATA(self, server, session, envelope):
        with self.count.get_lock():
            self.count.value += 1
        return "250 OK"


def serve_smtp(port, count, stop) -> None:
    """The SMTP server in its own process, so that it does not share the job's interpreter lock."""
    controller = Controller(Counter(count), hostname="127.0.0.1", port=port)
    controller.start()
    stop.wait()
    controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(db, on: date) -> None:
    from app.auth.models import User
    from app.milestones.models import Milestone
    from app.offices.models import Office
    from app.recommendations.models import LineOfEffort, Recommendation
    from app.reports.models import Report

    office = Office(code="BENCH", name="Bench office")
    db.session.add(office)
    db.session.flush()
    db.session.execute(
        sa.insert(User),
        [
            {
                "email": f"owner{i}@example.gov",
                "name": f"Owner {i}",
                "role": "action_office",
                "office_id": office.id,
                "password_hash": "x",
            }
            for i in range(OWNERS)
        ],
    )
    owner_ids = db.session.scalars(sa.select(User.id).order_by(User.id)).all()
    report = Report(number="BENCH-1", title="Bench", issued_on=on - timedelta(days=10), oig_office="OIG")
    db.session.add(report)
    db.session.flush()
    db.session.execute(
        sa.insert(Recommendation),
        [
            {
                "report_id": report.id,
                "number": str(i),
                "text": "Bench",
                "status": "resolved_open",
                "action_office_id": office.id,
                "issued_on": on - timedelta(days=10),
                "management_decision_on": on - timedelta(days=5),
            }
            for i in range(RECOMMENDATIONS)
        ],
    )
    rec_ids = db.session.scalars(sa.select(Recommendation.id)).all()
    db.session.execute(sa.insert(LineOfEffort), [{"recommendation_id": r, "title": "Line"} for r in rec_ids])
    line_ids = db.session.scalars(sa.select(LineOfEffort.id)).all()
    rows = []
    for i in range(MILESTONES):
        if i < DUE:
            due, status = on + timedelta(days=7), "in_progress"  # due in 7 days: one email each
        elif i < 15_000:
            due, status = on - timedelta(days=i % 300 + 1), "completed"  # done: nothing to say
        else:
            due, status = on + timedelta(days=40 + i % 400), "not_started"  # beyond every reminder
        rows.append(
            {
                "line_of_effort_id": line_ids[i % len(line_ids)],
                "title": f"Bench milestone {i}",
                "owner_id": owner_ids[i % len(owner_ids)],
                "office_id": office.id,
                "baseline_due_on": due,
                "current_due_on": due,
                "status": status,
            }
        )
    for start in range(0, len(rows), 5000):
        db.session.execute(sa.insert(Milestone), rows[start : start + 5000])
    db.session.commit()


def write_readme(text: str) -> None:
    readme = ROOT / "bench" / "README.md"
    current = readme.read_text() if readme.exists() else "# Benchmarks\n"
    section = "## Reminders\n\n" + text.strip() + "\n"
    pattern = re.compile(r"^## Reminders\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _: section + "\n", current).rstrip() + "\n"
    else:
        updated = current.rstrip() + "\n\n" + section
    readme.write_text(updated)


def main() -> None:
    from flask_migrate import upgrade

    from app.extensions import db
    from app.reminders.models import OutboxMessage
    from app.reminders.send import deliver_pending
    from app.reminders.services import enqueue, plan, run_daily

    port, count, stop = free_port(), multiprocessing.Value("i", 0), multiprocessing.Event()
    server = multiprocessing.Process(target=serve_smtp, args=(port, count, stop), daemon=True)
    server.start()
    for _ in range(100):  # wait until it listens
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    tmp = tempfile.mkdtemp(prefix="bench-reminders-")

    class BenchConfig(Config):
        SECRET_KEY = "bench"
        SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        MAIL_SERVER = "127.0.0.1"
        MAIL_PORT = port

    app = create_app(BenchConfig)
    on = date.today()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed(db, on)
        # run_daily, phase by phase: decide and render; record (one commit); send.
        started = time.perf_counter()
        rendered = plan(on)
        planned = time.perf_counter()
        enqueue(rendered)
        db.session.commit()
        recorded = time.perf_counter()
        results = deliver_pending()
        elapsed = time.perf_counter() - started
        phases = (planned - started, recorded - planned, elapsed - (recorded - started))
        started = time.perf_counter()
        again = run_daily(on)
        rerun = time.perf_counter() - started
        stored = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
        dialect = db.engine.dialect.name
    stop.set()
    server.join(timeout=10)
    received = count.value

    assert len(results) == DUE == received == stored, (len(results), received, stored)
    assert again == []
    rate = DUE / elapsed
    summary = f"""
`.venv/bin/python bench/reminders.py`: the daily job (`run_daily`) for one day over {MILESTONES:,} milestones
({DUE:,} due in 7 days, {MILESTONES - DUE:,} completed or beyond every reminder window), {OWNERS} owners,
{RECOMMENDATIONS} recommendations, sent to a local aiosmtpd server (its own process) on {dialect}, {date.today().isoformat()}, load average
{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared with other work).

| what | result |
|---|---|
| first run: decide, render, record and send {DUE:,} emails | {elapsed:.1f} s |
| of which: load, decide and render / record in the outbox / send and mark sent | {phases[0]:.1f} s / {phases[1]:.1f} s / {phases[2]:.1f} s |
| messages per second | {rate:.0f} |
| second run the same day (nothing left to send) | {rerun:.2f} s, {len(again)} sent |
| emails the SMTP server received | {received:,} (each once) |

Each message is committed to the outbox before it is sent and marked sent in its own commit
(the exactly-once guarantee), over one SMTP connection per batch of 100. The send phase is bound
by one SMTP exchange and one SQLite commit per message; claims let several senders share the outbox.
"""
    print(summary)
    write_readme(summary)


if __name__ == "__main__":
    main()
