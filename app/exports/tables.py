"""Rows out as CSV or XLSX: one list of columns and rows, two file formats."""

import csv
import dataclasses
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


#: Characters XML 1.0 cannot hold (so neither can XLSX, DOCX nor iCalendar text): C0 controls other
#: than tab, line feed and carriage return, lone surrogates, U+FFFE and U+FFFF. The forms refuse
#: them today; older rows, imports made before that, or a row written outside the app may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` with every character XML cannot hold replaced by U+FFFD (so a reader sees that one was there)."""
    return _NOT_XML.sub("\ufffd", text)


def xml_safe_copy(value):
    """A copy of a document's data (dataclasses, lists, tuples, dicts, strings) made ``xml_safe``."""
    if isinstance(value, str):
        return xml_safe(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(
            value, **{f.name: xml_safe_copy(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
        )
    if isinstance(value, (list, tuple)):
        return type(value)(xml_safe_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: xml_safe_copy(v) for k, v in value.items()}
    return value


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text.startswith(_FORMULA_START) and not isinstance(value, (int, float, Decimal)):
        return "'" + text
    return text


def issued_cell(report, issued_on: date):
    """The issue date as an export shows it: a replayed (demo) report's printed date, with the
    day its deadlines count from."""
    if report.printed_issued_on is None:
        return issued_on
    return f"{report.printed_issued_on.isoformat()} (deadlines replayed from {issued_on.isoformat()})"


def to_csv(columns: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_text(v) for v in row])
    # The BOM makes spreadsheet programs read the file as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cell(value):
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)  # Excel has no time zones; our timestamps are UTC
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str):
        return xml_safe(_text(value))
    return value


def to_xlsx(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence]]]) -> bytes:
    """One workbook; ``sheets`` is (title, columns, rows) per sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, columns, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append([_cell(c) for c in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for row in rows:
            sheet.append([_cell(v) for v in row])
        for column in sheet.columns:
            width = max((len(str(c.value)) for c in column if c.value is not None), default=8)
            sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 60)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
