"""Dashboard figures: age buckets at their boundaries, overdue milestones, clocks, per office, bounded queries."""

import random
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.dashboard.insights import (
    EVERY_OFFICE,
    LIST_LIMIT,
    age_bucket,
    clock_alerts,
    dashboard_insights,
    last_activity_on,
    status_and_age_counts,
)
from app.dbtypes import literal_in
from app.extensions import db
from app.recommendations.clocks import add_months, clocks_for
from app.milestones.models import Milestone
from app.recommendations.models import OPEN_STATUSES, STATUSES, LineOfEffort, Recommendation
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
        # An office's open milestones reached through its recommendations' lines (migration 1000;
        # its overdue count now reads open_milestone_days, tested below).
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
            # Statistics of this table's own rows, not those an earlier test left in a reused database.
            conn.exec_driver_sql("ANALYZE recommendations")
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
    assert sum(any(index in line for index in in_issue_order) for line in plan) >= 2, "\n".join(plan)
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


def _open_days(db) -> dict[tuple[int, date], int]:
    """``open_milestone_days`` as the triggers keep it, without its emptied days."""
    rows = db.session.execute(sa.text("SELECT office_id, due_on, milestones FROM open_milestone_days"))
    return {(office, date.fromisoformat(str(due))): n for office, due, n in rows if n}


def _counted_from_milestones(db) -> dict[tuple[int, date], int]:
    """The same, counted from the milestones themselves: by office, and of every office as office 0."""
    rows = db.session.execute(
        sa.select(Recommendation.action_office_id, Milestone.current_due_on, sa.func.count())
        .join(Milestone.line_of_effort)
        .join(LineOfEffort.recommendation)
        .where(literal_in(Milestone.status, ("not_started", "in_progress")))
        .group_by(Recommendation.action_office_id, Milestone.current_due_on)
    )
    counted: dict[tuple[int, date], int] = {}
    for office, due, n in rows:
        counted[office, due] = n
        counted[EVERY_OFFICE, due] = counted.get((EVERY_OFFICE, due), 0) + n
    return counted


def test_open_milestone_days_follow_every_change_that_moves_an_overdue_milestone(db, make):
    """The overdue counts are sums over open_milestone_days (migration 1910_dash), which the
    database's triggers keep: after each kind of change the table equals a count of the
    milestones, and the dashboards' counts equal the milestones a brute-force count finds."""
    plcy, ice = make.office("DHS-PLCY"), make.office("ICE")
    rec, other = make.recommendation(office=plcy), make.recommendation(office=ice)
    line, other_line = make.line(rec), make.line(other)
    late = [make.milestone(line, due=days(-d)) for d in (1, 1, 5, 40)]
    make.milestone(line, due=days(3))  # not yet due
    make.milestone(other_line, due=days(-2), status="in_progress")
    make.milestone(other_line, due=days(-2), status="completed")  # done: never counted
    plcy_user, oig = make.user("action_office", office=plcy), make.user("oig_reviewer")
    db.session.commit()

    def check(plcy_late: int, everyone_late: int) -> None:
        db.session.commit()
        assert _open_days(db) == _counted_from_milestones(db)
        assert dashboard_insights(plcy_user, today()).overdue_count == plcy_late
        assert dashboard_insights(oig, today()).overdue_count == everyone_late

    check(4, 5)
    late[0].status = "completed"  # leaves the open days
    check(3, 4)
    late[0].status = "in_progress"  # and comes back
    check(4, 5)
    late[1].current_due_on = days(10)  # a new due date: no longer late
    check(3, 4)
    late[2].status = "in_progress"  # open either way: nothing moves
    late[2].percent_complete = 50
    check(3, 4)
    late[3].line_of_effort = other_line  # to another recommendation's line, of ICE
    check(2, 4)
    line.recommendation = other  # the whole line moves to ICE
    check(0, 4)
    other.action_office_id = plcy.id  # ICE's recommendation moves to PLCY, with both lines
    check(4, 4)
    db.session.delete(late[2])
    check(3, 3)


