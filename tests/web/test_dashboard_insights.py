"""Dashboard figures: age buckets at their boundaries, overdue milestones, clocks, per office, bounded queries."""

import random
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.dashboard.insights import LIST_LIMIT, age_bucket, clock_alerts, dashboard_insights, last_activity_on
from app.dbtypes import literal_in
from app.extensions import db
from app.recommendations.clocks import add_months, clocks_for
from app.milestones.models import Milestone
from app.recommendations.models import OPEN_STATUSES, LineOfEffort, Recommendation
from app.submissions.models import SUBMISSION_KINDS, Submission
from app.submissions.services import dates_from, note_sent
from app.timeutil import today
from tests.factories import days
from tests.querycount import count_queries

TODAY = date(2026, 11, 27)


def test_figures_for_an_office(app, db, make):
    plcy = make.office("DHS-PLCY")
    old = make.recommendation(office=plcy, issued_on=date(2020, 1, 1))
    make.recommendation(office=plcy, status="resolved_closed")
    make.milestone(make.line(old), title="Late", due=days(-2))
    ice = make.recommendation(office=make.office("ICE"), issued_on=date(2019, 1, 1))
    make.milestone(make.line(ice), title="ICE late", due=days(-9))
    user = make.user("manager", office=plcy)
    insights = dashboard_insights(user, today())
    assert dict(insights.ages)["Over 2 years"] == 1 and sum(n for _, n in insights.ages) == 1
    assert [m.title for m in insights.overdue] == ["Late"] and insights.overdue_count == 1
    assert any(a.state == "past_due" for a in insights.clock_alerts)
    assert {a.recommendation.id for a in insights.clock_alerts} == {old.id}  # not ICE's, also past due
    everyone = dashboard_insights(make.user("oig_reviewer"), today())
    assert dict(everyone.ages)["Over 2 years"] == 2
    assert {a.recommendation.id for a in everyone.clock_alerts} == {old.id, ice.id}


def test_dashboard_shows_charts_with_tables(client, demo, login_as):
    login_as("manager")
    page = client.get("/").get_data(as_text=True)
    assert 'id="age-table"' in page and 'id="status-table"' in page and 'data-chart="bar"' in page
    assert "Overdue milestones (1)" in page  # the demo's one overdue milestone
    assert "Resolution limit (6 months after issue)" not in page or "clock-alerts" in page


def test_dashboard_query_count_does_not_grow(app, client, db, make, login_as):
    line = make.line(make.recommendation())
    make.milestone(line, due=days(-1))
    login_as("oig_reviewer")
    with count_queries(app) as few:
        client.get("/")
    for _ in range(8):
        make.milestone(make.line(make.recommendation()), due=days(-3))
    db.session.commit()
    with count_queries(app) as many:
        client.get("/")
    assert many.count == few.count


def _brute_force_alerts(recommendations, on, limit):
    """Every clock of every recommendation, its submission dates taken from its submissions."""
    sent = {}
    for submission in db.session.scalars(sa.select(Submission)):
        sent.setdefault(submission.recommendation_id, []).append(submission)
    alerts = [
        (clock.due_on, rec.id, clock.label, clock.state)
        for rec in recommendations
        if rec.is_open
        for clock in clocks_for(rec, on, **dates_from(sent.get(rec.id, []))).values()
        if clock.state in ("due_soon", "past_due")
    ]
    return sorted(alerts)[:limit]


