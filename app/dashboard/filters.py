"""The dashboard's list of recommendations, filtered and sorted, and its export "as shown".

A filter is read from the URL (a GET form, so a filtered list can be bookmarked and shared)
into ``ListFilter``. The statements depend only on which filters are set and on the order
(``ListFilter.shape``), never on their values: they are built once per shape and run with the
values bound (``ListFilter.values``), as the dashboard's other statements are. The export
(app/exports) applies the same conditions and order, its values bound with ``params``.
"""

import functools
from dataclasses import asdict, dataclass, fields
from datetime import date

import sqlalchemy as sa

from app.dashboard.insights import AGE_MONTHS, RecommendationLine, latest_base_on
from app.dbtypes import bound
from app.offices.models import Office
from app.permissions import visible_recommendations_bound
from app.recommendations.models import OPEN_STATUSES, STATUS_LABELS, STATUSES, Recommendation
from app.reports.models import Report

#: The dashboard's age buckets (months since issue): "0" is under 6 months, "3" two years or more.
AGE_CHOICES = (("0", "Under 6 months"), ("1", "6 to 12 months"), ("2", "1 to 2 years"), ("3", "2 years or more"))
STATUS_CHOICES = (("open", "Any open status"), *((s, STATUS_LABELS[s]) for s in STATUSES))
PRIORITY_CHOICES = (("yes", "Priority only"), ("no", "Not priority"))
SORTS = {
    "newest": "Newest issued first",
    "oldest": "Oldest issued first",
    "report": "Report number",
    "office": "Action office",
    "status": "Status",
    "priority": "Priority first",
}


@dataclass(frozen=True)
class ListFilter:
    """What the list is narrowed to; "" is "any". Offices and reports by their code and number,
    as the exports and search name them."""

    office: str = ""
    status: str = ""
    age: str = ""
    priority: str = ""
    report: str = ""
    oig: str = ""
    sort: str = "newest"

    @classmethod
    def from_args(cls, args, *, every_office: bool = True) -> "ListFilter":
        """Anything not understood is "any" (a hand-edited URL never breaks the page)."""

        def pick(name, allowed):
            value = (args.get(name) or "").strip()
            return value if value in allowed else ""

        return cls(
            office=(args.get("office") or "").strip()[:40] if every_office else "",
            status=pick("status", dict(STATUS_CHOICES)),
            age=pick("age", dict(AGE_CHOICES)),
            priority=pick("priority", dict(PRIORITY_CHOICES)),
            report=(args.get("report") or "").strip()[:60],
            oig=(args.get("oig") or "").strip()[:200],
            sort=pick("sort", SORTS) or "newest",
        )

    @property
    def active(self) -> bool:
        """Any filter set (the order alone does not narrow the list)."""
        return any(getattr(self, f.name) for f in fields(self) if f.name != "sort")

    @property
    def shape(self) -> tuple:
        """What the statements depend on: which filters are set (the age bucket, as it decides
        which bounds exist), and the order."""
        return (
            bool(self.office),
            self.status == "open",
            bool(self.status) and self.status != "open",
            self.age,
            self.priority,
            bool(self.report),
            bool(self.oig),
            self.sort,
        )

    def values(self, on: date) -> dict:
        # The dashboard's own age buckets (insights.age_bucket): newest boundary first.
        bounds = [latest_base_on(months, on) for months in AGE_MONTHS]
        age = int(self.age) if self.age else None
        return {
            "f_office": self.office,
            "f_status": self.status,
            "f_priority": self.priority == "yes",
            "f_report": self.report.lower(),
            "f_oig": self.oig,
            # issued after the older boundary, and on or before the newer one
            "f_age_after": bounds[age] if age is not None and age < len(bounds) else None,
            "f_age_through": bounds[age - 1] if age else None,
        }

    def query_args(self) -> dict:
        """The filters as URL arguments (empty ones left out), for links and exports."""
        return {k: v for k, v in asdict(self).items() if v and not (k == "sort" and v == "newest")}


