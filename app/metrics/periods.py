"""Reporting periods: parsing a label, its first and last day, which periods are due."""

import calendar
import re
from datetime import date, timedelta

from app.inputs import EARLIEST_YEAR, LATEST_YEAR

_MONTHLY = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTERLY = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_ANNUAL = re.compile(r"^(?:FY|CY)?(\d{4})$", re.IGNORECASE)
PERIOD_HINTS = {"monthly": "YYYY-MM, e.g. 2026-03", "quarterly": "YYYY-Qn, e.g. 2026-Q1", "annually": "YYYY, e.g. 2026"}


def parse_period(frequency: str, text: str) -> str:
    """The canonical label of a period written ``text``; ValueError explains what is wrong."""
    text = (text or "").strip()
    pattern = {"monthly": _MONTHLY, "quarterly": _QUARTERLY, "annually": _ANNUAL}[frequency]
    match = pattern.match(text)
    if not match:
        raise ValueError(f"period {text!r} is not a {frequency} period ({PERIOD_HINTS[frequency]})")
    year = int(match.group(1))
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise ValueError(f"period {text!r} is not between {EARLIEST_YEAR} and {LATEST_YEAR}")
    if frequency == "monthly":
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"period {text!r} has no month {month}")
        return f"{year}-{month:02d}"
    if frequency == "quarterly":
        return f"{year}-Q{match.group(2)}"
    return str(year)


def period_bounds(frequency: str, label: str) -> tuple[date, date]:
    """First and last day of a canonical period label."""
    if frequency == "monthly":
        year, month = (int(p) for p in label.split("-"))
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if frequency == "quarterly":
        year, quarter = int(label[:4]), int(label[-1])
        first = 3 * quarter - 2
        last = first + 2
        return date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])
    year = int(label)
    return date(year, 1, 1), date(year, 12, 31)


def period_of(frequency: str, day: date) -> str:
    if frequency == "monthly":
        return f"{day.year}-{day.month:02d}"
    if frequency == "quarterly":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def previous_periods(frequency: str, day: date, count: int) -> list[str]:
    """The ``count`` periods that ended before the one containing ``day``, oldest first."""
    labels = []
    start, _ = period_bounds(frequency, period_of(frequency, day))
    for _ in range(count):
        label = period_of(frequency, start - timedelta(days=1))
        labels.append(label)
        start, _ = period_bounds(frequency, label)
    return labels[::-1]


def due_periods(frequency: str, collect_from: date, today: date) -> list[str]:
    """Periods whose reading is due by ``today``: from the one holding ``collect_from``, each
    period whose last day is past."""
    labels: list[str] = []
    label = period_of(frequency, collect_from)
    while True:
        start, end = period_bounds(frequency, label)
        if end >= today:
            return labels
        labels.append(label)
        label = period_of(frequency, end + timedelta(days=1))


def period_problem(frequency: str, collect_from: date, label: str, today: date) -> str | None:
    """Why a reading cannot be entered for the period ``label`` yet or at all, or None."""
    start, end = period_bounds(frequency, label)
    first = period_of(frequency, collect_from)
    if start < period_bounds(frequency, first)[0]:
        return f"{label} is before the metric's first period ({first}); readings are due from {first} on."
    if end >= today:
        return f"{label} has not ended yet (it ends {end:%b} {end.day}, {end.year}); enter its reading once it is over."
    return None


def period_choices(frequency: str, collect_from: date, today: date, have: set[str]) -> list[tuple[str, str]]:
    """The periods a reading may be entered for: those missing one first, oldest first, then
    those that have one (to correct), newest first. ``have``: the periods with a reading for
    every component."""
    periods = due_periods(frequency, collect_from, today)
    missing = [p for p in periods if p not in have]
    done = [p for p in reversed(periods) if p in have]
    return [(p, f"{p}: missing") for p in missing] + [(p, f"{p}: has a reading (enter to correct)") for p in done]