def test_open_milestone_days_have_their_triggers_at_head(db):
    """A later migration that rebuilds one of the tables on SQLite drops its triggers: they are
    all still there at the head revision."""
    names = {"omd_milestone_insert", "omd_milestone_delete", "omd_milestone_update", "omd_line_moved"}
    names.add("omd_recommendation_moved")
    if db.engine.dialect.name == "sqlite":
        found = db.session.scalars(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    else:
        found = db.session.scalars(sa.text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
    assert names <= set(found)


def _recommendation_days(db) -> dict[tuple[int, str, date], int]:
    """``recommendation_days`` as the triggers keep it, without its emptied days."""
    rows = db.session.execute(sa.text("SELECT office_id, status, issued_on, recommendations FROM recommendation_days"))
    return {(office, status, date.fromisoformat(str(day))): n for office, status, day, n in rows if n}


def _counted_from_recommendations(db) -> dict[tuple[int, str, date], int]:
    """The same, counted from the recommendations: by office, and of every office as office 0."""
    rows = db.session.execute(
        sa.select(
            Recommendation.action_office_id, Recommendation.status, Recommendation.issued_on, sa.func.count()
        ).group_by(Recommendation.action_office_id, Recommendation.status, Recommendation.issued_on)
    )
    counted: dict[tuple[int, str, date], int] = {}
    for office, status, day, n in rows:
        counted[office, status, day] = n
        counted[EVERY_OFFICE, status, day] = counted.get((EVERY_OFFICE, status, day), 0) + n
    return counted


def _recommendation_totals(db) -> dict[tuple[int, str], int]:
    """``recommendation_totals`` as the triggers keep it, without its emptied totals."""
    rows = db.session.execute(sa.text("SELECT office_id, status, recommendations FROM recommendation_totals"))
    return {(office, status): n for office, status, n in rows if n}


def _totals_of(days: dict[tuple[int, str, date], int]) -> dict[tuple[int, str], int]:
    totals: dict[tuple[int, str], int] = {}
    for (office, status, _), n in days.items():
        totals[office, status] = totals.get((office, status), 0) + n
    return totals


def test_recommendation_days_follow_every_change_to_a_recommendations_figures(db, make):
    """The figures are sums over recommendation_totals and recommendation_days (migrations
    1950_dash1m, 2030_dash2), which the database's triggers keep: after each kind of change both
    tables equal a count of the recommendations, and both dashboards' counts by status and by age
    equal a brute-force count."""
    plcy, ice = make.office("DHS-PLCY"), make.office("ICE")
    recs = [
        make.recommendation(office=plcy, issued_on=TODAY - timedelta(days=d), status=status)
        for d, status in (
            (10, "unresolved_open"),
            (10, "unresolved_open"),
            (200, "resolved_open"),
            (900, "resolved_closed"),
        )
    ]
    other = make.recommendation(office=ice, issued_on=TODAY - timedelta(days=400), status="closure_pending")
    plcy_user, oig = make.user("action_office", office=plcy), make.user("oig_reviewer")
    db.session.commit()

    def brute_force(office_id: int | None) -> tuple[dict[str, int], list[int]]:
        scope = [r for r in db.session.scalars(sa.select(Recommendation)) if office_id in (None, r.action_office_id)]
        ages = [0] * 4
        for r in scope:
            if r.status in OPEN_STATUSES:
                ages[age_bucket(r.issued_on, TODAY)] += 1
        return {s: sum(r.status == s for r in scope) for s in STATUSES}, ages

    def check() -> None:
        db.session.commit()
        counted = _counted_from_recommendations(db)
        assert _recommendation_days(db) == counted
        assert _recommendation_totals(db) == _totals_of(counted)
        for user, office_id in ((plcy_user, plcy.id), (oig, None)):
            by_status, ages = status_and_age_counts(user, TODAY)
            assert (by_status, [n for _, n in ages]) == brute_force(office_id)

    check()
    recs[0].status = "resolved_open"  # a new status, the same day
    check()
    recs[1].issued_on = TODAY - timedelta(days=500)  # an older issue day: another age
    check()
    recs[2].text = "Reworded."  # nothing counted changes: the triggers stay out of it
    check()
    other.action_office_id = plcy.id  # moves to PLCY; every office's count keeps it
    check()
    recs[3].status, recs[3].action_office_id = "unresolved_open", ice.id  # reopened and moved at once
    check()
    db.session.delete(recs[2])
    check()
    assert _recommendation_days(db)[EVERY_OFFICE, "resolved_open", TODAY - timedelta(days=10)] == 1


def test_recommendation_days_have_their_triggers_at_head(db):
    """A later migration that rebuilds recommendations on SQLite drops its triggers: all three are
    still there at the head revision."""
    names = {"rsd_recommendation_insert", "rsd_recommendation_delete", "rsd_recommendation_update"}
    if db.engine.dialect.name == "sqlite":
        found = db.session.scalars(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    else:
        found = db.session.scalars(sa.text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
    assert names <= set(found)


@pytest.mark.parametrize("every_office", [False, True])
def test_the_figures_read_a_range_of_recommendation_days(db, every_office):
    """Both dashboards' figures read only one office's rows of recommendation_days (office 0 for
    every office), a range of the table's primary key: never the recommendations themselves."""
    from app.dashboard.insights import dashboard_statements, dashboard_values

    user = type("U", (), {"office_id": 3})()
    statement = dashboard_statements(every_office).figures.params(dashboard_values(user, TODAY))
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql))
            # Its primary key or the covering index (migration 2020_dash2): at this size either.
            assert re.search(r"(recommendation_days_pkey|ix_recommendation_days_covering) on", plan), plan
            assert "Seq Scan" not in plan, plan
            assert " recommendations " not in plan, plan
        else:
            plan = "\n".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
            # Read from the covering index alone (migration 2000_dash_oig), not the table too.
            assert "recommendation_days USING COVERING INDEX" in plan and "(office_id=?)" in plan, plan
            assert "TABLE recommendations " not in plan + " ", plan


@pytest.mark.parametrize("every_office", [False, True])
def test_the_overdue_count_reads_a_range_of_open_milestone_days(db, every_office):
    """Both dashboards' overdue counts read only the days before today of one office (office 0
    for every office), a range of the table's primary key: never a scan of the table."""
    from app.dashboard.insights import dashboard_statements

    statement = dashboard_statements(every_office).overdue_count.params(office_id=3, today=TODAY)
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql))
            assert re.search(r"(open_milestone_days_pkey|ix_open_milestone_days_covering) on", plan), plan
            assert "Seq Scan" not in plan, plan
        else:
            plan = "\n".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
            assert "USING COVERING INDEX" in plan and "(office_id=? AND due_on<?)" in plan, plan


def test_figures_of_an_office_without_recommendations_are_zero(db, make):
    """The figures are one GROUP BY by status: an office with no recommendation gets no row, and
    zeros (it has no milestone either), while another office's late milestone stays out."""
    from app.dashboard.insights import dashboard_figures

    make.milestone(make.line(make.recommendation(office=make.office("ICE"))), due=days(-3))
    empty = make.user("action_office", office=make.office("EMPTY"))
    db.session.commit()
    figures = dashboard_figures(empty, today())
    assert figures.overdue_count == 0 and set(figures.by_status.values()) == {0}
    assert [n for _, n in figures.ages] == [0, 0, 0, 0]
    assert dashboard_figures(make.user("oig_reviewer"), today()).overdue_count == 1
