"""The app's CPU time per request of each main page, in-process (a diagnostic beside bench/run.py).

    .venv/bin/python bench/cpu_pages.py --database-url sqlite:///bench/results/bench-50000.db [--repeat 50]

On a shared machine latencies swing with the other tenants' load; the CPU time this process spends
on a request (``time.process_time``: Python, Jinja, the driver, and SQLite's own work, which runs
in-process) is steadier. It excludes PostgreSQL's backend, so on PostgreSQL read it beside
``profile_page.py --explain``. Prints, per page, the median and 90th percentile CPU ms and the wall
ms of ``--repeat`` requests after one warm-up request, and the queries per request.
"""

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--pages", nargs="+", help="only the pages whose name contains one of these")
    args = parser.parse_args()
    os.environ.update(DATABASE_URL=args.database_url, SECRET_KEY="bench-secret-key", TRACKER_BENCH_MODE="1")

    import sqlalchemy as sa

    from app import create_app
    from app.extensions import db
    from bench.data import BENCH_PASSWORD, BENCH_USERS
    from bench.run import PAGES

    app = create_app()
    app.config.update(SESSION_COOKIE_SECURE=False)  # the test client speaks plain HTTP
    with app.app_context():
        office = db.session.scalar(
            sa.text("SELECT office_id FROM users WHERE email = :e"), {"e": BENCH_USERS["action_office"]}
        )
        rec = db.session.scalar(
            sa.text("SELECT min(id) FROM recommendations WHERE action_office_id = :o"), {"o": office}
        )
        db.session.remove()
    clients = {}
    for role, email in BENCH_USERS.items():
        client = app.test_client()
        page = client.get("/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        client.post("/sign-in", data={"email": email, "password": BENCH_PASSWORD, "csrf_token": token})
        clients[role] = client
    clients[None] = app.test_client()
    print(f"{'page':36} {'CPU p50':>8} {'CPU p90':>8} {'wall p50':>9} {'queries':>8}")
    for name, template, role in PAGES:
        if args.pages and not any(p in name for p in args.pages):
            continue
        client, path = clients[role], template.format(rec=rec)
        first = client.get(path)
        if first.status_code != 200:
            print(f"{name:36} HTTP {first.status_code}, skipped")
            continue
        cpu, wall = [], []
        for _ in range(args.repeat):
            started_cpu, started = time.process_time(), time.perf_counter()
            client.get(path)
            cpu.append((time.process_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
        cpu.sort()
        print(
            f"{name:36} {statistics.median(cpu):8.2f} {cpu[int(len(cpu) * 0.9)]:8.2f} "
            f"{statistics.median(wall):9.2f} {first.headers.get('X-Query-Count', '?'):>8}",
            flush=True,
        )


if __name__ == "__main__":
    main()
