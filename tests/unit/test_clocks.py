from datetime import date

import pytest

from app.recommendations.clocks import add_months, clocks, previous_semiannual_period_end, semiannual_period_end

ISSUED = date(2026, 1, 15)


@pytest.mark.parametrize(
    "day,months,expected",
    [
        (date(2026, 1, 15), 6, date(2026, 7, 15)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2026, 11, 30), 12, date(2027, 11, 30)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(day, months, expected):
    assert add_months(day, months) == expected


def test_a_new_report_has_its_response_and_resolution_clocks_running():
    c = clocks(issued_on=ISSUED, status="unresolved_open", today=date(2026, 2, 1))
    assert c["plan_response"].due_on == date(2026, 4, 15)
    assert c["plan_response"].state == "upcoming" and c["plan_response"].days_left == 73
    assert c["resolution"].due_on == date(2026, 7, 15)
    assert c["implementation"].state == "not_applicable" and c["implementation"].due_on is None
    assert c["status_update"].due_on == date(2026, 4, 15)


@pytest.mark.parametrize(
    "today,state",
    [
        (date(2026, 3, 15), "upcoming"),  # 31 days before
        (date(2026, 3, 16), "due_soon"),  # 30 days before
        (date(2026, 4, 15), "due_soon"),  # the day itself
        (date(2026, 4, 16), "past_due"),
    ],
)
def test_plan_response_states_around_its_boundaries(today, state):
    assert clocks(issued_on=ISSUED, status="unresolved_open", today=today)["plan_response"].state == state


def test_submitting_a_plan_meets_the_response_clock():
    c = clocks(issued_on=ISSUED, status="unresolved_open", today=date(2026, 6, 20), plan_submitted_on=date(2026, 4, 1))
    assert c["plan_response"].state == "met" and c["plan_response"].met_on == date(2026, 4, 1)
    assert c["resolution"].state == "due_soon"
    assert c["status_update"].due_on == date(2026, 6, 30)


def test_the_management_decision_starts_the_implementation_clock():
    c = clocks(
        issued_on=ISSUED,
        status="resolved_open",
        today=date(2026, 8, 1),
        management_decision_on=date(2026, 5, 10),
        plan_submitted_on=date(2026, 4, 1),
    )
    assert c["resolution"].state == "met"
    assert c["implementation"].due_on == date(2027, 5, 10) and c["implementation"].state == "upcoming"
    assert c["status_update"].due_on == date(2026, 8, 8) and c["status_update"].state == "due_soon"


def test_an_unresolved_recommendation_past_six_months_is_past_due():
    c = clocks(issued_on=ISSUED, status="unresolved_open", today=date(2026, 7, 16))
    assert c["resolution"].is_past_due and c["plan_response"].is_past_due


def test_closed_recommendations_have_no_running_clock():
    c = clocks(
        issued_on=ISSUED,
        status="resolved_closed",
        today=date(2027, 6, 1),
        management_decision_on=date(2026, 5, 10),
        final_action_on=date(2027, 3, 1),
    )
    assert c["implementation"].state == "met" and c["implementation"].met_on == date(2027, 3, 1)
    assert c["status_update"].state == "not_applicable"
    dropped = clocks(issued_on=ISSUED, status="closed_not_implemented", today=date(2027, 6, 1))
    assert {k: v.state for k, v in dropped.items()} == {
        "plan_response": "not_applicable",
        "resolution": "not_applicable",
        "implementation": "not_applicable",
        "status_update": "not_applicable",
    }


@pytest.mark.parametrize(
    "on,current,previous",
    [
        (date(2026, 3, 31), date(2026, 3, 31), date(2025, 9, 30)),
        (date(2026, 4, 1), date(2026, 9, 30), date(2026, 3, 31)),
        (date(2026, 9, 30), date(2026, 9, 30), date(2026, 3, 31)),
        (date(2026, 10, 1), date(2027, 3, 31), date(2026, 9, 30)),
        (date(2026, 1, 1), date(2026, 3, 31), date(2025, 9, 30)),
    ],
)
def test_semiannual_periods_end_on_march_31_and_september_30(on, current, previous):
    assert semiannual_period_end(on) == current
    assert previous_semiannual_period_end(on) == previous