def conditions(shape: tuple) -> list[sa.ColumnElement[bool]]:
    """The WHERE clauses of a filter of this shape, on ``Recommendation`` joined to ``Report``."""
    office, open_, one_status, age, priority, report, oig, _ = shape
    clauses: list[sa.ColumnElement[bool]] = []
    if office:
        clauses.append(
            Recommendation.action_office_id.in_(sa.select(Office.id).where(Office.code == bound("f_office", sa.String)))
        )
    if open_:
        clauses.append(Recommendation.status.in_(OPEN_STATUSES))
    if one_status:
        clauses.append(Recommendation.status == bound("f_status", Recommendation.status.type))
    if age:
        bucket = int(age)
        if bucket < len(AGE_MONTHS):
            clauses.append(Recommendation.issued_on > bound("f_age_after", sa.Date))
        if bucket > 0:
            clauses.append(Recommendation.issued_on <= bound("f_age_through", sa.Date))
    if priority:
        clauses.append(Recommendation.priority == bound("f_priority", sa.Boolean))
    if report:
        clauses.append(sa.func.lower(Report.number) == bound("f_report", sa.String))
    if oig:
        clauses.append(Report.oig_office == bound("f_oig", sa.String))
    return clauses


def _status_rank() -> sa.ColumnElement:
    """The status machine's order (unresolved first), not the alphabet's."""
    return sa.case(*((Recommendation.status == s, i) for i, s in enumerate(STATUSES)), else_=len(STATUSES))


def order_by(sort: str) -> list:
    newest = [Recommendation.issued_on.desc(), Recommendation.report_id, Recommendation.id]
    orders: dict[str, list] = {
        "newest": newest,
        "oldest": [Recommendation.issued_on, Recommendation.report_id, Recommendation.id],
        "report": [Report.number, Recommendation.number, Recommendation.id],
        "office": [Office.name, *newest],
        "status": [_status_rank(), *newest],
        "priority": [Recommendation.priority.desc(), *newest],
    }
    return orders[sort]


@dataclass(frozen=True)
class ListStatements:
    page: sa.Select
    #: The filtered list's length (the unfiltered one is the sum of the counts by status).
    count: sa.Select


@functools.cache
def list_statements(every_office: bool, shape: tuple) -> ListStatements:
    """The dashboard list's page and count for one shape of filter, built once."""
    scope = visible_recommendations_bound(every_office, Recommendation)
    where = [scope, *conditions(shape)]
    page = (
        sa.select(*RecommendationLine.columns())
        .join(Recommendation.report)
        .join(Recommendation.action_office)
        .where(*where)
        .order_by(*order_by(shape[-1]))
        .limit(bound("limit", sa.Integer))
        .offset(bound("offset", sa.Integer))
    )
    count = sa.select(sa.func.count(Recommendation.id)).join(Recommendation.report).where(*where)
    return ListStatements(page, count)


@functools.cache
def choices_statement(every_office: bool) -> sa.Select:
    """The filter form's offices and issuing OIG offices, in one query: (kind, value, label).

    The OIG offices are a few values over every report: they are walked through ix_reports_oig_office
    one distinct value at a time (a recursive "next value after this one", an index probe a step),
    not read from every report (20,000 at 1,000,000 milestones, bench/README.md); an office keeps
    those it has a recommendation under (a LIMIT 1 probe a value)."""
    after = sa.select(sa.func.min(Report.oig_office).label("value")).cte("oig_values", recursive=True)
    after = after.union_all(
        sa.select(
            sa.select(sa.func.min(Report.oig_office)).where(Report.oig_office > after.c.value).scalar_subquery()
        ).where(after.c.value.is_not(None))
    )
    oig = sa.select(sa.literal("oig"), after.c.value, after.c.value).where(after.c.value.is_not(None))
    if not every_office:  # only the OIGs whose reports the office has recommendations in
        # A LIMITed subquery a value, not EXISTS: PostgreSQL turned that into a join over all the
        # office's recommendations; this stops at the first one under each value.
        under = (
            sa.select(sa.literal(1))
            .where(Report.oig_office == after.c.value, Recommendation.report_id == Report.id)
            .where(visible_recommendations_bound(every_office, Recommendation))
            .limit(1)
        )
        oig = oig.where(under.scalar_subquery().is_not(None))
        return oig.order_by(sa.literal_column("3"))
    offices = sa.select(sa.literal("office"), Office.code, Office.name).where(Office.kind == "agency")
    union = sa.union_all(offices, oig).subquery()
    return sa.select(*union.c).order_by(union.c[0], union.c[2], union.c[1])