@pytest.mark.parametrize("limit", [LIST_LIMIT, 1000])
@pytest.mark.parametrize("seed", range(3))
def test_clock_alerts_found_in_sql_equal_every_clock_computed_one_by_one(db, make, monkeypatch, seed, limit):
    """Recommendations on both sides of each clock's boundary, with and without plans and updates:
    the dashboard's SQL candidates give exactly the alerts that clocks_for gives for all of them
    (with a list long enough to hold every alert, and with the dashboard's ten)."""
    monkeypatch.setattr("app.dashboard.insights.LIST_LIMIT", limit)
    rng = random.Random(seed)
    sender = make.user("action_office")
    recs = []
    for n in range(40):
        issued = TODAY - timedelta(days=rng.choice([30, 59, 60, 61, 100, 150, 152, 153, 181, 200, 330, 400, 800]))
        decided = (issued + timedelta(days=rng.randint(20, 400))) if rng.random() < 0.5 else None
        if decided and decided > TODAY:
            decided = None
        status = rng.choice(
            ["unresolved_open", "resolved_open", "closure_pending", "resolved_closed"]
            if decided
            else ["unresolved_open", "closed_not_implemented"]
        )
        rec = make.recommendation(issued_on=issued, management_decision_on=decided, status=status)
        for number in range(1, rng.choice([1, 1, 2, 3])):
            sent = issued + timedelta(days=rng.randint(1, (TODAY - issued).days))
            kind = rng.choice(SUBMISSION_KINDS)
            db.session.add(
                Submission(
                    recommendation_id=rec.id,
                    number=number,
                    kind=kind,
                    narrative="n",
                    snapshot={},
                    snapshot_sha256="0" * 64,
                    submitted_by_id=sender.id,
                    submitted_on=sent,
                )
            )
            note_sent(rec, kind, sent)
        recs.append(rec)
    db.session.commit()
    expected = _brute_force_alerts(recs, TODAY, limit)
    found = [(a.due_on, a.recommendation.id, a.label, a.state) for a in clock_alerts(make.user("oig_reviewer"), TODAY)]
    assert len(expected) == min(limit, len(expected)) and len(expected) >= LIST_LIMIT
    assert found == expected


def test_dashboard_counts_submissions_waiting_beyond_the_list(client, db, make, login_as):
    sender = make.user("action_office")
    for _ in range(LIST_LIMIT + 2):
        db.session.add(
            Submission(
                recommendation_id=make.recommendation().id,
                number=1,
                kind="plan",
                narrative="n",
                snapshot={},
                snapshot_sha256="0" * 64,
                submitted_by_id=sender.id,
                submitted_on=TODAY,
            )
        )
    db.session.commit()
    login_as("oig_reviewer")
    page = client.get("/").get_data(as_text=True)
    assert f"Submissions waiting for your decision ({LIST_LIMIT + 2})" in page
    assert f"All {LIST_LIMIT + 2} submissions waiting" in page


def _plan(db, statement, index: str) -> str:
    """The query plan; on SQLite, with ``INDEXED BY`` (an error when the index cannot answer the
    query), as an empty test database has no statistics to choose by."""
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_sort = off")
            return "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql))
        first = statement.get_final_froms()[0]
        while isinstance(first, sa.Join):
            first = first.left
        table = first.name
        sql = sql.replace(f"FROM {table}", f"FROM {table} INDEXED BY {index}", 1)
        return "\n".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


@pytest.mark.parametrize(
    "index, build",
    [
        (
            "ix_recommendations_open_activity",
            lambda: (
                sa.select(Recommendation.id)
                .where(literal_in(Recommendation.status, OPEN_STATUSES), last_activity_on() <= TODAY)
                .order_by(last_activity_on(), Recommendation.id)
                .limit(20)
            ),
        ),
        (
            "ix_recommendations_open_issued",
            lambda: (
                sa.select(Recommendation.id)
                .where(literal_in(Recommendation.status, OPEN_STATUSES), Recommendation.issued_on <= TODAY)
                .order_by(Recommendation.issued_on, Recommendation.id)
                .limit(20)
            ),
        ),
        (
            "ix_milestones_open_due",
            lambda: (
                sa.select(Milestone.id)
                .where(literal_in(Milestone.status, ("not_started", "in_progress")), Milestone.current_due_on < TODAY)
                .order_by(Milestone.current_due_on, Milestone.id)
                .limit(10)
            ),
        ),
        (
            "ix_submissions_pending",
            lambda: (
                sa.select(Submission.id)
                .where(Submission.decision.is_(None))
                .order_by(Submission.submitted_at, Submission.id)
                .limit(10)
            ),
        ),
        # An office's overdue count reaches the milestones through its recommendations' lines.
        (
            "ix_milestones_open_line_due",
            lambda: (
                sa.select(sa.func.count(Milestone.id))
                .where(literal_in(Milestone.status, ("not_started", "in_progress")), Milestone.current_due_on < TODAY)
                .join(Milestone.line_of_effort)
                .join(LineOfEffort.recommendation)
                .where(Recommendation.action_office_id == 1)
            ),
        ),
    ],
)
def test_the_dashboard_queries_can_be_answered_from_their_indexes(db, index, build):
    """The expressions and WHERE clauses the dashboard sends are those of its partial and
    expression indexes (migration 0900), so the planner can read them in order; the plans
    at scale are in bench/README.md."""
    plan = _plan(db, build(), index)
    assert index in plan and "TEMP B-TREE" not in plan and "Sort" not in plan.replace("Sort Key", "")


