"""Running for real: database URLs, the deploy check, scheduler leadership, probes, metrics, logs."""

import io
import json
import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import create_app
from app.reminders.leader import Elector, current_lease
from app.reminders.models import SchedulerLease, SchedulerNode
from app.timeutil import utcnow
from config import TestConfig, database_url


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("postgres://u:p@db.example:5432/tracker", "postgresql+psycopg://u:p@db.example:5432/tracker"),
        ("postgresql://u@db/tracker?sslmode=require", "postgresql+psycopg://u@db/tracker?sslmode=require"),
        ("postgresql+psycopg://u@db/tracker", "postgresql+psycopg://u@db/tracker"),
        ("sqlite:////var/lib/tracker.db", "sqlite:////var/lib/tracker.db"),
        (None, None),
    ],
)
def test_platform_style_database_urls_use_psycopg_3(raw, expected):
    assert database_url(raw) == expected


def test_the_app_accepts_a_postgres_url(tmp_path):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = "postgres://nobody@127.0.0.1:1/none"
        EVIDENCE_DIR = str(tmp_path / "evidence")

    app = create_app(Config)
    with app.app_context():
        from app.extensions import db

        assert db.engine.dialect.name == "postgresql"
        assert db.engine.dialect.driver == "psycopg"
        db.engine.dispose()


# --- flask check ------------------------------------------------------------------------------


def _check(app, **config):
    app.config.update(config)
    return app.test_cli_runner().invoke(args=["check"])


PRODUCTION = {
    "BASE_URL": "https://tracker.example.gov",
    "MAIL_SERVER": "smtp.example.gov",
    "SESSION_COOKIE_SECURE": True,
    "MFA_REQUIRED_ROLES": ("admin", "oig_reviewer"),
    "SECRET_KEY_GENERATED": False,
}


def test_check_passes_when_the_settings_are_right(app, db):
    assert Elector(app).step() is True  # a scheduler leads and wrote its heartbeat
    result = _check(app, **PRODUCTION)
    assert result.exit_code == 0, result.output
    assert "no problems found" in result.output


def test_check_lists_every_unsafe_setting(app, db, tmp_path):
    not_a_dir = tmp_path / "not-a-directory"  # root writes through any mode bits; a file stops even root
    not_a_dir.write_text("")
    db.session.execute(sa.text("UPDATE alembic_version SET version_num = '1000'"))
    db.session.commit()
    result = _check(
        app,
        SECRET_KEY_GENERATED=True,
        BASE_URL="http://127.0.0.1:5000",
        MAIL_SERVER=None,
        SESSION_COOKIE_SECURE=False,
        MFA_REQUIRED_ROLES=(),
        OIDC_ISSUER=None,
        EVIDENCE_DIR=str(not_a_dir),
        TRACKER_HOSTS=2,
    )
    assert result.exit_code == 1
    out = result.output
    for expected in (
        "SECRET_KEY is generated",
        "BASE_URL is unset",
        "MAIL_SERVER is unset",
        "SESSION_COOKIE_SECURE is off",
        "MFA_REQUIRED_ROLES is empty",
        "evidence directory",
        "migrations: database at 1000",
        "scheduler no scheduler has ever run",
    ):
        assert expected in out, out
    if db.engine.dialect.name == "sqlite":
        assert "SQLite with several hosts (TRACKER_HOSTS=2)" in out


def test_check_knows_several_hosts_from_their_schedulers(app, db):
    Elector(app).step()
    now = utcnow()
    db.session.add_all(
        [
            SchedulerNode(holder="web1:10:a", host="web1", pid=10, started_at=now, seen_at=now),
            SchedulerNode(holder="web2:20:b", host="web2", pid=20, started_at=now, seen_at=now),
        ]
    )
    db.session.commit()
    result = _check(app, **PRODUCTION)
    if db.engine.dialect.name == "sqlite":
        assert result.exit_code == 1
        assert "SQLite with several hosts (schedulers ran on 3 hosts in the last day" in result.output
    else:  # several hosts on one PostgreSQL database is the supported setup
        assert result.exit_code == 0, result.output


def test_check_says_when_the_scheduler_stopped(app, db):
    elector = Elector(app)
    elector.step()
    db.session.execute(sa.update(SchedulerLease).values(heartbeat_at=utcnow() - timedelta(minutes=10)))
    db.session.commit()
    result = _check(app, **PRODUCTION)
    assert result.exit_code == 1
    assert "scheduler not running: last heartbeat 600 s ago" in result.output
    elector.release()


# --- leadership -------------------------------------------------------------------------------


