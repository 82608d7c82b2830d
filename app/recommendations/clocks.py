"""The federal clocks of a recommendation (shared/DOMAIN.md), as one pure function.

Pages, the dashboard, reminders and reports all take their dates from ``clocks()``,
so that a deadline shown on a page is the deadline an email reminds about.

- plan response: 90 days after the report is issued;
- resolution: at most 6 months after issue (OMB Circular A-50);
- implementation: within 1 year of the management decision (OMB A-123);
- status update: every 90 days while the recommendation is open.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

PLAN_RESPONSE_DAYS = 90
RESOLUTION_MONTHS = 6
IMPLEMENTATION_MONTHS = 12
STATUS_UPDATE_DAYS = 90
#: A clock this close to its date is "due soon".
DUE_SOON_DAYS = 30

CLOSED = ("resolved_closed", "closed_not_implemented")
CLOCK_LABELS = {
    "plan_response": "Corrective action plan due (90 days after issue)",
    "resolution": "Resolution limit (6 months after issue)",
    "implementation": "Implementation target (1 year after management decision)",
    "status_update": "Next 90-day status update",
}


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's last day (Aug 31 + 6 months = Feb 28/29)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Clock:
    key: str
    due_on: date | None
    #: "met", "upcoming", "due_soon", "past_due" or "not_applicable".
    state: str
    met_on: date | None = None
    days_left: int | None = None

    @property
    def label(self) -> str:
        return CLOCK_LABELS[self.key]

    @property
    def is_past_due(self) -> bool:
        return self.state == "past_due"


def _clock(key: str, due_on: date | None, today: date, met_on: date | None = None, applicable: bool = True) -> Clock:
    if met_on is not None:
        return Clock(key, due_on, "met", met_on=met_on)
    if not applicable or due_on is None:
        return Clock(key, due_on, "not_applicable")
    days_left = (due_on - today).days
    if days_left < 0:
        state = "past_due"
    elif days_left <= DUE_SOON_DAYS:
        state = "due_soon"
    else:
        state = "upcoming"
    return Clock(key, due_on, state, days_left=days_left)


def clocks(
    *,
    issued_on: date,
    status: str,
    today: date,
    management_decision_on: date | None = None,
    final_action_on: date | None = None,
    plan_submitted_on: date | None = None,
    last_update_on: date | None = None,
) -> dict[str, Clock]:
    """Every clock of one recommendation on ``today``, by key.

    ``plan_submitted_on`` is the day the first corrective action plan went to OIG;
    ``last_update_on`` the day of the latest submission of any kind.
    """
    is_open = status not in CLOSED
    plan_met = plan_submitted_on or management_decision_on
    result = {
        "plan_response": _clock(
            "plan_response", issued_on + timedelta(days=PLAN_RESPONSE_DAYS), today, met_on=plan_met, applicable=is_open
        ),
        "resolution": _clock(
            "resolution",
            add_months(issued_on, RESOLUTION_MONTHS),
            today,
            met_on=management_decision_on,
            applicable=is_open,
        ),
    }
    implementation_due = add_months(management_decision_on, IMPLEMENTATION_MONTHS) if management_decision_on else None
    implemented_on = final_action_on if status == "resolved_closed" else None
    result["implementation"] = _clock(
        "implementation", implementation_due, today, met_on=implemented_on, applicable=is_open
    )
    last = max((d for d in (last_update_on, plan_submitted_on, management_decision_on) if d), default=issued_on)
    result["status_update"] = _clock(
        "status_update", last + timedelta(days=STATUS_UPDATE_DAYS), today, applicable=is_open
    )
    return result


_FROM_RECORD = object()


def clocks_for(
    recommendation, today: date, *, plan_submitted_on=_FROM_RECORD, last_update_on=_FROM_RECORD
) -> dict[str, Clock]:
    """The clocks of a recommendation; the submission dates are the record's own unless given
    (a document "as sent" counts only the submissions up to it)."""
    if plan_submitted_on is _FROM_RECORD:
        plan_submitted_on = recommendation.plan_submitted_on
    if last_update_on is _FROM_RECORD:
        last_update_on = recommendation.last_submitted_on
    return clocks(
        issued_on=recommendation.issued_on,
        status=recommendation.status,
        today=today,
        management_decision_on=recommendation.management_decision_on,
        final_action_on=recommendation.final_action_on,
        plan_submitted_on=plan_submitted_on,
        last_update_on=last_update_on,
    )


def semiannual_period_end(on: date) -> date:
    """The end of the semiannual reporting period containing ``on`` (March 31 or September 30)."""
    if on <= date(on.year, 3, 31):
        return date(on.year, 3, 31)
    if on <= date(on.year, 9, 30):
        return date(on.year, 9, 30)
    return date(on.year + 1, 3, 31)


def previous_semiannual_period_end(on: date) -> date:
    """The last period end strictly before ``on``."""
    if on > date(on.year, 9, 30):
        return date(on.year, 9, 30)
    if on > date(on.year, 3, 31):
        return date(on.year, 3, 31)
    return date(on.year - 1, 9, 30)
