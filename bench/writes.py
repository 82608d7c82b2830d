"""Audited writes per second on PostgreSQL: concurrent writers posting milestone updates to two servers.

    .venv/bin/python bench/writes.py                       # 8 writers, 2 servers x 2 workers, 20 s
    .venv/bin/python bench/writes.py --writers 16 --seconds 30 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Each writer signs in as its own action-office user and posts status updates to its own milestone,
alternating between the servers (gunicorn with gunicorn.conf.py, the production settings), and
loads the page the redirect names, as a browser does (untimed; it also reads the flash); with
--post-only it does not (the POST alone). The writers waiting for the audit lock are sampled from
pg_stat_activity every 10 ms. Every
update is one transaction: the milestone row, an update row and an audit event, the audit event
serialised by the chain's advisory lock. Client latency is the POST's (the 302 included), the
server time comes from the servers' JSON request log. Writes bench/results/writes-*.json.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used (Linux /proc), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server; a scratch database is created there and dropped",
    )
    parser.add_argument(
        "--database-prefix", default="bench_writes", help="the scratch database's name: this, then a random suffix"
    )
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--post-only",
        action="store_true",
        help="the POST alone: the page the redirect names is not loaded (the session cookie is put back after "
        "each POST, so that the unread flash messages do not pile up in it)",
    )
    args = parser.parse_args()

    from app import create_app
    from app.extensions import db
    from app.timeutil import today
    from bench.write_form import CSRF, form_state, update_form
    from config import TestConfig
    from tests.factories import PASSWORD, Factory

    base = sa.make_url(args.database_url)
    name = f"{args.database_prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / name
    tmp.mkdir(parents=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": uuid.uuid4().hex,
        "EVIDENCE_DIR": str(tmp / "evidence"),
        "WEB_CONCURRENCY": str(args.workers),
        "FLASK_APP": "wsgi",
    }
    processes = []
    try:
        bin_dir = Path(sys.executable).parent
        subprocess.run(
            [str(bin_dir / "flask"), "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )

        class Config(TestConfig):
            SQLALCHEMY_DATABASE_URI = url

        app = create_app(Config)
        with app.app_context():
            make = Factory()
            office = make.office("DHS-PLCY")
            line = make.line(make.recommendation(office=office, status="resolved_open"))
            targets = []
            for _ in range(args.writers):
                user = make.user("action_office", office=office)
                milestone = make.milestone(line, owner_id=user.id, due=today() + timedelta(days=90))
                targets.append((user.email, milestone.id))
            db.session.commit()
            db.engine.dispose()

        servers = []
        for n in range(args.servers):
            log = tmp / f"gunicorn-{n}.log"
            processes.append(
                subprocess.Popen(
                    [str(bin_dir / "gunicorn"), "-c", "gunicorn.conf.py", "-b", "127.0.0.1:0", "wsgi:app"],
                    cwd=ROOT,
                    env={**env, "PROMETHEUS_MULTIPROC_DIR": str(tmp / f"metrics-{n}")},
                    stdout=log.open("wb"),
                    stderr=subprocess.STDOUT,
                )
            )
            for _ in range(300):
                found = re.search(r"Listening at: (http://[\d.]+:\d+)", log.read_text(errors="replace"))
                if found:
                    break
                time.sleep(0.1)
            else:
                raise SystemExit(f"gunicorn {n} did not start: see {log}")
            servers.append(found.group(1))

        latencies: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        start = threading.Barrier(args.writers + 1)
        stop_at = [0.0]

        def writer(n: int, email: str, milestone_id: int) -> None:
            http = requests.Session()
            page = http.get(f"{servers[n % len(servers)]}/sign-in").text
            http.post(
                f"{servers[n % len(servers)]}/sign-in",
                data={"csrf_token": CSRF.search(page).group(1), "email": email, "password": PASSWORD},
            )
            token, version = form_state(http.get(f"{servers[n % len(servers)]}/milestones/{milestone_id}").text)
            signed_in = http.cookies.copy()
            start.wait()
            i = 0
            while time.monotonic() < stop_at[0]:
                server = servers[(n + i) % len(servers)]
                began = time.perf_counter()
                response = http.post(
                    f"{server}/milestones/{milestone_id}",
                    allow_redirects=False,
                    data=update_form(token, version, i, today()),
                )
                took = time.perf_counter() - began
                with lock:
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                    if response.status_code == 302:
                        latencies.append(took)
                if response.status_code == 302 and args.post_only:
                    version += 1
                    http.cookies = signed_in.copy()
                elif response.status_code == 302:
                    version += 1
                    http.get(
                        server + response.headers["Location"]
                        if response.headers["Location"].startswith("/")
                        else response.headers["Location"]
                    )  # the page a browser loads next (untimed)
                i += 1

        def backends() -> list[int]:
            """The PostgreSQL server processes serving the scratch database (their CPU is the database's share)."""
            with admin.connect() as conn:
                return list(
                    conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :d"), {"d": name}).scalars()
                )

        def cpu_snapshot() -> dict[str, dict[int, float]]:
            app_pids = [p.pid for p in processes] + [c for p in processes for c in children(p.pid)]
            return {
                "app": {pid: cpu_seconds(pid) for pid in app_pids},
                "db": {pid: cpu_seconds(pid) for pid in backends()},
            }

        waiting: list[int] = []  # backends waiting for the audit chain's lock, sampled every 10 ms
        sampling = threading.Event()

        def sample_lock_waits() -> None:
            with admin.connect() as conn:
                statement = sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = :d "
                    "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
                )
                while not sampling.wait(0.01):
                    waiting.append(conn.execute(statement, {"d": name}).scalar_one())

        threads = [threading.Thread(target=writer, args=(n, email, mid)) for n, (email, mid) in enumerate(targets)]
        for thread in threads:
            thread.start()
        stop_at[0] = time.monotonic() + 3600
        start.wait()
        cpu_before, client_before = cpu_snapshot(), time.process_time()
        began = time.monotonic()
        stop_at[0] = began + args.seconds
        sampler = threading.Thread(target=sample_lock_waits)
        sampler.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        sampling.set()
        sampler.join()
        cpu_after, client_cpu = cpu_snapshot(), time.process_time() - client_before
        spent = {
            part: sum(cpu - cpu_before[part].get(pid, 0.0) for pid, cpu in cpu_after[part].items())
            for part in ("app", "db")
        }

        server_ms, queries, page_ms, page_queries = [], [], [], []
        for n in range(args.servers):
            for text in (tmp / f"gunicorn-{n}.log").read_text(errors="replace").splitlines():
                if text.startswith("{"):
                    line = json.loads(text)
                    if (
                        line.get("endpoint") == "milestones.show"  # the page's forms post to the page
                        and line.get("method") == "POST"
                        and line.get("status") == 302
                    ):
                        server_ms.append(line["duration_ms"])
                        queries.append(line["queries"])
                    elif line.get("endpoint") == "milestones.show" and line.get("status") == 200:
                        page_ms.append(line["duration_ms"])
                        page_queries.append(line["queries"])
        verified = subprocess.run(
            [str(bin_dir / "flask"), "--app", "wsgi", "audit", "verify"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        result = {
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "commit": commit,
            "mode": "POST only" if args.post_only else "POST, then the page the redirect names",
            "writers": args.writers,
            "servers": args.servers,
            "workers_per_server": args.workers,
            "seconds": round(elapsed, 1),
            "statuses": statuses,
            "writes": len(latencies),
            "writes_per_second": round(len(latencies) / elapsed, 1),
            "client_p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
            "client_p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
            "server_p50_ms": round(percentile(server_ms, 0.50), 1),
            "server_p95_ms": round(percentile(server_ms, 0.95), 1),
            "queries_per_write": statistics.median(queries) if queries else None,
            "page_server_p50_ms": round(percentile(page_ms, 0.50), 1) if page_ms else None,
            "queries_per_page": statistics.median(page_queries) if page_queries else None,
            # The writers waiting for the audit chain's advisory lock (pg_stat_activity, sampled every 10 ms):
            # on average, and the wait that makes per write (the serialisation's cost in latency).
            "lock_waiters_mean": round(statistics.mean(waiting), 2) if waiting else None,
            "lock_wait_ms_per_write": round(statistics.mean(waiting) * elapsed * 1000 / max(len(latencies), 1), 1)
            if waiting
            else None,
            # CPU time per successful update, the page load after it included unless --post-only (less sensitive to a loaded
            # machine than the latencies): the gunicorn processes, the PostgreSQL backends, this client.
            "cpu_ms_per_write": {
                "app": round(spent["app"] * 1000 / max(len(latencies), 1), 1),
                "database": round(spent["db"] * 1000 / max(len(latencies), 1), 1),
                "client": round(client_cpu * 1000 / max(len(latencies), 1), 1),
            },
            # What two idle cores would allow if that CPU were all a write needed.
            "ceiling_writes_per_second_on_2_cores": round(
                2 / max((spent["app"] + spent["db"] + client_cpu) / max(len(latencies), 1), 1e-9), 1
            ),
            "load_average": os.getloadavg(),
            "audit_verify": verified.stdout.strip() or verified.stderr.strip(),
        }
        print(json.dumps(result, indent=2))
        out = ROOT / "bench" / "results"
        out.mkdir(parents=True, exist_ok=True)
        (out / f"writes-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(result, indent=2))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
