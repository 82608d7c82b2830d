"""Recommendations from an Oversight.gov-style CSV file.

The whole file is validated first (``validate_rows``, pure: no database writes) and a
row-by-row report comes back; only a file without a single error is imported
(``import_rows``). A recommendation already present (same report number and
recommendation number) is left as it is, so importing the same file twice changes
nothing. The accepted columns are documented in README.md.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from app import audit
from app.extensions import db
from app.inputs import EARLIEST_YEAR, LATEST_YEAR, control_character_message, date_in_range
from app.offices.models import Office
from app.recommendations.models import STATUSES, Recommendation
from app.reports.models import Report

#: Our field -> the header names accepted for it (compared lower-case, spaces and punctuation folded).
COLUMNS = {
    "report_number": ("report number", "report no", "report"),
    "report_title": ("report title", "title"),
    "issued_on": ("issue date", "date issued", "report date", "release date"),
    "oig_office": ("submitting oig", "oig", "inspector general"),
    "agency": ("agency", "agency reviewed", "agency reviewed investigated", "department"),
    "office": ("office", "component", "action office", "agency component"),
    "number": ("recommendation number", "rec number", "recommendation no", "rec no"),
    "text": ("recommendation", "recommendation text", "text"),
    "status": ("status", "recommendation status"),
    "questioned_costs": ("questioned costs",),
    "funds_put_to_better_use": ("funds put to better use", "funds for better use"),
}
REQUIRED = ("report_number", "report_title", "issued_on", "number", "text", "status")
#: Oversight.gov's wording (and ours) -> our status.
STATUS_WORDS = {
    "open": "unresolved_open",
    "open unresolved": "unresolved_open",
    "unresolved": "unresolved_open",
    "open resolved": "resolved_open",
    "resolved": "resolved_open",
    "closure pending": "closure_pending",
    "closed": "resolved_closed",
    "implemented": "resolved_closed",
    "closed implemented": "resolved_closed",
    "closed not implemented": "closed_not_implemented",
    "closed unimplemented": "closed_not_implemented",
    "unimplemented closed": "closed_not_implemented",
    **{s.replace("_", " "): s for s in STATUSES},
}
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%B %d, %Y", "%b %d, %Y")
MAX_ROWS = 5000
#: Columns whose cells may hold line breaks.
MULTILINE = {"text"}


def _fold(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def parse_date(value: str) -> date:
    for fmt in DATE_FORMATS:
        try:
            day = datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
        if not date_in_range(day):
            raise ValueError(f"“{value}” is not between {EARLIEST_YEAR} and {LATEST_YEAR}")
        return day
    raise ValueError(f"“{value}” is not a date (use YYYY-MM-DD or MM/DD/YYYY)")


def parse_money(value: str) -> Decimal | None:
    cleaned = value.replace("$", "").replace(",", "").strip()
    if not cleaned:
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"“{value}” is not an amount") from None
    if amount < 0 or amount >= Decimal("1e14"):
        raise ValueError(f"“{value}” is out of range")
    return amount.quantize(Decimal("0.01"))


def office_code(name: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "-", name.upper()).strip("-")[:40]


@dataclass
class RowResult:
    line: int
    values: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    #: "new", "present" (already imported) or "" when the row is wrong.
    outcome: str = ""


@dataclass
class ImportReport:
    rows: list[RowResult]
    file_errors: list[str]

    @property
    def ok(self) -> bool:
        return not self.file_errors and all(not r.errors for r in self.rows)

    @property
    def error_rows(self) -> list[RowResult]:
        return [r for r in self.rows if r.errors]

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)


def read_csv(data: bytes) -> tuple[list[str], list[dict], list[str]]:
    """Header, rows keyed by our field names, and file-level errors."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            return [], [], ["The file is not text (UTF-8 or Windows-1252)."]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], [], ["The file is empty."]
    except csv.Error as e:
        return [], [], [f"The file is not a valid CSV file: {e}."]
    for index, name in enumerate(header):
        message = control_character_message(f"The name of column {index + 1}", name)
        if message:
            return header, [], [message]
    lookup = {alias: key for key, aliases in COLUMNS.items() for alias in aliases}
    mapping: dict[int, str] = {}
    for index, name in enumerate(header):
        key = lookup.get(_fold(name))
        if key and key not in mapping.values():
            mapping[index] = key
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in mapping.values()]
    if missing:
        return header, [], [f"Missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}."]
    rows = []
    try:
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            refused = [
                message
                for i, cell in enumerate(record)
                if (
                    message := control_character_message(
                        COLUMNS[mapping[i]][0]
                        if i in mapping
                        else f"column “{header[i] if i < len(header) else i + 1}”",
                        cell,
                        multiline=mapping.get(i) in MULTILINE,
                    )
                )
            ]
            rows.append(
                {
                    "_line": reader.line_num,
                    "_refused": refused,
                    **{key: (record[i].strip() if i < len(record) else "") for i, key in mapping.items()},
                }
            )
            if len(rows) > MAX_ROWS:
                return header, [], [f"The file has more than {MAX_ROWS} rows; split it."]
    except csv.Error as e:
        return header, [], [f"Line {reader.line_num}: {e}."]
    if not rows:
        return header, [], ["The file has a header but no rows."]
    return header, rows, []


