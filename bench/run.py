#!/usr/bin/env python3
"""Load-test the main pages against a bare Flask route on the same gunicorn server.

    .venv/bin/python bench/run.py --milestones 5000 50000            # SQLite
    .venv/bin/python bench/run.py --milestones 1000000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench   # PostgreSQL

For each data size: builds the data set once (flask db upgrade + flask bench seed, kept in
bench/results/ for SQLite), serves the app with gunicorn on loopback in bench mode (a bare
route, and an X-Query-Count header), signs in as the bench users, and drives each page with
wrk, in slices that alternate with slices of the bare route. Prints requests/s, p50/p95 latency,
queries per request and the ratio to the bare route (the slices beside the page, and the first);
writes the same as JSON into bench/results/. See bench/README.md.
"""

import argparse
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
VENV = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))
from bench.data import BENCH_PASSWORD, BENCH_USERS  # noqa: E402

#: (name, path template, role). Pages that answer 404 (not built yet) are reported and skipped.
PAGES = [
    ("bare route", "/bench/bare", None),
    # The floor of a signed-in page: session, user, layout and a small form, no data.
    ("simple page (password form)", "/account/password", "action_office"),
    ("dashboard", "/", "oig_reviewer"),
    ("dashboard (office)", "/", "action_office"),
    ("recommendation", "/recommendations/{rec}", "action_office"),
    ("my work", "/my-work", "action_office"),
    ("milestones filtered, page 2", "/my-work?status=in_progress&page=2", "action_office"),
    ("loop", "/recommendations/{rec}/loop", "action_office"),
    ("search", "/search/?q=data+standard", "oig_reviewer"),
    ("submissions awaiting decision", "/submissions/awaiting", "oig_reviewer"),
    ("queue (OIG: awaiting review)", "/queue", "oig_reviewer"),
    ("queue (manager: awaiting approval)", "/queue", "manager"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flask(env, *args):
    subprocess.run(
        [str(VENV / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )


def prepare(url: str, milestones: int, env: dict, reseed: bool) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            seeded = conn.execute(sa.text("SELECT count(*) FROM milestones")).scalar() >= milestones
    except sa.exc.SQLAlchemyError:
        seeded = False
    finally:
        engine.dispose()
    if seeded and not reseed:
        flask(env, "db", "upgrade")  # a data set seeded before a new migration gets its indexes
        return
    print(f"building the data set: {milestones} milestones ...", flush=True)
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url[len("sqlite:///") :] + suffix).unlink(missing_ok=True)
    flask(env, "db", "upgrade")
    started = time.perf_counter()
    flask(env, "bench", "seed", "--milestones", str(milestones))
    print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)


def sign_in(base: str, email: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/sign-in").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"email": email, "password": BENCH_PASSWORD, "csrf_token": token}).encode()
    opener.open(base + "/sign-in", data)
    cookie = next(c for c in jar if c.name == "session")
    return f"session={cookie.value}"


def probe(url: str, cookie: str | None):
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, int(response.headers.get("X-Query-Count", -1))
    except urllib.error.HTTPError as error:
        return error.code, int(error.headers.get("X-Query-Count", -1))


def combine(slices: list[dict]) -> dict:
    """Slices of one page's load as one: requests/s over all of them; p50/p95 the median slice's."""

    def median(key):
        return sorted(s[key] for s in slices)[len(slices) // 2]

    requests = sum(s["requests"] for s in slices)
    seconds = sum(s["requests"] / s["rps"] for s in slices if s["rps"])
    return {
        "requests": requests,
        "rps": round(requests / seconds, 2) if seconds else 0.0,
        "p50_ms": median("p50_ms"),
        "p95_ms": median("p95_ms"),
        "p99_ms": median("p99_ms"),
        "errors": sum(s["errors"] for s in slices),
        "non2xx": sum(s["non2xx"] for s in slices),
    }


def wrk(url: str, cookie: str | None, duration: int, connections: int) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(ROOT / "bench" / "report.lua")]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_size(url: str, milestones: int, args) -> list[dict]:
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench-secret-key", TRACKER_BENCH_MODE="1", FLASK_APP="wsgi")
    prepare(url, milestones, env, args.reseed)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        office = conn.execute(
            sa.text("SELECT office_id FROM users WHERE email = :e"), {"e": BENCH_USERS["action_office"]}
        ).scalar()
        rec = conn.execute(
            sa.text("SELECT min(id) FROM recommendations WHERE action_office_id = :o"), {"o": office}
        ).scalar()
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(VENV / "gunicorn"),
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        # The app logs a JSON line per request (issue 20): kept apart from the report.
        stderr=(RESULTS / "server.log").open("w"),
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        cookies = {role: sign_in(base, email) for role, email in BENCH_USERS.items()}
        results = []
        bare = base + PAGES[0][1]
        slice_seconds = max(1, round(args.duration / args.slices))
        for name, template, role in PAGES:
            if args.pages and name != "bare route" and not any(p in name for p in args.pages):
                continue
            path = template.format(rec=rec)
            cookie = cookies.get(role)
            status, queries = probe(base + path, cookie)
            if status != 200:
                print(f"  {name:30} {path}: HTTP {status}, skipped", flush=True)
                continue
            # This machine's speed drifts by tens of percent within a minute (other tenants of
            # the host), so the page and the bare route take turns, in slices of a few seconds,
            # and the page's ratio is to the bare route measured beside it.
            floors, slices = [], []
            for _ in range(args.slices):
                floors.append(wrk(bare, None, slice_seconds, args.connections))
                slices.append(wrk(base + path, cookie, slice_seconds, args.connections))
            stats = combine(slices)
            floor = combine(floors)["rps"]
            load = os.getloadavg()[0]  # the machine is shared: every number carries the load it was taken under
            results.append(
                {"page": name, "path": path, "queries": queries, "bare_rps_beside": floor, "load_1min": load, **stats}
            )
            print(
                f"  {name:30} {stats['rps']:8.1f} req/s  p50 {stats['p50_ms']:7.1f} ms  "
                f"p95 {stats['p95_ms']:7.1f} ms  {queries:3d} queries  (bare beside it: {floor:.0f} req/s, "
                f"load {load:.1f})",
                flush=True,
            )
        return results
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--milestones", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--database-url", help="default: a SQLite file per size in bench/results/")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page")
    parser.add_argument(
        "--slices",
        type=int,
        default=4,
        help="the page's load comes in this many slices, each after a slice of the bare route",
    )
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--reseed", action="store_true", help="rebuild the data set even if present")
    parser.add_argument(
        "--pages", nargs="+", help="only the pages whose name contains one of these (and the bare route)"
    )
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {"machine": f"{os.cpu_count()} cores, {platform_summary()}", "sizes": {}}
    for n in args.milestones:
        url = args.database_url or f"sqlite:///{RESULTS / f'bench-{n}.db'}"
        print(f"== {n} milestones on {sa.make_url(url).get_backend_name()} ==", flush=True)
        results = run_size(url, n, args)
        first = next((r["rps"] for r in results if r["page"] == "bare route"), None)
        for r in results:
            r["ratio_to_bare"] = round(r["bare_rps_beside"] / r["rps"], 2) if r["rps"] else None
            r["ratio_to_first_bare"] = round(first / r["rps"], 2) if first and r["rps"] else None
        print(f"  {'page':30} {'ratio to the bare route beside it':>34} {'to the first bare run':>22}")
        for r in results:
            print(f"  {r['page']:30} {r['ratio_to_bare']:>33}x {r['ratio_to_first_bare']:>21}x")
        report["sizes"][n] = results
    if len(args.milestones) == 2:
        small, large = (report["sizes"][n] for n in args.milestones)
        print("== growth: median latency at the larger size / at the smaller ==")
        for r in large:
            s = next((x for x in small if x["page"] == r["page"]), None)
            if s and s["p50_ms"]:
                print(f"  {r['page']:30} {r['p50_ms'] / s['p50_ms']:.2f}x")
    out = RESULTS / f"run-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"written {out.relative_to(ROOT)}")


def platform_summary() -> str:
    import platform

    mem = ""
    try:
        kb = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB, "
    except (OSError, StopIteration):
        pass
    return f"{mem}{platform.processor() or platform.machine()}, Python {platform.python_version()}"


if __name__ == "__main__":
    main()
