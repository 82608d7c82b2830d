"""One milestone update, end to end and in-process: where its time goes (a diagnostic beside bench/writes.py).

    .venv/bin/python bench/profile_write.py [--history 200] [--writes 100] [--statements] [--cprofile] \
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Creates a scratch database on the server (``bench_profile_write_<random>``, dropped at the end), migrates it,
adds an office, an action-office user and one milestone with ``--history`` earlier updates, signs in
through the Flask test client with the production configuration (JSON request log on, as gunicorn
runs it) and posts ``--writes`` status updates to the milestone as the bench's writers do (the POST;
with ``--follow`` also the page the redirect names, measured apart). Prints per write: wall time, the process's CPU time
(``time.process_time``, less sensitive to a loaded machine than the wall clock), the statements
sent and their time; with ``--statements`` each statement of the last write; with ``--cprofile``
the profile of the writes in CPU time, our own code first, and the CPU time of each phase of the request.
"""

import argparse
import logging
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: The phases of one update, by the function that runs each: cumulative time under the profiler.
PHASES = [
    ("whole request (test client)", "open", "testing.py"),
    ("sign-in check: session and user load", "_load_user", "flask_login/login_manager.py"),
    ("milestone loaders (get_milestone_or_404)", "get_milestone_or_404", "app/milestones/services.py"),
    ("form (construct and validate, CSRF)", "validate_on_submit", "flask_wtf/form.py"),
    ("the change (services.post_update)", "post_update", "app/milestones/services.py"),
    ("  audit.record (lock, head, hash, insert)", "record", "app/audit.py"),
    ("  audit chain lock", "hold_chain_lock", "app/audit.py"),
    ("commit", "commit", "sqlalchemy/orm/session.py"),
    ("history reload after a conflict / render", "_render_show", "app/milestones/routes.py"),
    ("redirect and flash", "redirect", "flask/helpers.py"),
    ("request log and metrics (after_request)", "_finish", "app/health/observe.py"),
    ("SQL: the driver (psycopg execute, CPU only)", "execute", "psycopg/cursor.py"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server; a scratch database is created there and dropped",
    )
    parser.add_argument("--history", type=int, default=0, help="earlier updates of the milestone")
    parser.add_argument("--writes", type=int, default=100)
    parser.add_argument("--statements", action="store_true", help="print each statement of the last write")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument(
        "--follow",
        action="store_true",
        help="load the page each redirect names (measured apart; profiled instead of the write with --cprofile)",
    )
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()
    import sqlalchemy as sa

    name = f"bench_profile_write_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(sa.make_url(args.database_url), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        run(args, sa.make_url(args.database_url).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(args, url: str) -> None:
    import sqlalchemy as sa

    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"profile_write_{uuid.uuid4().hex[:8]}"
    os.environ.update(DATABASE_URL=url, SECRET_KEY=uuid.uuid4().hex, EVIDENCE_DIR=str(tmp / "evidence"), LOG_JSON="1")
    import subprocess

    subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=os.environ,
        check=True,
        capture_output=True,
    )

    from app import create_app
    from app.extensions import db
    from app.milestones.models import MilestoneUpdate
    from app.timeutil import today
    from bench.write_form import CSRF, form_state, update_form
    from config import Config
    from tests.factories import PASSWORD, Factory

    class Production(Config):
        SQLALCHEMY_DATABASE_URI = url
        PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # the sign-in is not measured

    app = create_app(Production)
    for handler in logging.getLogger("app").handlers:  # the JSON lines are formatted, then dropped
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (for the process's life)
    with app.app_context():
        make = Factory()
        office = make.office(f"P{uuid.uuid4().hex[:6].upper()}")
        line = make.line(make.recommendation(office=office, status="resolved_open"))
        user = make.user("action_office", office=office)
        milestone = make.milestone(line, owner_id=user.id, due=today() + timedelta(days=90))
        db.session.add_all(
            MilestoneUpdate(
                milestone_id=milestone.id,
                author_id=user.id,
                noted_on=today(),
                note=f"earlier {i}",
                status="in_progress",
                percent_complete=i % 100,
            )
            for i in range(args.history)
        )
        db.session.commit()
        email, milestone_id = user.email, milestone.id
        timings: list[tuple[float, str]] = []
        callers: dict[int, str] = {}

        @sa.event.listens_for(db.engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["started"] = time.perf_counter()

        @sa.event.listens_for(db.engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):
            timings.append((time.perf_counter() - conn.info.pop("started"), statement))
            if args.statements:
                import traceback

                frames = [f for f in traceback.extract_stack() if "/app/" in f.filename or "flask_login" in f.filename]
                callers[len(timings) - 1] = " < ".join(
                    f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in frames[::-1][:4]
                )

    client = app.test_client()
    token = CSRF.search(client.get("/sign-in").get_data(as_text=True)).group(1)
    assert client.post("/sign-in", data={"csrf_token": token, "email": email, "password": PASSWORD}).status_code == 302
    token, version = form_state(client.get(f"/milestones/{milestone_id}").get_data(as_text=True))

    def write(i: int) -> None:
        nonlocal version
        response = client.post(f"/milestones/{milestone_id}", data=update_form(token, version, i, today()))
        assert response.status_code == 302, (response.status_code, response.get_data(as_text=True)[:2000])
        version += 1

    def follow() -> None:
        """The page the redirect names (it reads the flash), as the bench's writers and a browser load it."""
        if args.follow:
            assert client.get(f"/milestones/{milestone_id}").status_code == 200
        else:
            with client.session_transaction() as session:
                session.pop("_flashes", None)

    write(0)  # warm: compiled statements, the first connection
    follow()
    walls, cpus, counts, sql, page_cpus, page_counts = [], [], [], [], [], []
    profiler = None
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU time: waiting for PostgreSQL is not counted
    for i in range(1, args.writes + 1):
        timings.clear()
        callers.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler and not args.follow:
            profiler.enable()
        write(i)
        if profiler and not args.follow:
            profiler.disable()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        counts.append(len(timings))
        sql.append(sum(t for t, _ in timings))
        before, cpu = len(timings), time.process_time()
        if profiler and args.follow:
            profiler.enable()
        follow()
        if profiler and args.follow:
            profiler.disable()
        page_cpus.append(time.process_time() - cpu)
        page_counts.append(len(timings) - before)
        del timings[before:]
    load = os.getloadavg()
    print(
        f"{args.writes} updates of a milestone with {args.history}+ earlier updates "
        f"(load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}):\n"
        f"  wall   median {statistics.median(walls) * 1000:.1f} ms, mean {statistics.mean(walls) * 1000:.1f} ms\n"
        f"  CPU    median {statistics.median(cpus) * 1000:.1f} ms, mean {statistics.mean(cpus) * 1000:.1f} ms "
        "(this process: the app, SQLAlchemy, the driver)\n"
        f"  SQL    median {statistics.median(sql) * 1000:.1f} ms in {statistics.median(counts):.0f} statements"
        + (" under the profiler" if profiler else "")
    )
    if args.follow:
        print(
            f"  the page after each write: CPU median {statistics.median(page_cpus) * 1000:.1f} ms, "
            f"first {page_cpus[0] * 1000:.1f} ms, last {page_cpus[-1] * 1000:.1f} ms, "
            f"{statistics.median(page_counts):.0f} statements"
        )
    if args.statements:
        for n, (seconds, statement) in enumerate(timings):
            print(f"--- {seconds * 1000:.2f} ms  {' '.join(statement.split())[:160]}\n      from {callers.get(n, '?')}")
    if profiler:
        import pstats

        stats = pstats.Stats(profiler)
        per = 1000 / args.writes
        print("\nphases (CPU ms per write under the profiler, cumulative; nested lines are part of the one above):")
        for label, name, path in PHASES:
            total = sum(
                v[3]
                for (file, _, func), v in stats.stats.items()
                if func == name and file.endswith(path)  # type: ignore[attr-defined]
            )
            print(f"  {total * per:7.2f}  {label}")
        print("\n== our own code (app/ and templates/), by cumulative time ==")
        stats.sort_stats("cumulative").print_stats(str(ROOT) + r"/(app|templates)/", args.top)
        stats.strip_dirs()
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
