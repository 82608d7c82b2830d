"""Upload a generated 1 GB file to a real gunicorn worker and measure the worker's peak memory.

    .venv/bin/python bench/evidence_upload.py [--size-mb 1024] [--workdir /tmp/...]

Everything runs on loopback in a temporary folder: a fresh SQLite database with the
demo loaded, EVIDENCE_DIR, and one synchronous gunicorn worker. The client streams the
multipart body from disk (it never holds the file either), then the script reads the
worker's VmHWM (the kernel's peak resident set size) from /proc, and checks that the
stored file's SHA-256 is the one computed while generating it.
"""

import argparse
import hashlib
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PASSWORD = "benchmark password, long enough"
CHUNK = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def generate(path: Path, size: int) -> str:
    """A file the allow-list accepts as a PDF (it starts like one), of exactly ``size`` bytes."""
    digest = hashlib.sha256()
    line = b"% evidence upload benchmark filler line, not compressible by accident 0123456789\n"
    block = line * (CHUNK // len(line) + 1)
    with open(path, "wb") as f:
        head = b"%PDF-1.4\n"
        f.write(head)
        digest.update(head)
        written = len(head)
        while written < size:
            piece = block[: min(CHUNK, size - written)]
            f.write(piece)
            digest.update(piece)
            written += len(piece)
    return digest.hexdigest()


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class Session:
    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def _headers(self, extra=None) -> dict:
        headers = dict(extra or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def request(self, method: str, path: str, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        conn.request(method, path, body=body, headers=self._headers(headers))
        response = conn.getresponse()
        data = response.read()
        for key, value in response.getheaders():
            if key.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return response, data

    def csrf(self, path: str) -> str:
        _, page = self.request("GET", path)
        return re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()


def multipart_upload(session: Session, path: str, file_path: Path, token: str):
    boundary = "----benchmark" + os.urandom(8).hex()
    fields = {"csrf_token": token, "files-0-title": "One gigabyte", "files-0-description": "benchmark"}
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files-0-file"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + file_path.stat().st_size + len(tail)

    def body():
        yield head
        with open(file_path, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk
        yield tail

    return session.request(
        "POST",
        path,
        body=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(length)},
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    size = args.size_mb * 1024 * 1024
    work = Path(args.workdir or tempfile.mkdtemp(prefix="evidence-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{work}/bench.db",
        EVIDENCE_DIR=str(work / "evidence"),
        SECRET_KEY="benchmark-secret",
        DEMO_PASSWORD=PASSWORD,
        MAX_CONTENT_LENGTH=str(size + 10 * 1024 * 1024),
    )
    flask = [str(VENV_BIN / "flask"), "--app", "wsgi"]
    subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(flask + ["seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True)

    source = work / "big.pdf"
    t0 = time.monotonic()
    expected_sha = generate(source, size)
    print(f"generated {size / 2**20:.0f} MiB in {time.monotonic() - t0:.1f}s")

    port = free_port()
    server = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "--workers",
            "1",
            "--worker-class",
            "sync",
            "--timeout",
            "600",
            "--bind",
            f"127.0.0.1:{port}",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(work / "gunicorn.log", "wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        session = Session(port)
        for _ in range(100):
            try:
                session.request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        worker = int(Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()[0])
        token = session.csrf("/sign-in")
        response, _ = session.request(
            "POST",
            "/sign-in",
            body=urllib.parse.urlencode({"csrf_token": token, "email": "policy@example.gov", "password": PASSWORD}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status == 302, response.status
        milestone = "/milestones/4/evidence"
        token = session.csrf(milestone)  # also warms the worker up: every page template compiled
        baseline_rss = status_kb(worker, "VmRSS")
        baseline_hwm = status_kb(worker, "VmHWM")

        samples = []
        done = threading.Event()

        def sample():
            while not done.is_set():
                samples.append(status_kb(worker, "VmRSS"))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0 = time.monotonic()
        response, body = multipart_upload(session, milestone, source, token)
        elapsed = time.monotonic() - t0
        done.set()
        sampler.join()
        peak_hwm = status_kb(worker, "VmHWM")
        assert response.status == 302, (response.status, body[:500])

        import sqlite3

        row = (
            sqlite3.connect(work / "bench.db")
            .execute("SELECT sha256, size_bytes, storage_key FROM evidence_versions ORDER BY id DESC LIMIT 1")
            .fetchone()
        )
        assert row[0] == expected_sha and row[1] == size, row
        incoming = list((work / "evidence" / ".incoming").glob("*"))
        print(
            f"uploaded {size / 2**20:.0f} MiB in {elapsed:.1f}s ({size / 2**20 / elapsed:.0f} MiB/s); "
            f"stored as {row[2]}, SHA-256 verified; temporary files left: {len(incoming)}"
        )
        print(f"worker RSS before upload: {baseline_rss / 1024:.1f} MiB (peak so far {baseline_hwm / 1024:.1f} MiB)")
        print(f"worker RSS max sampled during upload: {max(samples) / 1024:.1f} MiB")
        print(
            f"worker peak RSS (VmHWM) after upload: {peak_hwm / 1024:.1f} MiB "
            f"(+{(peak_hwm - baseline_hwm) / 1024:.1f} MiB for a {size / 2**20:.0f} MiB upload)"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
