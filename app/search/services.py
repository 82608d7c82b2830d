"""One search box over reports, recommendations, milestones and evidence.

Words are matched with the database's full-text index (app/search/fulltext.py: GIN on
``to_tsvector`` on PostgreSQL, FTS5 on SQLite, English stemming on both); numbers
("OIG-15-85", "Rec. 1") also match record numbers directly.

Each kind is one ``SearchKind``: the SELECT of its matching ids in the order shown, and the
columns of a page of hits read by id. A search's SQL depends on its ``Shape`` (the database,
whether the user reads every office, which filters are set), not on its words: each statement
is built once per shape and run with the values bound, as building and compiling a search's
statements cost more than running them.
"""

import functools
import re
from dataclasses import dataclass
from typing import Callable

import sqlalchemy as sa

from app.dbtypes import bound
from app.comments.models import Comment
from app.evidence.models import REVIEW_STATUS_LABELS, EvidenceItem, EvidenceText, EvidenceVersion
from app.extensions import db
from app.timeutil import human_date
from app.pagination import Paged
from app.milestones.models import MILESTONE_STATUS_LABELS, Milestone
from app.offices.models import Office
from app.permissions import reads_every_office, visible_recommendations_bound
from app.recommendations.models import STATUS_LABELS, STATUSES, LineOfEffort, Recommendation, recommendation_label
from app.reports.models import Report
from app.search import fulltext