def test_one_leader_at_a_time_and_a_standby_takes_over(app, db):
    app.config["SCHEDULER_LEASE_SECONDS"] = 30
    first, second = Elector(app), Elector(app)
    assert first.step() is True
    assert second.step() is False
    assert first.step() is True  # renewing keeps it
    lease = current_lease()
    assert (lease.holder, lease.pid) == (first.holder, first.pid)
    if db.engine.dialect.name == "postgresql":
        first._drop_lock_connection()  # what the server sees when the leader's process dies
    else:
        db.session.execute(sa.update(SchedulerLease).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert second.step() is True
    db.session.expire_all()
    assert current_lease().holder == second.holder
    assert first.step() is False  # the old leader learns it lost and stands by
    second.release()
    assert first.step() is True  # a clean stop hands over at once
    first.release()


# --- probes, metrics, logs --------------------------------------------------------------------


def test_readyz_reports_each_check_and_the_leader(app, db, client):
    elector = Elector(app)
    elector.step()
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready" and body["failing"] == []
    assert set(body["checks"]) == {"database", "migrations", "evidence_dir"}
    assert body["scheduler"]["leader_pid"] == elector.pid
    assert body["scheduler"]["leader_host"] == elector.host
    assert body["scheduler"]["heartbeat_age_seconds"] < 5
    elector.release()


def test_readyz_names_what_is_wrong(app, db, client):
    db.session.execute(sa.text("UPDATE alembic_version SET version_num = '1000'"))
    db.session.commit()
    app.config["READYZ_REQUIRE_SCHEDULER"] = True
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failing"] == ["migrations", "scheduler"]
    assert "database at 1000" in body["checks"]["migrations"]["detail"]
    assert body["scheduler"]["ok"] is False


def test_metrics_for_loopback_or_a_token_only(app, db, client, make, login_as):
    from app.audit import record

    record("test.metrics", after={"n": 1})
    db.session.commit()
    client.get("/healthz")
    page = client.get("/metrics")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'tracker_http_requests_total{endpoint="health.healthz",method="GET",status="200"}' in text
    assert "tracker_http_request_duration_seconds_bucket" in text
    assert 'tracker_outbox_messages{state="pending"} 0.0' in text
    assert "tracker_outbox_oldest_pending_age_seconds 0.0" in text
    assert "tracker_scheduler_heartbeat_age_seconds -1.0" in text
    assert "tracker_audit_events_written_total" in text

    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 404
    app.config["METRICS_TOKEN"] = "s3cret-token-for-scrapes"
    assert client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert (
        client.get(
            "/metrics", environ_base=outside, headers={"Authorization": "Bearer s3cret-token-for-scrapes"}
        ).status_code
        == 200
    )
    app.config["METRICS_ALLOW"] = "203.0.113.0/24"
    assert client.get("/metrics", environ_base=outside).status_code == 200


def test_the_audit_counter_counts_committed_events_only(app, db):
    from app.audit import record
    from app.health.metrics import AUDIT_EVENTS

    before = AUDIT_EVENTS._value.get()
    record("test.kept")
    record("test.kept")
    db.session.commit()
    record("test.dropped")
    db.session.rollback()
    assert AUDIT_EVENTS._value.get() - before == 2


def test_one_json_line_per_request_with_its_id(app, db, client, login_as):
    from app.health.observe import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("app.requests")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        user = login_as("admin")
        stream.truncate(0)
        stream.seek(0)
        response = client.get("/", headers={"X-Request-Id": "lb-0123456789abcdef"})
        response_no_id = client.get("/healthz")
    finally:
        logger.removeHandler(handler)
    assert response.headers["X-Request-Id"] == "lb-0123456789abcdef"
    generated = response_no_id.headers["X-Request-Id"]
    assert len(generated) == 16
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2
    first = lines[0]
    assert first["request_id"] == "lb-0123456789abcdef"
    assert first["user_id"] == user.id
    assert first["status"] == response.status_code
    assert first["endpoint"] and first["queries"] >= 1 and first["duration_ms"] >= 0
    assert "time" in first
    assert lines[1]["request_id"] == generated and lines[1]["endpoint"] == "health.healthz"


def test_the_incident_number_is_the_request_id(app, client, login_as):
    from app.permissions import roles

    @app.route("/boom-for-ops-test")
    @roles("admin")
    def boom():
        raise RuntimeError("boom")

    login_as("admin")
    response = client.get("/boom-for-ops-test")
    assert response.status_code == 500
    incident = response.get_data(as_text=True).split('class="app-incident">')[1].split("<")[0]
    assert incident == response.headers["X-Request-Id"]


def test_bulk_loads_end_with_fresh_statistics(app, db, make):
    from app.dbtypes import refresh_statistics

    make.milestone()
    db.session.commit()
    refresh_statistics()
    if db.engine.dialect.name == "postgresql":  # VACUUM (ANALYZE): both stamps are set
        vacuumed, analyzed = db.session.execute(
            sa.text("SELECT last_vacuum, last_analyze FROM pg_stat_user_tables WHERE relname = 'milestones'")
        ).one()
        assert vacuumed is not None and analyzed is not None
    else:
        assert db.session.scalar(sa.text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'milestones'")) > 0


def test_bench_seed_ends_with_fresh_statistics(app, db):
    """``flask bench seed`` (bench/data.py) is a bulk load: it ends with VACUUM (ANALYZE) on PostgreSQL."""
    from bench.data import seed
    from app.timeutil import today
    from tests.web.test_backup import assert_fresh_statistics

    seed(100, today(), echo=lambda *_: None)
    assert_fresh_statistics(db)
