"""The rules a reading obeys however it arrives: the form, the CSV import and the API call these,
so a reading refused on one road is refused on every road, with the same words.

- Its period must have ended and must not lie before the metric's first due period
  (``reading_period_problem``).
- A reading already stored is changed only from the version it was read at
  (``reading_version_problem``): the form's no-lost-update rule (``app/versioning.py``).
"""

import csv
import io
from datetime import date

import sqlalchemy as sa

from app.extensions import db
from app.metrics.models import Metric, Reading
from app.metrics.csv_import import ImportCheck, check_csv
from app.metrics.periods import period_problem
from app.metrics.values import ParsedValue


def reading_period_problem(metric: Metric, label: str, today: date) -> str | None:
    """Why no reading may be entered for the (canonical) period ``label`` of ``metric``, or None."""
    if metric.collect_from is None:
        return None
    return period_problem(metric.frequency, metric.collect_from, label, today)


def stored_readings(metric_ids: set[int]) -> dict[tuple[int, str, str], Reading]:
    """The readings of these metrics by (metric, period, component), in one query."""
    if not metric_ids:
        return {}
    rows = db.session.scalars(sa.select(Reading).where(Reading.metric_id.in_(metric_ids)))
    return {(r.metric_id, r.period, r.component): r for r in rows}


def reading_version_problem(stored: Reading | None, version: int | None, parsed: ParsedValue, note: str) -> str | None:
    """Why a save made from ``version`` may not change the stored reading, or None.

    ``version`` None means the sender did not say which reading it saw: then a stored reading is
    never overwritten blind (sending the same values again changes nothing and is allowed)."""
    if stored is None:
        return None
    if version is None:
        same = (stored.value, stored.numerator, stored.denominator, stored.note) == (
            parsed.value,
            parsed.numerator,
            parsed.denominator,
            note or "",
        )
        if same:
            return None
        return (
            f"a reading is already stored for {stored.period} {stored.component} (version {stored.version}); "
            "to correct it, give the version you read"
        )
    if version != stored.version:
        return (
            f"the reading for {stored.period} {stored.component} changed since version {version} "
            f"(now version {stored.version}); read it again and give the current version"
        )
    return None


def _version_cells(content: bytes | str) -> dict[int, str]:
    """The optional ``version`` column of a readings CSV file, by line number (the header is line 1)."""
    if isinstance(content, bytes):
        content = content.decode("utf-8-sig")  # check_csv has refused a file that is not UTF-8
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff"), newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    if "version" not in header:
        return {}
    column = header.index("version")
    cells = {}
    for row in reader:
        if len(row) > column:
            cells[reader.line_num] = row[column].strip()  # the line check_csv reports the row under
    return cells


def check_readings_csv(content: bytes | str, metrics: list[Metric], today: date) -> ImportCheck:
    """A readings CSV file checked as the form checks one reading: ``check_csv``'s row rules, then
    the period rule and the version rule for every row. A refused row is a problem of its line,
    and a file with any problem imports nothing (all or nothing)."""
    check = check_csv(content, metrics)
    if not check.rows:
        return check
    versions = _version_cells(content)
    stored = stored_readings({row.metric.id for row in check.rows})
    kept = []
    for row in check.rows:
        held = stored.get((row.metric.id, row.period, row.component))
        if held is not None and row.parsed.numerator is None and row.parsed.value == held.value:
            # A file downloaded from the tracker gives a data-quality share as its percentage: an
            # unchanged value keeps the counts it was computed from.
            row.parsed = ParsedValue(held.value, held.numerator, held.denominator)
        problem = reading_period_problem(row.metric, row.period, today)
        if problem is None:
            text = versions.get(row.line, "")
            if text and not text.isdigit():
                problem = f"version: {text!r} is not a whole number"
            else:
                version = int(text) if text else None
                problem = reading_version_problem(held, version, row.parsed, row.note)
        if problem:
            check.problems.append((row.line, problem))
        else:
            kept.append(row)
    check.rows = kept
    check.problems.sort(key=lambda p: p[0])
    return check
