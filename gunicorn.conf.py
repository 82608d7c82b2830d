"""gunicorn settings for production: ``.venv/bin/gunicorn -c gunicorn.conf.py wsgi:app``.

Every value can be overridden from the environment (systemd's Environment=, see README "Production").
"""

import os
import shutil
import tempfile

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
#: Sync workers: one request each, no threads. Two per core is plenty: requests wait on PostgreSQL.
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
#: Evidence uploads stream to disk; a slow client on a big file needs longer than the default 30 s.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
#: Recycle workers now and then, staggered, so no slow leak grows for weeks.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
#: nginx on the same host is the only proxy whose X-Forwarded-* headers count (TRUST_PROXY=1 in the app).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
#: The app logs one JSON line per request (app/health/observe.py); gunicorn's own access log would repeat it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "tracker"
#: Each worker opens its own database connections: loading the app before the fork would share them.
preload_app = False

# Prometheus multiprocess mode: every worker writes its counters into files in this folder and
# /metrics sums them. The folder must exist before a worker imports prometheus_client, and must
# be emptied at each start (stale files of dead workers would be summed forever).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tracker-metrics-")


def on_starting(server):
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
