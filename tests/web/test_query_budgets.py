"""Issue 10: every main page sends a fixed number of queries, whatever the data, and at most 14 (12 before the queues on the start page and the header counts of issue 16)."""

import sqlalchemy as sa

from datetime import timedelta
from decimal import Decimal

from app.auth.models import User
from app.metrics.models import Metric, TargetChange
from app.milestones.models import DueDateChange
from app.notifications.models import Notification
from bench.data import BENCH_PASSWORD, BENCH_USERS, seed
from app.recommendations.models import LineOfEffort, Recommendation
from app.timeutil import today
from tests.querycount import count_queries

BUDGET = 14
PAGES = [
    ("dashboard", "/", "oig_reviewer"),
    ("dashboard (office)", "/", "action_office"),
    ("recommendation", "/recommendations/{rec}", "action_office"),
    ("timeline", "/recommendations/{rec}/timeline", "action_office"),
    ("loop", "/recommendations/{rec}/loop", "action_office"),
    ("people you can mention", "/recommendations/{rec}/mentionable", "action_office"),
    ("people you can mention (JSON)", "/recommendations/{rec}/mentionable.json", "oig_reviewer"),
    ("my work", "/my-work", "action_office"),
    ("my work, filtered, page 2", "/my-work?status=in_progress&page=2", "action_office"),
    ("search", "/search/?q=data+standard", "oig_reviewer"),
    ("submissions awaiting decision", "/submissions/awaiting", "oig_reviewer"),
    ("dashboard (manager)", "/", "manager"),
    ("queue: awaiting your review", "/queue", "oig_reviewer"),
    ("queue: awaiting your approval", "/queue", "manager"),
    ("queue: returned to you", "/queue", "action_office"),
    ("queue, page 2", "/queue?page=2", "oig_reviewer"),
    ("notifications", "/notifications", "action_office"),
    ("notifications (OIG)", "/notifications", "oig_reviewer"),
]


def _measure(app, rec_id):
    counts = {}
    for role, email in BENCH_USERS.items():
        if role not in {r for _, _, r in PAGES}:
            continue
        client = app.test_client()
        response = client.post_form("/sign-in", {"email": email, "password": BENCH_PASSWORD}, token_from="/sign-in")
        assert response.status_code == 302
        for name, template, page_role in PAGES:
            if page_role != role:
                continue
            with count_queries(app) as counter:
                response = client.get(template.format(rec=rec_id))
            assert response.status_code == 200, (name, response.status_code)
            counts[name] = counter.count
    return counts


def _notify(db, rec, count: int) -> None:
    """``count`` notifications for the bench's office and OIG users (the inbox pages)."""
    users = db.session.scalars(sa.select(User).where(User.email.in_(list(BENCH_USERS.values())))).all()
    start = db.session.scalar(sa.select(sa.func.count()).select_from(Notification))
    db.session.add_all(
        Notification(
            recipient_id=u.id,
            kind="comment",
            item_type="comment",
            item_id=start + i,
            recommendation_id=rec.id,
            text=f"Message {i}",
            link=f"/recommendations/{rec.id}",
        )
        for u in users
        for i in range(count)
    )
    db.session.commit()


def _ask(db, make, line, by, count: int) -> None:
    """``count`` due-date changes and ``count`` target changes awaiting the bench manager (their queue)."""
    for i in range(count):
        milestone = make.milestone(line, owner=by, title=f"Asked milestone {i}")
        metric = Metric(
            line_of_effort_id=line.id, name=f"Asked metric {i}", target_value=Decimal(90), collect_from=today()
        )
        db.session.add(metric)
        db.session.flush()
        db.session.add_all(
            [
                DueDateChange(
                    milestone_id=milestone.id,
                    old_due_on=milestone.current_due_on,
                    new_due_on=milestone.current_due_on + timedelta(days=30),
                    justification="Later.",
                    status="pending",
                    requested_by_id=by.id,
                ),
                TargetChange(
                    metric_id=metric.id,
                    old_target_value=Decimal(90),
                    new_target_value=Decimal(80),
                    justification="Lower.",
                    status="pending",
                    requested_by_id=by.id,
                ),
            ]
        )
    db.session.commit()


def test_main_pages_have_a_fixed_query_budget(app, db, make):
    seed(100, today(), echo=lambda *_: None)
    policy = db.session.scalar(sa.select(User).where(User.email == BENCH_USERS["action_office"]))
    rec = db.session.scalar(
        sa.select(Recommendation).where(Recommendation.action_office_id == policy.office_id).order_by(Recommendation.id)
    )
    _notify(db, rec, 3)
    first_line = db.session.scalar(sa.select(LineOfEffort).where(LineOfEffort.recommendation_id == rec.id))
    _ask(db, make, first_line, policy, 1)
    small = _measure(app, rec.id)

    seed(1000, today(), echo=lambda *_: None)
    line = db.session.scalar(sa.select(LineOfEffort).where(LineOfEffort.recommendation_id == rec.id))
    for i in range(150):
        make.milestone(line, owner=policy, status="in_progress" if i % 2 else "not_started")
    db.session.commit()
    _notify(db, rec, 80)
    _ask(db, make, line, policy, 30)  # more than a page of the manager's queue, of each kind
    large = _measure(app, rec.id)

    assert large == small
    manager = app.test_client()
    manager.post_form("/sign-in", {"email": BENCH_USERS["manager"], "password": BENCH_PASSWORD}, token_from="/sign-in")
    queue = manager.get("/queue").get_data(as_text=True)
    assert "62 items, 25 a page." in queue and "Asked metric 0" in queue and "Asked milestone 0" in queue
    over = {name: n for name, n in small.items() if n > BUDGET}
    assert over == {}, f"pages over {BUDGET} queries: {over}"


def test_dashboard_and_my_work_are_paged(client, login_as, make, db):
    user = login_as("action_office")
    line = make.line(make.recommendation())
    for i in range(60):
        make.milestone(line, owner=user, title=f"Paged milestone {i:03d}")
    for i in range(30):
        make.recommendation(text=f"Paged recommendation {i}")
    db.session.commit()
    first = client.get("/my-work").get_data(as_text=True)
    assert first.count("Paged milestone") == 50 and "Page 1 of 2" in first
    second = client.get("/my-work?page=2").get_data(as_text=True)
    assert second.count("Paged milestone") == 10 and "Page 2 of 2" in second
    assert client.get("/my-work?page=abc").status_code == 200
    dashboard = client.get("/").get_data(as_text=True)
    assert "31 recommendations, 25 a page." in dashboard and "Page 1 of 2" in dashboard
    assert "Page 2 of 2" in client.get("/?page=9").get_data(as_text=True)
