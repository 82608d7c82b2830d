"""Dashboard figures: age buckets at their boundaries, overdue milestones, clocks, per office, bounded queries."""
from datetime import date

import pytest

from app.dashboard.insights import age_bucket, dashboard_insights
from app.timeutil import today
from tests.factories import days
from tests.querycount import count_queries

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize("issued, bucket", [
    (date(2026, 5, 28), 0), (date(2026, 5, 27), 1),   # 6 months to the day: 6-12
    (date(2025, 11, 28), 1), (date(2025, 11, 27), 2),
    (date(2024, 11, 28), 2), (date(2024, 11, 27), 3),
])
def test_age_buckets(issued, bucket):
    assert age_bucket(issued, TODAY) == bucket


def test_figures_for_an_office(app, db, make):
    plcy = make.office("DHS-PLCY")
    old = make.recommendation(office=plcy, issued_on=date(2020, 1, 1))
    make.recommendation(office=plcy, status="resolved_closed")
    make.milestone(make.line(old), title="Late", due=days(-2))
    make.milestone(make.line(make.recommendation(office=make.office("ICE"))), title="ICE late", due=days(-9))
    user = make.user("manager", office=plcy)
    insights = dashboard_insights(user, today())
    assert dict(insights.ages)["Over 2 years"] == 1 and sum(n for _, n in insights.ages) == 1
    assert [m.title for m in insights.overdue] == ["Late"] and insights.overdue_count == 1
    assert any(a.state == "past_due" for a in insights.clock_alerts)
    assert dict(dashboard_insights(make.user("oig_reviewer"), today()).ages)["Over 2 years"] == 1


def test_dashboard_shows_charts_with_tables(client, demo, login_as):
    login_as("manager")
    page = client.get("/").get_data(as_text=True)
    assert 'id="age-table"' in page and 'id="status-table"' in page and "data-chart=\"bar\"" in page
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
