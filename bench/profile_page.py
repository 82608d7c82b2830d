"""Time each SQL statement of one page request, in-process (a diagnostic beside bench/run.py).

    .venv/bin/python bench/profile_page.py --database-url sqlite:///bench/results/bench-50000.db \
        --role oig_reviewer /
Prints every statement with its time (slowest first) and the whole request's time.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--role", default="oig_reviewer")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="print each statement's query plan too")
    parser.add_argument(
        "--cprofile",
        type=int,
        metavar="N",
        help="instead: run the request N times under cProfile, print the top functions",
    )
    parser.add_argument("--callees", metavar="FUNCTION", help="with --cprofile: what this function calls")
    parser.add_argument(
        "--cpu",
        type=int,
        metavar="N",
        help="instead: run the request N times and print the CPU time a request took in this process "
        "and, on PostgreSQL, in its server processes, then each statement's server CPU run N times "
        "(steadier than wall time on a shared machine; the kernel counts in 10 ms ticks, so take N >= 40)",
    )
    args = parser.parse_args()
    os.environ.update(DATABASE_URL=args.database_url, SECRET_KEY="bench-secret-key", TRACKER_BENCH_MODE="1")

    import sqlalchemy as sa
    from app import create_app
    from bench.data import BENCH_PASSWORD, BENCH_USERS
    from app.extensions import db

    app = create_app()
    app.config.update(SESSION_COOKIE_SECURE=False)  # the test client speaks plain HTTP
    timings: list[tuple[float, str, object]] = []
    backends: set[int] = set()  # PostgreSQL server processes serving this process's connections
    with app.app_context():
        engine = db.engine

        @sa.event.listens_for(engine, "connect")
        def connected(dbapi_connection, record):
            if engine.dialect.name == "postgresql":
                with dbapi_connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    backends.add(cursor.fetchone()[0])

        engine.dispose()  # connections made before the listener are not followed: none are left

        @sa.event.listens_for(engine, "before_cursor_execute")
        def before(conn, cursor, statement, parameters, context, executemany):
            conn.info["started"] = time.perf_counter()

        @sa.event.listens_for(engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):
            timings.append((time.perf_counter() - conn.info.pop("started"), statement, parameters))

    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/sign-in", data={"email": BENCH_USERS[args.role], "password": BENCH_PASSWORD, "csrf_token": token})
    if args.cpu:
        client.get(args.path)  # warm caches (templates, compiled statements)
        server_before, started = _server_cpu(backends), time.process_time()
        for attempt in range(args.cpu):
            response = client.get(args.path)
        app_cpu, server_cpu = time.process_time() - started, _server_cpu(backends) - server_before
        load = os.getloadavg()[0]
        print(
            f"{args.path} as {args.role}: HTTP {response.status_code}, CPU a request: {app_cpu * 1000 / args.cpu:.1f} ms "
            f"in this process, {server_cpu * 1000 / args.cpu:.1f} ms in the database's server processes "
            f"({args.cpu} requests, load {load:.1f})"
        )
        if engine.dialect.name == "postgresql":  # each statement of the last request, N times
            timings.clear()
            client.get(args.path)
            statements = [(statement, parameters) for _, statement, parameters in timings]
            with app.app_context(), db.engine.connect() as conn:
                pid = {conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()}
                costs = []
                for statement, parameters in statements:
                    before = _server_cpu(pid)
                    for attempt in range(args.cpu):
                        conn.exec_driver_sql(statement, parameters).all()
                    costs.append(((_server_cpu(pid) - before) * 1000 / args.cpu, statement))
            for cost, statement in sorted(costs, key=lambda c: -c[0]):
                print(f"  {cost:5.2f} ms  {' '.join(statement.split())[:150]}")
        return
    if args.cprofile:
        import cProfile
        import pstats

        client.get(args.path)  # warm caches (templates, compiled statements)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for attempt in range(args.cprofile):
            client.get(args.path)
        profiler.disable()
        print(
            f"{args.path} as {args.role}: {(time.perf_counter() - started) * 1000 / args.cprofile:.1f} ms "
            "a request under the profiler"
        )
        stats = pstats.Stats(profiler)
        print("== our own code (app/ and templates/), by cumulative time ==")
        stats.sort_stats("cumulative").print_stats(str(ROOT) + r"/(app|templates)/", 40)
        stats.strip_dirs()
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
        if args.callees:
            stats.sort_stats("cumulative").print_callees(args.callees)
        return
    for attempt in range(args.repeat):
        timings.clear()
        started = time.perf_counter()
        response = client.get(args.path)
        total = time.perf_counter() - started
    print(
        f"{args.path} as {args.role}: HTTP {response.status_code}, {total * 1000:.1f} ms, "
        f"{len(timings)} statements, {sum(t for t, _, _ in timings) * 1000:.1f} ms in SQL"
    )
    for seconds, statement, parameters in sorted(timings, key=lambda t: -t[0]):
        print(f"\n--- {seconds * 1000:.1f} ms\n{statement}\n{parameters}")
        if args.explain:
            with app.app_context():
                prefix = (
                    "EXPLAIN QUERY PLAN " if args.database_url.startswith("sqlite") else "EXPLAIN (ANALYZE, BUFFERS) "
                )
                with db.engine.connect() as conn:
                    plan = conn.exec_driver_sql(prefix + statement, parameters).all()
                print("\n".join("    " + " | ".join(str(c) for c in row) for row in plan))


def _server_cpu(pids: set[int]) -> float:
    """User and system CPU seconds of these local processes so far (/proc; 0 for none)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # a connection closed meanwhile: its time is lost with it
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat(5)
    return total / ticks


if __name__ == "__main__":
    main()
