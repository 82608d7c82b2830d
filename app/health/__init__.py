"""Probes for load balancers and monitoring.

``/healthz``: liveness, one ``SELECT 1``, cheap enough to poll every second. ``/readyz``: whether
this server can do its work (database, schema at head, evidence storage writable), with the
scheduler's heartbeat. ``/metrics``: Prometheus text, for METRICS_ALLOW addresses or a bearer token.
"""

import hmac
import ipaddress

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, jsonify, request

from app.extensions import db
from app.permissions import public
from app.health import checks
from app.health.metrics import render

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@public
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
        ok = True
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        ok = False
    body = {"status": "ok" if ok else "error", "database": "ok" if ok else "unreachable"}
    return jsonify(body), 200 if ok else 503


@bp.route("/readyz")
@public
def readyz():
    """503 names what stops this server; a stale scheduler is reported, and fails only with
    READYZ_REQUIRE_SCHEDULER: otherwise one dead scheduler would take every web server out of the pool."""
    probes = {"database": checks.database()}
    if probes["database"].ok:
        probes["migrations"] = checks.migrations()
    probes["evidence_dir"] = checks.evidence_dir()
    scheduler, info = checks.scheduler() if probes["database"].ok else (checks.Probe(False, "unknown"), {})
    failing = [name for name, probe in probes.items() if not probe.ok]
    if not scheduler.ok and current_app.config.get("READYZ_REQUIRE_SCHEDULER"):
        failing.append("scheduler")
    body = {
        "status": "ready" if not failing else "not ready",
        "failing": failing,
        "checks": {name: {"ok": probe.ok, "detail": probe.detail} for name, probe in probes.items()},
        "scheduler": {"ok": scheduler.ok, "detail": scheduler.detail, **info},
    }
    return jsonify(body), 503 if failing else 200


def _metrics_allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    allowed = current_app.config.get("METRICS_ALLOW") or "127.0.0.1/8,::1/128"
    for network in str(allowed).split(","):
        network = network.strip()
        if network and address in ipaddress.ip_network(network, strict=False):
            return True
    return False


@bp.route("/metrics")
@public
def metrics():
    if not _metrics_allowed():
        abort(404)  # not advertised to the internet at all
    return Response(render(), mimetype="text/plain; version=0.0.4; charset=utf-8")