def validate_rows(rows: list[dict]) -> list[RowResult]:
    results = []
    seen: dict[tuple[str, str], int] = {}
    report_fields: dict[str, tuple] = {}
    for row in rows:
        result = RowResult(line=row["_line"])
        result.errors.extend(row.get("_refused", ()))
        v = result.values
        for key in REQUIRED:
            if not row.get(key):
                result.errors.append(f"{COLUMNS[key][0]} is empty")
        v["report_number"] = row.get("report_number", "")[:60]
        v["report_title"] = row.get("report_title", "")[:500]
        v["number"] = row.get("number", "").removeprefix("Rec.").removeprefix("rec.").strip()[:20]
        v["text"] = row.get("text", "")
        v["oig_office"] = row.get("oig_office", "")[:200]
        v["agency"] = row.get("agency", "")[:200]
        v["office"] = (row.get("office") or row.get("agency") or "")[:200]
        if not v["office"]:
            result.errors.append("agency or office is empty")
        elif not office_code(v["office"]):
            result.errors.append(f"agency or office “{v['office']}” has no letter or digit")
        if row.get("issued_on"):
            try:
                v["issued_on"] = parse_date(row["issued_on"])
            except ValueError as e:
                result.errors.append(f"issue date: {e}")
        if row.get("status"):
            status = STATUS_WORDS.get(_fold(row["status"]))
            if status is None:
                result.errors.append(
                    f"status “{row['status']}” is not one of Open, Resolved, Closed, Closed - not implemented"
                )
            v["status"] = status
        for key in ("questioned_costs", "funds_put_to_better_use"):
            try:
                v[key] = parse_money(row.get(key, ""))
            except ValueError as e:
                result.errors.append(f"{COLUMNS[key][0]}: {e}")
        rec_key = (v["report_number"], v["number"])
        if all(rec_key) and rec_key in seen:
            result.errors.append(f"the same recommendation is on line {seen[rec_key]}")
        seen.setdefault(rec_key, result.line)
        if v["report_number"] and "issued_on" in v:
            fields = (v["report_title"], v["issued_on"])
            first = report_fields.setdefault(v["report_number"], fields)
            if first != fields:
                result.errors.append("report title or issue date differs from an earlier row of the same report")
        results.append(result)
    return results


