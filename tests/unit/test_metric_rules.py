"""The metric rules without an app: periods, data-quality values, flag decisions, the chart's CSV."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from app.metrics.charts import chart_csv
from app.metrics.flags import decide_flags
from app.metrics.periods import due_periods, parse_period, period_bounds, previous_periods
from app.metrics.values import data_quality_value, with_unit
from app.templating import plural


@pytest.mark.parametrize(
    "frequency, text, label",
    [
        ("monthly", "2026-3", "2026-03"),
        ("monthly", " 2026-12 ", "2026-12"),
        ("quarterly", "2026-q2", "2026-Q2"),
        ("quarterly", "2026Q4", "2026-Q4"),
        ("annually", "FY2014", "2014"),
        ("annually", "2026", "2026"),
    ],
)
def test_periods_are_written_one_way(frequency, text, label):
    assert parse_period(frequency, text) == label


@pytest.mark.parametrize(
    "frequency, text",
    [
        ("monthly", "2026-13"),
        ("monthly", "2026-Q1"),
        ("quarterly", "2026-Q5"),
        ("annually", "26"),
        ("monthly", ""),
    ],
)
def test_bad_periods_are_refused(frequency, text):
    with pytest.raises(ValueError):
        parse_period(frequency, text)


def test_period_bounds_and_due_periods():
    assert period_bounds("quarterly", "2024-Q1") == (date(2024, 1, 1), date(2024, 3, 31))
    assert period_bounds("monthly", "2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert due_periods("monthly", date(2026, 1, 15), date(2026, 4, 1)) == ["2026-01", "2026-02", "2026-03"]
    assert due_periods("monthly", date(2026, 1, 15), date(2026, 1, 31)) == []
    assert previous_periods("quarterly", date(2026, 2, 10), 3) == ["2025-Q2", "2025-Q3", "2025-Q4"]


def test_data_quality_values_come_from_their_inputs():
    assert data_quality_value("completeness", Decimal(940), Decimal(1000)) == Decimal("94.00")
    assert data_quality_value("accuracy", Decimal(3), Decimal(200)) == Decimal("98.50")
    assert data_quality_value("duplicates", Decimal(46), Decimal(1100)) == Decimal("4.18")
    with pytest.raises(ValueError):
        data_quality_value("completeness", Decimal(5), Decimal(0))
    with pytest.raises(ValueError):
        data_quality_value("timeliness", Decimal(3), Decimal(2))


def _spec(**kw):
    base = dict(
        frequency="monthly",
        direction="higher",
        target_value=Decimal(90),
        component_list=["ICE", "CBP"],
        collect_from=date(2026, 1, 1),
    )
    base.update(kw)
    return SimpleNamespace(**base)


def _reading(period, component, value, frequency="monthly"):
    return SimpleNamespace(
        period=period, component=component, value=Decimal(value), period_end=period_bounds(frequency, period)[1]
    )


def test_decide_flags_follows_the_direction_and_the_calendar():
    readings = [_reading("2026-01", "ICE", 95), _reading("2026-01", "CBP", 80), _reading("2026-02", "ICE", 90)]
    flags = decide_flags(_spec(), readings, date(2026, 3, 5))
    assert set(flags) == {("CBP", "2026-01", "off_target"), ("CBP", "2026-02", "missing")}
    assert flags[("CBP", "2026-01", "off_target")].value == Decimal(80)
    lower = decide_flags(
        _spec(direction="lower", target_value=Decimal(2)),
        [_reading("2026-01", "ICE", 3), _reading("2026-01", "CBP", 1)],
        date(2026, 2, 1),
    )
    assert set(lower) == {("ICE", "2026-01", "off_target")}


def test_chart_csv_has_the_table_numbers_and_no_formulas():
    chart = {
        "labels": ["2026-Q1", "2026-Q2"],
        "series": [{"label": "=HYPERLINK(1)", "data": [1.5, None]}, {"label": "ICE", "data": [-2, 3]}],
        "target": 2,
        "baseline": None,
    }
    assert chart_csv(chart).splitlines() == ["period,'=HYPERLINK(1),ICE,target", "2026-Q1,1.5,-2,2", "2026-Q2,,3,2"]


@pytest.mark.parametrize(
    "number, unit, shown",
    [
        ("70", "%", "70%"),  # US style: no space before the percent sign
        ("94.5", "% of referrals", "94.5% of referrals"),
        ("12,757", "releases", "12,757\u00a0releases"),  # the unit never starts the next line
        ("3", "", "3"),
        ("3", "  ", "3"),
    ],
)
def test_a_number_and_its_unit_are_written_one_way_everywhere(number, unit, shown):
    assert with_unit(number, unit) == shown


@pytest.mark.parametrize(
    "count, args, shown",
    [
        (1, ("report",), "1 report"),
        (0, ("report",), "0 reports"),
        (2, ("report",), "2 reports"),
        (12000, ("open item",), "12,000 open items"),
        (1, ("entry", "entries"), "1 entry"),
        (3, ("entry", "entries"), "3 entries"),
    ],
)
def test_a_count_and_its_noun_agree(count, args, shown):
    assert plural(count, *args) == shown
