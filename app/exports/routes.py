from flask import Response, abort, render_template, request
from flask_login import current_user

from app import audit
from app.exports import bp
from app.exports.plan import (
    plan_docx,
    plan_document,
    plan_filename,
    plan_pdf,
    submission_plan_document,
    submission_plan_filename,
)
from app.exports.semiannual import (
    COLUMNS,
    TABLES,
    is_period_end,
    latest_period_end,
    recent_period_ends,
    semiannual_pdf,
    semiannual_tables,
    table_rows,
)
from app.exports.section5 import MONEY_COLUMNS, money_table_rows
from app.exports.services import EXPORTS
from app.querystring import parse_date
from app.exports.tables import CSV_MIMETYPE, XLSX_MIMETYPE, to_csv, to_xlsx
from app.extensions import db
from app.milestones.models import MILESTONE_STATUS_LABELS
from app.permissions import ANY_ROLE, roles
from app.recommendations.models import STATUS_LABELS
from app.recommendations.services import get_recommendation_or_404
from app.security import content_disposition
from app.submissions.services import get_submission_or_404
from app.timeutil import today

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#: Query-string keys that are filters (anything else in the URL is not recorded).
FILTER_KEYS = (
    "status",
    "office",
    "report",
    "q",
    "recommendation",
    "overdue",
    "due_from",
    "due_to",
    "action",
    "since",
    "until",
)


def _attachment(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/")
@roles(*ANY_ROLE)
def index():
    on = today()
    return render_template(
        "exports/index.html",
        exports=EXPORTS,
        period_ends=recent_period_ends(on),
        status_labels=STATUS_LABELS,
        milestone_status_labels=MILESTONE_STATUS_LABELS,
    )


@bp.route("/<what>.<fmt>")
@roles(*ANY_ROLE)
def download(what: str, fmt: str):
    if what not in EXPORTS or fmt not in ("csv", "xlsx"):
        abort(404)
    title, build = EXPORTS[what]
    filters = {k: v for k in FILTER_KEYS if (v := request.args.get(k))}
    columns, rows = build(current_user, request.args, today())
    audit.record(f"export.{what.replace('-', '_')}", after={"format": fmt, "filters": filters, "rows": len(rows)})
    db.session.commit()
    filename = f"{what}-{today().isoformat()}.{fmt}"
    if fmt == "csv":
        return _attachment(to_csv(columns, rows), CSV_MIMETYPE, filename)
    return _attachment(to_xlsx([(title, columns, rows)]), XLSX_MIMETYPE, filename)


def _period_end_from_args():
    period_end = parse_date(request.args.get("period_end")) or latest_period_end(today())
    if not is_period_end(period_end):
        abort(404)
    return period_end


@bp.route("/semiannual")
@roles(*ANY_ROLE)
def semiannual():
    period_end = _period_end_from_args()
    tables = semiannual_tables(current_user, period_end)
    return render_template(
        "exports/semiannual.html", tables=tables, table_keys=TABLES, period_ends=recent_period_ends(today(), 8)
    )


@bp.route("/semiannual.<fmt>")
@roles(*ANY_ROLE)
def semiannual_download(fmt: str):
    if fmt not in ("csv", "xlsx", "pdf"):
        abort(404)
    period_end = _period_end_from_args()
    tables = semiannual_tables(current_user, period_end)
    if fmt == "csv":
        # One file, the table named in the first column, so that a spreadsheet can filter by it.
        rows = [(label, *row) for key, label in TABLES for row in table_rows(getattr(tables, key))]
        body, mimetype = to_csv(("Table", *COLUMNS), rows), CSV_MIMETYPE
    elif fmt == "xlsx":
        sheets: list[tuple[str, tuple[str, ...], list]] = [
            (label, COLUMNS, list(table_rows(getattr(tables, key)))) for key, label in TABLES
        ]
        sheets += [
            (table.short_title, MONEY_COLUMNS[1:], [row[1:] for row in money_table_rows([table])])
            for table in tables.money
        ]
        body, mimetype = to_xlsx(sheets), XLSX_MIMETYPE
    else:
        body, mimetype = semiannual_pdf(tables, today()), "application/pdf"
    _record_semiannual_export(fmt, tables)
    return _attachment(body, mimetype, f"semiannual-{period_end.isoformat()}.{fmt}")


@bp.route("/semiannual-money.csv")
@roles(*ANY_ROLE)
def semiannual_money_csv():
    """The two IG Act section 5 tables, one row of the report per line."""
    tables = semiannual_tables(current_user, _period_end_from_args())
    body = to_csv(MONEY_COLUMNS, money_table_rows(tables.money))
    _record_semiannual_export("money.csv", tables)
    return _attachment(body, CSV_MIMETYPE, f"semiannual-money-{tables.period_end.isoformat()}.csv")


def _record_semiannual_export(fmt: str, tables) -> None:
    # Written before the commit, which expires the rows the file is made of.
    audit.record(
        "export.semiannual",
        after={
            "format": fmt,
            "period_end": tables.period_end,
            **{key: len(getattr(tables, key)) for key, _ in TABLES},
            **{f"{t.key}_reports": t.row("A+B").reports for t in tables.money},
        },
    )
    db.session.commit()


@bp.route("/recommendations/<int:recommendation_id>/plan.<fmt>")
@roles(*ANY_ROLE)
def plan(recommendation_id: int, fmt: str):
    if fmt not in ("pdf", "docx"):
        abort(404)
    recommendation = get_recommendation_or_404(recommendation_id, with_plan=True)
    doc = plan_document(recommendation, today())
    body = plan_pdf(doc) if fmt == "pdf" else plan_docx(doc)
    audit.record(
        "export.plan",
        recommendation,
        after={"format": fmt, "milestones": doc.milestone_count},
        recommendation_id=recommendation.id,
    )
    db.session.commit()
    return _attachment(body, "application/pdf" if fmt == "pdf" else DOCX_MIMETYPE, plan_filename(doc, fmt))


@bp.route("/submissions/<int:submission_id>/plan.<fmt>")
@roles(*ANY_ROLE)
def submission_plan(submission_id: int, fmt: str):
    """The plan as a submission sent it: whoever may see the submission's page may download it."""
    if fmt not in ("pdf", "docx"):
        abort(404)
    submission = get_submission_or_404(submission_id)
    doc = submission_plan_document(submission, today())
    body = plan_pdf(doc) if fmt == "pdf" else plan_docx(doc)
    filename = submission_plan_filename(doc, submission, fmt)
    audit.record(
        "export.submission_plan",
        submission,
        after={
            "format": fmt,
            "submission": submission.number,
            "kind": submission.kind,
            "snapshot_sha256": submission.snapshot_sha256,
            "milestones": doc.milestone_count,
        },
        recommendation_id=submission.recommendation_id,
    )
    db.session.commit()
    return _attachment(body, "application/pdf" if fmt == "pdf" else DOCX_MIMETYPE, filename)