PER_PAGE = 20
#: Counts stop here: a search that matches more is shown as "more than 1,000", its first 1,000
#: paged; counting every match of a common word over millions of rows would cost a scan.
COUNT_CAP = 1000
_REC_NUMBER = re.compile(r"\s*(?:rec(?:ommendation)?\.?\s*)(\w+)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Shape:
    """What a search's statements depend on besides the values bound into them."""

    dialect: str
    every_office: bool  # else bound: office_id
    words: bool  # the query has words for the full-text index (bound: text)
    rec_number: bool  # "Rec. 2" names a recommendation's number too (bound: rec_number)
    status: bool  # filtered by recommendation status (bound: status)
    office: bool  # filtered by office code (bound: office_code)


def prepare(q: str, filters: dict, *, every_office: bool, office_id: int | None = None) -> tuple[Shape, dict]:
    """The shape of a search and the values its statements are run with."""
    found = fulltext.words(q)
    number = _REC_NUMBER.fullmatch(q)
    status = filters.get("status") if filters.get("status") in STATUSES else None
    office = filters.get("office") or None
    dialect = db.session.get_bind().dialect.name
    shape = Shape(dialect, every_office, bool(found), bool(number), bool(status), bool(office))
    escaped = q.strip().lower().replace("/", "//").replace("%", "/%").replace("_", "/_")
    values = {
        "number": escaped,
        "text": fulltext.query_text(found, dialect),
        "office_id": office_id,
        "rec_number": number.group(1) if number else None,
        "status": status,
        "office_code": office,
        "cap": COUNT_CAP + 1,
        "first_word": found[0] if found else "",
    }
    return shape, values


def _text_ids(shape: Shape, table: str, id_column) -> sa.Select:
    if not shape.words:
        return sa.select(id_column).where(sa.false())
    return fulltext.matching_ids(table, id_column, shape.dialect)


def _any_of(id_column, *selects: sa.Select) -> sa.ColumnElement:
    """``id_column`` is in one of ``selects``: a UNION ALL, so each branch uses its own index
    (an OR of a full-text match and an IN would make PostgreSQL scan the table)."""
    return id_column.in_(sa.union_all(*selects))


def _number_match(column) -> sa.ColumnElement:
    return sa.func.lower(column).contains(bound("number", sa.String), escape="/")


def _report_match(shape: Shape) -> sa.ColumnElement:
    return _any_of(
        Report.id, sa.select(Report.id).where(_number_match(Report.number)), _text_ids(shape, "reports", Report.id)
    )


def _recommendation_matches(shape: Shape) -> sa.CompoundSelect:
    """The ids of the recommendations found: by their words, their report, or their number."""
    branches = [
        _text_ids(shape, "recommendations", Recommendation.id),
        sa.select(Recommendation.id).where(
            Recommendation.report_id.in_(sa.select(Report.id).where(_report_match(shape)))
        ),
    ]
    if shape.rec_number:
        branches.append(sa.select(Recommendation.id).where(Recommendation.number == bound("rec_number", sa.String)))
    if shape.words:  # the conversation on the recommendation
        branches.append(sa.select(Comment.recommendation_id).where(_comment_match(shape)))
    return sa.union_all(*branches)


def _comment_match(shape: Shape) -> sa.ColumnElement:
    if shape.dialect == "postgresql":
        return fulltext.matches("comments")
    return Comment.id.in_(fulltext.matching_ids("comments", Comment.id, shape.dialect))


def _file_text_match(shape: Shape) -> sa.ColumnElement:
    if shape.dialect == "postgresql":
        return fulltext.matches("evidence_texts")
    return EvidenceText.id.in_(fulltext.matching_ids("evidence_texts", EvidenceText.id, shape.dialect))


def recommendation_text_match(q: str) -> sa.ColumnElement:
    """Recommendations the words or numbers of ``q`` find, with its values bound (the exports'
    filter)."""
    shape, values = prepare(q, {}, every_office=True)
    return Recommendation.id.in_(_recommendation_matches(shape).params(values))


def _office_code(column) -> sa.ColumnElement:
    return column.in_(sa.select(Office.id).where(Office.code == bound("office_code", sa.String)))


def _recommendation_scope(shape: Shape) -> list[sa.ColumnElement]:
    """Who may read it, and the status filter, on ``Recommendation``."""
    conditions = [visible_recommendations_bound(shape.every_office, Recommendation)]
    if shape.status:
        conditions.append(Recommendation.status == bound("status", sa.String))
    return conditions


def _recommendation_filters(shape: Shape) -> list[sa.ColumnElement]:
    """``_recommendation_scope`` and the action office filter."""
    conditions = _recommendation_scope(shape)
    if shape.office:
        conditions.append(_office_code(Recommendation.action_office_id))
    return conditions


def _recommendation_ids(shape: Shape, ordered: bool) -> sa.Select:
    stmt = sa.select(Recommendation.id).where(
        Recommendation.id.in_(_recommendation_matches(shape)), *_recommendation_filters(shape)
    )
    if ordered:
        stmt = stmt.join(Recommendation.report).order_by(Report.issued_on.desc(), Report.number, Recommendation.number)
    return stmt.limit(bound("cap", sa.Integer))


def _report_ids(shape: Shape, ordered: bool) -> sa.Select:
    visible = sa.select(Recommendation.report_id).where(
        visible_recommendations_bound(shape.every_office, Recommendation)
    )
    stmt = sa.select(Report.id).where(_report_match(shape), Report.id.in_(visible))
    if ordered:
        stmt = stmt.order_by(Report.issued_on.desc(), Report.id)
    return stmt.limit(bound("cap", sa.Integer))


def _milestone_ids(shape: Shape, ordered: bool) -> sa.Select:
    """Milestones whose own words match, or their line of effort's title; the most recently
    added first (as reports, recommendations and evidence are: newest first), so that the
    full-text index is read in id order and stops at the cap.

    On PostgreSQL an OR of the GIN match and ``line_of_effort_id = ANY(ARRAY(…))`` (the lines
    found first): a BitmapOr of two indexes. On SQLite a UNION of two branches that each stop
    at the cap, in id order: FTS5 walks its matches by rowid, newest first, and the lines'
    milestones come from their index (an IN over a UNION of every match would read all of
    them first: 5,000 for a common word at 50,000 milestones)."""
    if not shape.words:
        return sa.select(Milestone.id).where(sa.false())
    conditions: list[sa.ColumnElement] = []
    if not shape.every_office or shape.status:
        recommendations = sa.select(Recommendation.id).where(*_recommendation_scope(shape))
        conditions.append(
            Milestone.line_of_effort_id.in_(
                sa.select(LineOfEffort.id).where(LineOfEffort.recommendation_id.in_(recommendations))
            )
        )
    if shape.office:  # the milestone's own office
        conditions.append(_office_code(Milestone.office_id))
    cap = bound("cap", sa.Integer)
    lines = _text_ids(shape, "lines_of_effort", LineOfEffort.id)
    if shape.dialect == "postgresql":
        if not conditions:
            return _newest_milestones(lines, cap)
        # One office's milestones are a twentieth of the newest: the walk of the newest would
        # rarely reach the cap and then the GIN fallback visits every match anyway (1,000,000
        # milestones, "data standard": 337 ms against 200 ms this way). Every match visited, the
        # newest kept.
        stmt = sa.select(Milestone.id).where(
            sa.or_(
                fulltext.matches("milestones"),
                Milestone.line_of_effort_id == sa.any_(sa.func.array(lines.scalar_subquery())),
            ),
            *conditions,
        )
        return (stmt.order_by(Milestone.id.desc()) if ordered else stmt).limit(cap)
    own = fulltext.matching_ids("milestones", Milestone.id, shape.dialect)
    rowid = own.selected_columns[0]
    if conditions:
        own = own.join(Milestone, Milestone.id == rowid).where(*conditions)
    by_line = sa.select(Milestone.id).where(Milestone.line_of_effort_id.in_(lines), *conditions)
    if ordered:
        own, by_line = own.order_by(rowid.desc()), by_line.order_by(Milestone.id.desc())
    either = sa.union(sa.select(own.limit(cap).subquery()), sa.select(by_line.limit(cap).subquery())).subquery()
    stmt = sa.select(either.c[0])
    return (stmt.order_by(either.c[0].desc()) if ordered else stmt).limit(cap)


#: PostgreSQL: the newest milestones are walked first, this many ids below the newest
#: (``_newest_milestones``).
RECENT_MILESTONES = 20_000


def _newest_milestones(lines: sa.Select, cap: sa.BindParameter) -> sa.Select:
    """PostgreSQL, for a reader of every office with no filter: the newest ``cap`` milestones
    whose words match or whose line of effort's title does, newest first (ordered or only counted: the cost is the same), without visiting
    every match when there are many.

    A GIN index keeps no order: "the newest 1,001" visited every match (100,696 for "data
    standard" at 1,000,000 milestones), or the planner walked the primary key backwards
    computing ``to_tsvector`` for each row. Instead:

    - ``recent``: the newest ``RECENT_MILESTONES`` rows of ``fts_milestones_vectors`` (each
      milestone's stored vector and its line's, migration 1945_search) walked backwards, both
      vectors tested as they are read, stopping at ``cap``: at most that many narrow rows, and
      only about cap / (share of matches) of them when the words are common (10,000 rows for
      words in 10% of milestones);
    - only when ``recent`` found fewer than ``cap`` (a one-time filter), the older matches
      through the GIN indexes of milestones and of lines of effort: few when the newest hold
      so few (unless the words are common only among old milestones).

    The older branches order by ``id + 0``, an order no index gives, so that the planner cannot
    walk the primary key backwards computing ``to_tsvector`` for each row (the whole table when
    the matches are few or the array of lines is empty); and bound it as ``id + 0`` too: a
    bitmap of the primary key's range (every older id, 980,000 at 1,000,000) cost 20 ms of a
    search whose matches are few."""
    vectors = sa.table(
        "fts_milestones_vectors", sa.column("id", sa.Integer), sa.column("vector"), sa.column("line_vector")
    )
    lowest = sa.select(sa.func.max(vectors.c.id)).scalar_subquery() - RECENT_MILESTONES
    query = sa.func.plainto_tsquery(sa.literal_column("'english'"), bound("text", sa.String))
    recent = sa.select(vectors.c.id).where(
        vectors.c.id > lowest, sa.or_(vectors.c.vector.bool_op("@@")(query), vectors.c.line_vector.bool_op("@@")(query))
    )
    recent_cte = recent.order_by(vectors.c.id.desc()).limit(cap).cte("recent")

    def older(match: sa.ColumnElement) -> sa.Subquery:
        return (
            sa.select(Milestone.id)
            .where(match, Milestone.id + 0 <= lowest)
            .order_by((Milestone.id + 0).desc())
            .limit(cap)
            .subquery()
        )

    own, by_line = (
        older(fulltext.matches("milestones")),
        older(Milestone.line_of_effort_id == sa.any_(sa.func.array(lines.scalar_subquery()))),
    )
    # The count of ``recent`` is tested outside the older branches' LIMIT: PostgreSQL cannot
    # push it down, so it stays a one-time filter above their scans (inside, it had parallel
    # workers started for nothing, and the lines looked up).
    few = sa.select(sa.func.count()).select_from(recent_cte).scalar_subquery() < cap
    either = sa.union(
        sa.select(recent_cte.c.id), sa.select(own.c.id).where(few), sa.select(by_line.c.id).where(few)
    ).subquery("newest")
    return sa.select(either.c.id).order_by(either.c.id.desc()).limit(cap)


def _evidence_ids(shape: Shape, ordered: bool) -> sa.Select:
    """Evidence whose title or description holds the words, or the text inside one of its files
    (app/evidence/extract.py): two indexes, joined as for milestones and their lines."""
    stmt = sa.select(EvidenceItem.id).join(EvidenceItem.recommendation).where(*_recommendation_filters(shape))
    if not shape.words:
        stmt = stmt.where(sa.false())
    else:
        in_files = sa.select(EvidenceText.item_id).where(_file_text_match(shape))
        if shape.dialect == "postgresql":
            stmt = stmt.where(
                sa.or_(
                    fulltext.matches("evidence_items"),
                    EvidenceItem.id == sa.any_(sa.func.array(in_files.scalar_subquery())),
                )
            )
        else:
            stmt = stmt.where(
                EvidenceItem.id.in_(
                    sa.union(fulltext.matching_ids("evidence_items", EvidenceItem.id, shape.dialect), in_files)
                )
            )
    if ordered:
        stmt = stmt.order_by(EvidenceItem.created_at.desc(), EvidenceItem.id.desc())
    return stmt.limit(bound("cap", sa.Integer))


def _excerpt_around(column, dialect: str, width: int = 240) -> sa.ColumnElement:
    """``width`` characters of ``column`` around the first place the query's first word occurs
    (from its start when the stemmed match is not found as typed), cut in SQL so that a long
    file's text never leaves the database."""
    lowered = sa.func.lower(column)
    word = bound("first_word", sa.String)
    position = sa.func.strpos(lowered, word) if dialect == "postgresql" else sa.func.instr(lowered, word)
    start = sa.case((position > 80, position - 80), else_=1)
    return sa.func.substr(column, start, width)


def _where_in_files(shape: Shape) -> tuple:
    """The newest file of the evidence item (in the hits' row) whose text holds the words: its
    name and an excerpt."""
    if not shape.words:
        return sa.null(), sa.null()
    dialect = shape.dialect

    def newest(column):
        return (
            sa.select(column)
            .select_from(EvidenceText)
            .join(EvidenceText.version)
            .where(EvidenceText.item_id == EvidenceItem.id, _file_text_match(shape))
            .order_by(EvidenceVersion.number.desc())
            .limit(1)
            .scalar_subquery()
        )

    return newest(EvidenceVersion.original_filename), newest(_excerpt_around(EvidenceText.text, dialect))


def _where_in_comments(shape: Shape):
    """An excerpt of the newest comment on the recommendation (in the hits' row) holding the words."""
    if not shape.words:
        return sa.null()
    return (
        sa.select(_excerpt_around(Comment.body, shape.dialect))
        .where(Comment.recommendation_id == Recommendation.id, _comment_match(shape))
        .order_by(Comment.id.desc())
        .limit(1)
        .scalar_subquery()
    )


@dataclass
class Hit:
    kind: str
    title: str
    subtitle: str
    excerpt: str
    url_endpoint: str
    url_args: dict
    #: Where the words were found when not in the record's own fields: "In the file x.pdf",
    #: "In a comment"; ``excerpt`` is then taken from there.
    found_in: str = ""


def _report_hit(row) -> Hit:
    id_, number, title, oig_office, issued_on, summary = row
    return Hit(
        "report",
        f"{number}: {title}",
        f"{oig_office} · issued {human_date(issued_on)}",
        summary,
        "search.index",
        {"q": number, "kind": "recommendations"},
    )


def _recommendation_hit(row) -> Hit:
    id_, report_number, number, status, office_name, text, in_comment = row
    hit = Hit(
        "recommendation",
        f"{report_number} Recommendation {number}",
        f"{STATUS_LABELS[status]} · {office_name}",
        text,
        "recommendations.show",
        {"recommendation_id": id_},
    )
    if in_comment:
        hit.found_in, hit.excerpt = "In a comment", _trim(in_comment)
        hit.url_args = {**hit.url_args, "_anchor": "conversation-heading"}
    return hit


def _milestone_hit(row) -> Hit:
    id_, title, description, expected, due, status, line_title, report_number, rec_number = row
    return Hit(
        "milestone",
        title,
        f"{recommendation_label(report_number, rec_number)} · {line_title} · due {human_date(due)}"
        f" · {MILESTONE_STATUS_LABELS[status]}",
        description or expected,
        "milestones.show",
        {"milestone_id": id_},
    )


def _evidence_hit(row) -> Hit:
    id_, title, description, withdrawn_at, review_status, report_number, rec_number, filename, in_file = row
    state = "Withdrawn" if withdrawn_at else REVIEW_STATUS_LABELS[review_status]
    hit = Hit(
        "evidence",
        title,
        f"{recommendation_label(report_number, rec_number)} · Evidence · {state}",
        description,
        "evidence.item",
        {"item_id": id_},
    )
    if filename:
        hit.found_in, hit.excerpt = f"In the file {filename}", _trim(in_file or "")
    return hit


def _trim(text: str) -> str:
    """An excerpt cut in SQL starts and ends mid-word: cut to whole words, marked as a part."""
    words = text.split()
    if len(words) > 2:
        words = words[1:-1]
    return "…" + " ".join(words) + "…" if words else ""


@dataclass(frozen=True)
class SearchKind:
    key: str
    label: str
    #: The label of one hit ("1 milestone").
    one: str
    #: (shape, ordered) -> the SELECT of the matching ids, limited to what the user may read and
    #: to COUNT_CAP + 1, in the order shown when ``ordered``.
    ids_statement: Callable[[Shape, bool], sa.Select]
    #: shape -> the columns of the hits, the id first (the page's ids are bound as ``ids``;
    #: where the words were found, from the values of ``prepare``).
    columns: Callable[[Shape], sa.Select]
    to_hit: Callable[[sa.Row], Hit]
    #: The label of several hits when it is not ``label`` ("2 evidence items", not "2 evidence").
    many: str = ""

    def ids(self, shape: Shape, values: dict) -> list[int]:
        """The ids of the first COUNT_CAP + 1 matches, in order: the count and every page."""
        return list(db.session.scalars(_statement(self, shape, "ids"), values))

    def count(self, shape: Shape, values: dict) -> int:
        return db.session.scalar(_statement(self, shape, "count"), values)

    def hits(self, ids: list[int], shape: Shape, values: dict) -> list[Hit]:
        """The hits of ``ids``, in that order: read by primary key, not by matching again (but
        for where in a file or a comment the words were found)."""
        if not ids:
            return []
        found = {
            row[0]: row
            for row in db.session.execute(
                _statement(self, Shape(shape.dialect, True, shape.words, False, False, False), "hits"),
                {**values, "ids": ids},
            )
        }
        return [self.to_hit(found[i]) for i in ids if i in found]


@functools.cache
def _statement(kind: SearchKind, shape: Shape, what: str) -> sa.Select:
    """A kind's statement, built once per shape (the values are bound when it runs)."""
    if what == "hits":
        columns = kind.columns(shape)
        return columns.where(columns.selected_columns[0].in_(sa.bindparam("ids", expanding=True)))
    if what == "count":
        return sa.select(sa.func.count()).select_from(kind.ids_statement(shape, False).subquery())
    return kind.ids_statement(shape, True)


KINDS = [
    SearchKind(
        "recommendations",
        "Recommendations",
        "Recommendation",
        _recommendation_ids,
        lambda shape: (
            sa.select(
                Recommendation.id,
                Report.number,
                Recommendation.number,
                Recommendation.status,
                Office.name,
                Recommendation.text,
                _where_in_comments(shape),
            )
            .join(Recommendation.report)
            .join(Recommendation.action_office)
        ),
        _recommendation_hit,
    ),
    SearchKind(
        "reports",
        "Reports",
        "Report",
        _report_ids,
        lambda shape: sa.select(
            Report.id, Report.number, Report.title, Report.oig_office, Report.issued_on, Report.summary
        ),
        _report_hit,
    ),
    SearchKind(
        "milestones",
        "Milestones",
        "Milestone",
        _milestone_ids,
        lambda shape: (
            sa.select(
                Milestone.id,
                Milestone.title,
                Milestone.description,
                Milestone.expected_evidence,
                Milestone.current_due_on,
                Milestone.status,
                LineOfEffort.title,
                Report.number,
                Recommendation.number,
            )
            .join(Milestone.line_of_effort)
            .join(LineOfEffort.recommendation)
            .join(Recommendation.report)
        ),
        _milestone_hit,
    ),
    SearchKind(
        "evidence",
        "Evidence",
        "Evidence item",
        _evidence_ids,
        lambda shape: (
            sa.select(
                EvidenceItem.id,
                EvidenceItem.title,
                EvidenceItem.description,
                EvidenceItem.withdrawn_at,
                EvidenceItem.review_status,
                Report.number,
                Recommendation.number,
                *_where_in_files(shape),
            )
            .join(EvidenceItem.recommendation)
            .join(Recommendation.report)
        ),
        _evidence_hit,
        many="Evidence items",
    ),
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
    shape, values = prepare(q, filters, every_office=reads_every_office(user), office_id=user.office_id)
    requested = KINDS_BY_KEY.get(kind_key or "")
    counts, listed, ids = {}, None, []
    for kind in KINDS:
        if kind is requested or (requested is None and listed is None):
            found = kind.ids(shape, values)
            counts[kind.key] = len(found)
            if found or kind is requested:
                listed, ids = kind, found
        else:
            counts[kind.key] = kind.count(shape, values)
    listed = listed or KINDS[0]
    total = counts[listed.key]
    pages = max(1, -(-min(total, COUNT_CAP) // PER_PAGE))
    page = min(max(page, 1), pages)
    offset = (page - 1) * PER_PAGE
    hits = listed.hits(ids[offset : min(offset + PER_PAGE, COUNT_CAP)], shape, values)
    return SearchResult(q, listed, counts, hits, page, pages, total)
