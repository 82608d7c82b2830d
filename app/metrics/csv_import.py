"""The readings CSV import, all or nothing: ``check_csv`` validates the whole file (pure),
``apply_import`` saves every row through ``save_reading``, as the reading form does."""

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from app.inputs import control_character_message
from app.metrics.models import Metric
from app.metrics.periods import parse_period
from app.metrics.services import ReadingTaken, save_reading, sync_flags
from app.metrics.values import ParsedValue, parse_value

CSV_COLUMNS = ("period", "component", "metric", "value", "note")


@dataclass
class ImportRow:
    line: int
    metric: Metric
    period: str
    component: str
    parsed: ParsedValue
    note: str


@dataclass
class ImportCheck:
    rows: list[ImportRow] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)


def check_csv(content: bytes | str, metrics: list[Metric]) -> ImportCheck:
    """Validate a whole CSV file (``period,component,metric,value,note``) against ``metrics``.

    Pure: reads nothing from the database. Every problem is reported with its line number
    (the header is line 1); the file is importable only when there is none.
    """
    check = ImportCheck()
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            check.problems.append((0, "the file is not UTF-8 text (save it as CSV UTF-8)"))
            return check
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff"), newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        check.problems.append((1, f"not a readable CSV file: {error}"))
        return check
    if header is None:
        check.problems.append((0, "the file is empty"))
        return check
    for number, name in enumerate(header, start=1):
        message = control_character_message(f"the name of column {number}", name)
        if message:
            check.problems.append((1, message))
            return check
    columns = [h.strip().lower() for h in header]
    missing = [c for c in CSV_COLUMNS[:4] if c not in columns]
    if missing:
        check.problems.append(
            (1, f"the header must name the columns {','.join(CSV_COLUMNS)}; missing: {', '.join(missing)}")
        )
        return check
    index = {name: columns.index(name) for name in CSV_COLUMNS if name in columns}
    by_id = {str(m.id): m for m in metrics}
    by_name: dict[str, list[Metric]] = {}
    for m in metrics:
        by_name.setdefault(m.name.strip().lower(), []).append(m)
    seen: dict[tuple[int, str, str], int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < len(columns):
                row = row + [""] * (len(columns) - len(row))

            def cell(name, row=row):
                return row[index[name]].strip() if name in index else ""

            problems = [
                message
                for number, text in enumerate(row)
                if (
                    message := control_character_message(
                        columns[number] if number < len(columns) else f"column {number + 1}",
                        text,
                        multiline=number < len(columns) and columns[number] == "note",
                    )
                )
            ]
            metric_text = cell("metric")
            metric = by_id.get(metric_text.lstrip("#"))
            if metric is None:
                matches = by_name.get(metric_text.lower(), [])
                if len(matches) > 1:
                    problems.append(f"metric {metric_text!r} names several metrics: use its number")
                elif matches:
                    metric = matches[0]
                else:
                    problems.append(f"unknown metric {metric_text!r}")
            component = cell("component")
            period = None
            parsed = None
            if metric is not None:
                known = {c.upper(): c for c in metric.component_list}
                if component.upper() not in known:
                    problems.append(
                        f"unknown component {component!r} for metric {metric.name!r} "
                        f"(expected one of {', '.join(metric.component_list)})"
                    )
                else:
                    component = known[component.upper()]
                try:
                    period = parse_period(metric.frequency, cell("period"))
                except ValueError as error:
                    problems.append(str(error))
                try:
                    parsed = parse_value(metric.kind, cell("value"))
                except ValueError as error:
                    problems.append(f"value: {error}")
            if not problems:
                assert metric is not None and period is not None  # no problems: both were found
                key = (metric.id, period, component)
                if key in seen:
                    problems.append(f"the same metric, period and component as line {seen[key]}")
                seen[key] = line
            for problem in problems:
                check.problems.append((line, problem))
            if not problems:
                assert metric is not None and period is not None and parsed is not None  # no problems
                check.rows.append(ImportRow(line, metric, period, component, parsed, cell("note")[:2000]))
    except csv.Error as error:
        check.problems.append((reader.line_num, f"not a readable CSV row: {error}"))
    if not check.rows and not check.problems:
        check.problems.append((0, "the file has no rows to import"))
    return check


def apply_import(check: ImportCheck, today: date, actor=None) -> dict[str, int]:
    """Save every row of a checked file (all or nothing: the caller commits once). A reading
    another request stored since the check raises ``ReadingTaken`` with its line: the caller
    rolls back and shows it as the line's problem."""
    if not check.ok:
        raise ValueError("the file has problems; nothing may be imported")
    counts = {"created": 0, "corrected": 0, "unchanged": 0}
    touched = {}
    for row in check.rows:
        try:
            _, outcome = save_reading(row.metric, row.period, row.component, row.parsed, row.note, actor)
        except ReadingTaken as taken:
            taken.line = row.line
            raise
        counts[outcome] += 1
        touched[row.metric.id] = row.metric
    for metric in touched.values():
        sync_flags(metric, today, actor=actor)
    return counts
