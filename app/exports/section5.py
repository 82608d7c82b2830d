"""The two statistical tables of the semiannual report (IG Act section 5): reports with questioned
costs (unsupported costs in their own column) and reports recommending that funds be put to better
use, for one period (shared/DOMAIN.md, "Money and the semiannual report").

``money_tables()`` is the pure rule; ``section5_tables()`` feeds it the recommendations a user may
read. Each recommendation with money falls in these rows, by its dates:

- A: issued before the period and without a management decision by its start;
- B: issued during the period;
- C: a management decision made during the period, split into (i) the amount disallowed (questioned
  costs) or agreed to (funds) and (ii) the rest;
- D: no management decision by the end of the period, and of D those issued more than six months
  before it (no decision within six months of issue).

The management decision is OIG's acceptance of the plan (``management_decision_on``, with the
disallowed and agreed amounts recorded then). A recommendation closed without implementation
before any decision counts as decided on the day it was closed, with nothing disallowed or
agreed: from then on nothing is pending. Counts are of reports (a report whose recommendations
fall in different rows is counted in each); dollar values are summed over recommendations.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from app.extensions import db
from app.permissions import visible_recommendations
from app.recommendations.clocks import RESOLUTION_MONTHS, add_months
from app.recommendations.models import Recommendation

ZERO = Decimal("0.00")

#: (key, label) of the rows, in the order the report prints them; {agreed} and {not_agreed} name
#: the two parts of a decision in each table's words.
ROWS = (
    ("A", "A. For which no management decision had been made by the start of the reporting period"),
    ("B", "B. Which were issued during the reporting period"),
    ("A+B", "Subtotal (A + B)"),
    ("C", "C. For which a management decision was made during the reporting period"),
    ("C(i)", "(i) {agreed}"),
    ("C(ii)", "(ii) {not_agreed}"),
    ("D", "D. For which no management decision had been made by the end of the reporting period"),
    ("D6", "Of D: reports for which no management decision was made within six months of issue"),
)


@dataclass(frozen=True)
class MoneyRow:
    key: str
    label: str
    reports: int
    value: Decimal
    #: The questioned-costs table's unsupported costs; None where the table or row has none.
    unsupported: Decimal | None


@dataclass(frozen=True)
class MoneyTable:
    key: str
    title: str
    value_heading: str
    rows: tuple[MoneyRow, ...]

    @property
    def short_title(self) -> str:
        return "Questioned costs" if self.key == "questioned" else "Funds put to better use"

    @property
    def has_unsupported(self) -> bool:
        return self.key == "questioned"

    def row(self, key: str) -> MoneyRow:
        return next(r for r in self.rows if r.key == key)


TABLE_TEXT = {
    "questioned": (
        "Reports with questioned costs",
        "Questioned costs",
        {"agreed": "Dollar value of disallowed costs", "not_agreed": "Dollar value of costs not disallowed"},
    ),
    "better_use": (
        "Reports with recommendations that funds be put to better use",
        "Dollar value",
        {
            "agreed": "Dollar value of recommendations agreed to by management",
            "not_agreed": "Dollar value of recommendations not agreed to by management",
        },
    ),
}


def decision_on(rec) -> date | None:
    """The day of the management decision, as the tables count it."""
    if rec.management_decision_on is not None:
        return rec.management_decision_on
    if rec.status == "closed_not_implemented":
        # Closed before any decision; a closure whose day is unknown is long past.
        return rec.closed_on or date.min
    return None


def rows_of(rec, start: date, end: date) -> set[str]:
    """The rows (A, B, A+B, C, D, D6) a recommendation falls in for the period ``start``..``end``."""
    decided = decision_on(rec)
    if rec.issued_on > end or (decided is not None and decided < start):
        return set()
    keys = {"A" if rec.issued_on < start else "B", "A+B"}
    if decided is not None and decided <= end:
        keys.add("C")
    else:
        keys.add("D")
        if add_months(rec.issued_on, RESOLUTION_MONTHS) < end:
            keys.add("D6")
    return keys


def _money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01")) if value is not None else ZERO


def _table(key: str, recs, start: date, end: date) -> MoneyTable:
    title, value_heading, words = TABLE_TEXT[key]
    questioned = key == "questioned"
    reports: dict[str, set] = {k: set() for k, _ in ROWS}
    values = {k: ZERO for k, _ in ROWS}
    unsupported = {k: ZERO for k, _ in ROWS}
    for rec in recs:
        amount = _money(rec.questioned_costs if questioned else rec.funds_put_to_better_use)
        if amount <= 0:
            continue
        rows = rows_of(rec, start, end)
        for row in rows:
            reports[row].add(rec.report_id)
            values[row] += amount
            if questioned:
                unsupported[row] += _money(rec.unsupported_costs)
        if "C" in rows:
            agreed = min(_money(rec.disallowed_costs if questioned else rec.agreed_funds), amount)
            for row, part in (("C(i)", agreed), ("C(ii)", amount - agreed)):
                if part > 0:
                    reports[row].add(rec.report_id)
                    values[row] += part
    return MoneyTable(
        key,
        title,
        value_heading,
        tuple(
            MoneyRow(
                k,
                label.format(**words),
                len(reports[k]),
                values[k],
                unsupported[k] if questioned and k not in ("C(i)", "C(ii)") else None,
            )
            for k, label in ROWS
        ),
    )


def money_tables(recs, start: date, end: date) -> tuple[MoneyTable, MoneyTable]:
    recs = list(recs)
    return _table("questioned", recs, start, end), _table("better_use", recs, start, end)


def section5_tables(user, start: date, end: date) -> tuple[MoneyTable, MoneyTable]:
    """The two tables over the recommendations ``user`` may read, in one query."""
    R = Recommendation
    recs = db.session.execute(
        sa.select(
            R.report_id,
            R.issued_on,
            R.status,
            R.management_decision_on,
            R.closed_on,
            R.questioned_costs,
            R.unsupported_costs,
            R.disallowed_costs,
            R.funds_put_to_better_use,
            R.agreed_funds,
        )
        .where(
            visible_recommendations(user, R),
            R.issued_on <= end,
            sa.or_(R.questioned_costs > 0, R.funds_put_to_better_use > 0),
        )
        .order_by(R.id)
    ).all()
    return money_tables(recs, start, end)


MONEY_COLUMNS = ("Table", "Row", "Description", "Number of reports", "Dollar value", "Unsupported costs")


def money_table_rows(tables):
    for table in tables:
        for row in table.rows:
            yield (table.title, row.key, row.label, row.reports, row.value, row.unsupported)