#: SQLite's statistics of the bench's 5,000 recommendations (sqlite_stat1 after ANALYZE): a few
#: rows per management-decision day, NULL included, though a fifth of them have none.
BENCH_STATISTICS = {
    "ix_recommendations_open_activity": "2992 4 1",
    "ix_recommendations_open_issued": "2992 4 1",
    "ix_recommendations_office_list_order": "5000 250 6 5 1",
    "ix_recommendations_list_order": "5000 7 5 1",
    "ix_recommendations_decision_on": "5000 3",
    "ix_recommendations_status_issued": "5000 1000 2",
    "ix_recommendations_status": "5000 1000",
    "ix_recommendations_report_id": "5000 5",
    "ix_recommendations_action_office_id": "5000 250",
    "sqlite_autoindex_recommendations_1": "5000 5 1",
}


@pytest.mark.parametrize("by_office", [False, True])
def test_the_undecided_clocks_candidates_are_read_in_issue_order(db, make, by_office):
    """The candidates of the plan-response and resolution clocks are read from an index in issue
    order, stopping at the limit (the open ones', or on SQLite for an office its list order's).
    On SQLite with statistics
    like the bench's, it read every undecided recommendation through the decision-day index and
    sorted them, until the statement gave it a hint (likely()); PostgreSQL is asked to plan
    without sorts and sequential scans, as an empty table has no statistics to choose by."""
    from app.dashboard.insights import _candidates_statement, candidate_values

    office = make.office("PLCY")
    user = make.user("action_office" if by_office else "oig_reviewer", office=office)
    db.session.commit()
    dialect = db.engine.dialect.name
    statement = _candidates_statement(not by_office, dialect).params(candidate_values(user, TODAY))
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.engine.begin() as conn:
        if dialect == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_sort = off")
            plan = [row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql)]
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'recommendations'")
            for index, stat in BENCH_STATISTICS.items():
                conn.exec_driver_sql("INSERT INTO sqlite_stat1 VALUES ('recommendations', ?, ?)", (index, stat))
            conn.exec_driver_sql("ANALYZE sqlite_schema")  # load the statistics written above
            plan = [str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
    in_issue_order = ("ix_recommendations_open_issued", "(action_office_id=? AND issued_on<?)")
    assert sum(any(index in line for index in in_issue_order) for line in plan) >= 2, plan
    assert not any("ix_recommendations_decision_on (management_decision_on=?)" in line for line in plan), plan


def test_age_counts_in_sql_equal_age_bucket_on_both_sides_of_each_boundary(db, make):
    from app.dashboard.insights import status_and_age_counts

    issued = [add_months(TODAY, -months) + timedelta(days=shift) for months in (6, 12, 24) for shift in (-1, 0, 1)] + [
        TODAY,
        date(2019, 2, 28),
    ]
    for day in issued:
        make.recommendation(issued_on=day)
        make.recommendation(issued_on=day, status="resolved_closed")  # closed ones have no age bucket
    db.session.commit()
    by_status, ages = status_and_age_counts(make.user("oig_reviewer"), TODAY)
    expected = [0] * 4
    for day in issued:
        expected[age_bucket(day, TODAY)] += 1
    assert [n for _, n in ages] == expected and by_status["resolved_closed"] == len(issued)
