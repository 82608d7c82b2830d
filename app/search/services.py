"""One search box over reports, recommendations and milestones.

Words are matched with the database's full-text index (app/search/fulltext.py: GIN on
``to_tsvector`` on PostgreSQL, FTS5 on SQLite, English stemming on both); numbers
("OIG-15-85", "Rec. 1") also match record numbers directly.
Each kind is one ``SearchKind``: adding evidence after the merge is one more entry
in ``KINDS``.
"""
import re
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.evidence.models import EvidenceItem
from app.extensions import db
from app.pagination import Paged
from app.milestones.models import Milestone
from app.offices.models import Office
from app.permissions import READ_ALL_ROLES, visible_recommendations
from app.recommendations.models import STATUSES, LineOfEffort, Recommendation
from app.reports.models import Report
from app.search import fulltext

PER_PAGE = 20
#: Counts stop here: a search that matches more is shown as "more than 1,000", its first 1,000
#: paged; counting every match of a common word over millions of rows would cost a scan.
COUNT_CAP = 1000


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def number_match(query: str, column) -> sa.ColumnElement:
    return sa.func.lower(column).contains(query.strip().lower(), autoescape=True)


def _any_of(id_column, *selects: sa.Select) -> sa.ColumnElement:
    """``id_column`` is in one of ``selects``: a UNION ALL, so each branch uses its own index
    (an OR of a full-text match and an IN would make PostgreSQL scan the table)."""
    return id_column.in_(sa.union_all(*selects))


def report_match(q: str):
    return _any_of(Report.id, sa.select(Report.id).where(number_match(q, Report.number)),
                   fulltext.matching_ids("reports", Report.id, q, _dialect()))


def recommendation_text_match(q: str):
    number = re.fullmatch(r"\s*(?:rec(?:ommendation)?\.?\s*)(\w+)\s*", q, re.IGNORECASE)
    branches = [
        fulltext.matching_ids("recommendations", Recommendation.id, q, _dialect()),
        sa.select(Recommendation.id).where(Recommendation.report_id.in_(sa.select(Report.id).where(report_match(q)))),
    ]
    if number:
        branches.append(sa.select(Recommendation.id).where(Recommendation.number == number.group(1)))
    return _any_of(Recommendation.id, *branches)


def milestone_match(q: str):
    """The milestone's own words, or its line of effort's title.

    On PostgreSQL an OR of the GIN match and ``line_of_effort_id = ANY(ARRAY(…))`` (the lines
    found first): a BitmapOr of two indexes that yields the milestones' rows directly (a UNION
    of ids would look each of 100,000 matches up again by id)."""
    dialect = _dialect()
    lines = fulltext.matching_ids("lines_of_effort", LineOfEffort.id, q, dialect)
    if dialect == "postgresql":
        return sa.or_(fulltext.matches("milestones", Milestone.id, q, dialect),
                      Milestone.line_of_effort_id == sa.any_(sa.func.array(lines.scalar_subquery())))
    return _any_of(Milestone.id, fulltext.matching_ids("milestones", Milestone.id, q, dialect),
                   sa.select(Milestone.id).where(Milestone.line_of_effort_id.in_(lines)))


@dataclass
class Hit:
    kind: str
    title: str
    subtitle: str
    excerpt: str
    url_endpoint: str
    url_args: dict


@dataclass
class SearchKind:
    key: str
    label: str
    model: type
    #: (user, q, filters) -> a SELECT of the matching rows in the order shown, already limited to
    #: what the user may read.
    query: Callable
    to_hit: Callable
    #: Loader options for the rows of a page: what ``to_hit`` reads.
    load: tuple = ()

    def ids(self, user, q: str, filters: dict) -> list[int]:
        """The ids of the first COUNT_CAP + 1 matches, in order: the count and every page."""
        stmt = self.query(user, q, filters)
        return list(db.session.scalars(stmt.with_only_columns(self.model.id).limit(COUNT_CAP + 1)))

    def count(self, user, q: str, filters: dict) -> int:
        stmt = self.query(user, q, filters).with_only_columns(self.model.id).order_by(None)
        return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.limit(COUNT_CAP + 1).subquery()))

    def rows(self, ids: list[int]) -> list:
        """The rows of ``ids``, in that order: read by primary key, not by matching again."""
        found = {row.id: row for row in db.session.scalars(
            sa.select(self.model).where(self.model.id.in_(ids)).options(*self.load)).unique()}
        return [found[i] for i in ids if i in found]


def _reports(user, q, filters):
    visible = sa.select(Recommendation.report_id).where(visible_recommendations(user, Recommendation))
    stmt = sa.select(Report).where(report_match(q), Report.id.in_(visible)).order_by(Report.issued_on.desc(), Report.id)
    return stmt


def _report_hit(report: Report) -> Hit:
    return Hit("report", f"{report.number}: {report.title}", f"{report.oig_office} · issued {report.issued_on}",
               report.summary, "search.index", {"q": report.number, "kind": "recommendations"})


def _recommendations(user, q, filters):
    stmt = (sa.select(Recommendation).join(Recommendation.report)
            .where(visible_recommendations(user, Recommendation), recommendation_text_match(q))
            .order_by(Report.issued_on.desc(), Report.number, Recommendation.number))
    if filters.get("status") in STATUSES:
        stmt = stmt.where(Recommendation.status == filters["status"])
    if filters.get("office"):
        stmt = stmt.where(Recommendation.action_office_id.in_(
            sa.select(Office.id).where(Office.code == filters["office"])))
    return stmt