def check(data: bytes) -> ImportReport:
    """Validate the whole file and say, per row, what importing it would do. Writes nothing."""
    _, rows, file_errors = read_csv(data)
    if file_errors:
        return ImportReport([], file_errors)
    results = validate_rows(rows)
    numbers = {r.values["report_number"] for r in results if r.values.get("report_number")}
    present = (
        {
            tuple(row)
            for row in db.session.execute(
                sa.select(Report.number, Recommendation.number)
                .join(Recommendation.report)
                .where(Report.number.in_(numbers))
            )
        }
        if numbers
        else set()
    )
    ambiguous: dict[str, str] = {}
    for name in {r.values["office"] for r in results if not r.errors}:
        try:
            find_office(name)
        except AmbiguousOffice as e:
            ambiguous[name] = f"agency or office {e}"
    for r in results:
        if not r.errors and r.values["office"] in ambiguous:
            r.errors.append(ambiguous[r.values["office"]])
        if not r.errors:
            r.outcome = "present" if (r.values["report_number"], r.values["number"]) in present else "new"
    return ImportReport(results, [])


def import_rows(report: ImportReport, *, filename: str = "") -> int:
    """Add the new recommendations of a checked, error-free file; the caller commits. Returns how many."""
    if not report.ok:
        raise ValueError("a file with errors is never imported")
    offices: dict[str, Office] = {}
    reports: dict[str, Report] = {}
    added = 0
    for row in report.rows:
        if row.outcome != "new":
            continue
        v = row.values
        office = offices.get(v["office"]) or _office(v["office"])
        offices[v["office"]] = office
        rep = reports.get(v["report_number"]) or db.session.scalar(
            sa.select(Report).where(Report.number == v["report_number"])
        )
        if rep is None:
            rep = Report(
                number=v["report_number"],
                title=v["report_title"],
                issued_on=v["issued_on"],
                oig_office=v["oig_office"] or "Office of Inspector General",
                agency=v["agency"],
            )
            db.session.add(rep)
            db.session.flush()
            audit.record("report.import", rep, after={"number": rep.number, "title": rep.title})
        reports[v["report_number"]] = rep
        rec = Recommendation(
            report=rep,
            number=v["number"],
            text=v["text"],
            status=v["status"],
            action_office_id=office.id,
            issued_on=v["issued_on"],
            questioned_costs=v["questioned_costs"],
            funds_put_to_better_use=v["funds_put_to_better_use"],
        )
        db.session.add(rec)
        db.session.flush()
        audit.record(
            "recommendation.import",
            rec,
            recommendation_id=rec.id,
            after={
                "report": rep.number,
                "number": rec.number,
                "status": rec.status,
                "office": office.code,
                "file": filename,
                "line": row.line,
            },
        )
        added += 1
    return added


class AmbiguousOffice(ValueError):
    """A file's office names more than one office (two offices may share a name, never a code)."""


def find_office(name: str) -> Office | None:
    """The office a file's "agency or office" cell names, or None for a new one.

    Its code first (unique); else its name, if one office has it (``AmbiguousOffice`` if several);
    else the code the name would be given (``office_code``), which a name spelled in another case
    or with other punctuation ("DHS office of policy", "DHS Office-of-Policy") shares.
    """
    derived = office_code(name)
    candidates = db.session.scalars(
        sa.select(Office)
        .where(sa.or_(Office.code == name, Office.name == name, Office.code == derived))
        .order_by(Office.id)
    ).all()
    for office in candidates:
        if office.code == name:
            return office
    named = [o for o in candidates if o.name == name]
    if len(named) > 1:
        raise AmbiguousOffice(
            f"“{name}” is the name of {len(named)} offices ({', '.join(o.code for o in named)}): write its code"
        )
    return named[0] if named else next((o for o in candidates if o.code == derived), None)


def _office(name: str) -> Office:
    office = find_office(name)
    if office is None:
        office = Office(code=office_code(name), name=name, kind="agency")
        db.session.add(office)
        db.session.flush()
        audit.record("office.import", office, after={"code": office.code, "name": name})
    return office
