"""The dashboard's date rules without an app: age buckets and the boundaries of add_months."""

from datetime import date, timedelta

import pytest

from app.dashboard.insights import age_bucket, latest_base_on
from app.recommendations.clocks import add_months

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    "issued, bucket",
    [
        (date(2026, 5, 28), 0),
        (date(2026, 5, 27), 1),  # 6 months to the day: 6-12
        (date(2025, 11, 28), 1),
        (date(2025, 11, 27), 2),
        (date(2024, 11, 28), 2),
        (date(2024, 11, 27), 3),
    ],
)
def test_age_buckets(issued, bucket):
    assert age_bucket(issued, TODAY) == bucket


@pytest.mark.parametrize("months", [6, 12, 24])
def test_latest_base_on_is_the_exact_boundary_of_add_months(months):
    day = date(2023, 1, 1)
    while day < date(2025, 3, 1):
        boundary = latest_base_on(months, day)
        assert add_months(boundary, months) <= day < add_months(boundary + timedelta(days=1), months)
        day += timedelta(days=1)
