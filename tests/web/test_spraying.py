"""Password spraying: failed sign-ins are limited per client address, across every worker."""

import subprocess
import sys

import sqlalchemy as sa

from app.audit import AuditEvent
from tests.factories import PASSWORD
from tests.web.test_audit_concurrency import Visitor, serving
from tests.web.test_crash import ROOT


def _fail(client, n: int, start: int = 0) -> list[int]:
    return [
        client.post_form(
            "/sign-in",
            {"email": f"target-{i}@example.gov", "password": "a guess, one per account"},
            token_from="/sign-in",
        ).status_code
        for i in range(start, start + n)
    ]


def test_failures_from_one_address_across_two_app_instances_are_counted_together(app, db, make, client):
    limit = app.config["SIGN_IN_ADDRESS_LIMIT"]
    user = make.user("manager", email="real@example.gov")
    db.session.commit()
    # Half the failures from another process (another app instance on the same database), half from here.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.workers",
            "sign-in-failures",
            app.config["SQLALCHEMY_DATABASE_URI"],
            "sprayed@example.gov",
            str(limit // 2),
        ],
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    assert set(_fail(client, limit - limit // 2)) == {400}
    refused = client.post_form("/sign-in", {"email": user.email, "password": PASSWORD}, token_from="/sign-in")
    assert refused.status_code == 429  # even the right password: the address waits
    retry_after = int(refused.headers["Retry-After"])
    assert 0 < retry_after <= app.config["SIGN_IN_ADDRESS_WINDOW_MINUTES"] * 60 + 1
    assert "Too many failed sign-ins from your network address. Try again in 15 minutes." in refused.get_data(
        as_text=True
    )
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "auth.sign_in_throttled")).all()
    assert [e.after_data["email"] for e in events] == [user.email] and events[0].ip == "127.0.0.1"


def test_the_window_ends_and_other_addresses_are_not_held(app, db, make, client):
    from datetime import timedelta

    from app.auth.models import SignInThrottle
    from app.auth.services import address_retry_after
    from app.timeutil import utcnow

    app.config["SIGN_IN_ADDRESS_LIMIT"] = 3
    assert _fail(client, 3) == [400, 400, 400]
    assert _fail(client, 1, 3) == [429]
    now = utcnow()
    assert address_retry_after("127.0.0.1", now) is not None
    assert address_retry_after("10.0.0.9", now) is None
    assert address_retry_after("127.0.0.1", now + timedelta(minutes=15, seconds=2)) is None
    db.session.execute(sa.update(SignInThrottle).values(window_start=now - timedelta(minutes=16)))
    db.session.commit()
    assert _fail(client, 1, 4) == [400]  # a new window, counting from one
    assert db.session.get(SignInThrottle, "127.0.0.1", populate_existing=True).failures == 1


def test_spraying_two_gunicorn_workers_is_limited_at_the_shared_count(app, db, make, tmp_path):
    with serving(app, tmp_path, SIGN_IN_ADDRESS_LIMIT="12") as base:
        visitors = [Visitor(base) for _ in range(4)]  # separate connections, spread over both workers
        statuses = [visitors[i % 4].sign_in(f"user-{i}@example.gov", "one guess per account") for i in range(16)]
    assert statuses == [400] * 12 + [429] * 4
    db.session.remove()
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "auth.sign_in_throttled")
        )
        == 4
    )