def _recommendation_hit(rec: Recommendation) -> Hit:
    return Hit("recommendation", f"{rec.report.number} Recommendation {rec.number}",
               f"{rec.status_label} · {rec.action_office.name}", rec.text,
               "recommendations.show", {"recommendation_id": rec.id})


def _milestones(user, q, filters):
    """Matching milestones, the most recently added first (as reports, recommendations and
    evidence are: newest first), so that SQLite walks the matches' ids in order and stops at
    the page; sorting by a column would look every match up first, 100,000 of them for a
    common word. The recommendation scope is a semi-join."""
    recommendations = sa.select(Recommendation.id).where(visible_recommendations(user, Recommendation))
    if filters.get("status") in STATUSES:
        recommendations = recommendations.where(Recommendation.status == filters["status"])
    stmt = sa.select(Milestone).where(milestone_match(q)).order_by(Milestone.id.desc())
    if user.role not in READ_ALL_ROLES or filters.get("status") in STATUSES:
        stmt = stmt.where(Milestone.line_of_effort_id.in_(
            sa.select(LineOfEffort.id).where(LineOfEffort.recommendation_id.in_(recommendations))))
    if filters.get("office"):
        stmt = stmt.where(Milestone.office_id.in_(sa.select(Office.id).where(Office.code == filters["office"])))
    return stmt


def _milestone_hit(m: Milestone) -> Hit:
    rec = m.line_of_effort.recommendation
    return Hit("milestone", m.title,
               f"{rec.label} · {m.line_of_effort.title} · due {m.current_due_on}"
               f" · {m.status_label}", m.description or m.expected_evidence,
               "milestones.show", {"milestone_id": m.id})


def _evidence(user, q, filters):
    stmt = (sa.select(EvidenceItem).join(EvidenceItem.recommendation).join(Recommendation.report)
            .where(visible_recommendations(user, Recommendation),
                   fulltext.matches("evidence_items", EvidenceItem.id, q, _dialect()))
            .order_by(EvidenceItem.created_at.desc(), EvidenceItem.id.desc()))
    if filters.get("status") in STATUSES:
        stmt = stmt.where(Recommendation.status == filters["status"])
    if filters.get("office"):
        stmt = stmt.where(Recommendation.action_office_id.in_(
            sa.select(Office.id).where(Office.code == filters["office"])))
    return stmt


def _evidence_hit(item) -> Hit:
    rec = item.recommendation
    state = "withdrawn" if item.withdrawn_at else item.review_status
    return Hit("evidence", item.title, f"{rec.label} · evidence · {state}",
               item.description, "evidence.item", {"item_id": item.id})


KINDS = [
    SearchKind("recommendations", "Recommendations", Recommendation, _recommendations, _recommendation_hit,
               (joinedload(Recommendation.report), joinedload(Recommendation.action_office))),
    SearchKind("reports", "Reports", Report, _reports, _report_hit),
    SearchKind("milestones", "Milestones", Milestone, _milestones, _milestone_hit,
               (joinedload(Milestone.line_of_effort).joinedload(LineOfEffort.recommendation)
                .joinedload(Recommendation.report),)),
    SearchKind("evidence", "Evidence", EvidenceItem, _evidence, _evidence_hit,
               (joinedload(EvidenceItem.recommendation).joinedload(Recommendation.report),)),
]
KINDS_BY_KEY = {k.key: k for k in KINDS}


def count_label(count: int) -> str:
    return f"more than {COUNT_CAP:,}" if count > COUNT_CAP else f"{count:,}"


@dataclass
class SearchResult(Paged):
    q: str
    kind: SearchKind | None
    #: Matches per kind, up to COUNT_CAP + 1.
    counts: dict[str, int]
    hits: list[Hit]
    page: int
    pages: int
    total: int

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP


def search(user, q: str, kind_key: str | None, filters: dict, page: int = 1) -> SearchResult:
    """Counts every kind and lists one page of one kind: the asked-for kind, else the first with
    matches. The listed kind's matches are read once, as ids in order (its count and page);
    each other kind only counted."""
    q = q.strip()[:200]
    if not q:
        return SearchResult(q, None, {}, [], 1, 0, 0)
    requested = KINDS_BY_KEY.get(kind_key)
    counts, listed, ids = {}, None, []
    for kind in KINDS:
        if kind is requested or (requested is None and listed is None):
            found = kind.ids(user, q, filters)
            counts[kind.key] = len(found)
            if found or kind is requested:
                listed, ids = kind, found
        else:
            counts[kind.key] = kind.count(user, q, filters)
    listed = listed or KINDS[0]
    total = counts[listed.key]
    pages = max(1, -(-min(total, COUNT_CAP) // PER_PAGE))
    page = min(max(page, 1), pages)
    offset = (page - 1) * PER_PAGE
    rows = listed.rows(ids[offset:min(offset + PER_PAGE, COUNT_CAP)])
    return SearchResult(q, listed, counts, [listed.to_hit(r) for r in rows], page, pages, total)
