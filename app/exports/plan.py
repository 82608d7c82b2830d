"""The corrective action plan as OIG expects it on paper: one data shape, two renderings (PDF, DOCX).

``plan_document()`` gathers the live plan once, ``submission_plan_document()`` the plan as a
submission froze it (from its snapshot only, so a later edit cannot change what was sent);
``plan_pdf()`` renders either through an HTML template with WeasyPrint and ``plan_docx()``
writes the same rows with python-docx, so the two documents cannot disagree.
"""

import io
from pathlib import Path
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import render_template, current_app

from app.exports.tables import xml_safe_copy
from app.extensions import db
from app.recommendations.clocks import clocks_for, clocks
from app.metrics.charts import metric_results
from app.evidence.services import evidence_list
from app.milestones.models import MILESTONE_STATUS_LABELS
from app.recommendations.models import CONCURRENCE_LABELS, STATUS_LABELS
from app.submissions.models import Submission
from app.submissions.services import dates_from, sent_up_to


def _d(value: date | None) -> str:
    return value.isoformat() if value else ""


@dataclass
class MilestoneRow:
    title: str
    owner: str
    office: str
    start_on: str
    baseline_due_on: str
    current_due_on: str
    status: str
    percent_complete: int
    completed_on: str


@dataclass
class LineSection:
    title: str
    objective: str
    description: str
    milestones: list[MilestoneRow] = field(default_factory=list)


# The facts at the head of the document, as text: the live plan fills them from the database,
# a submission from its snapshot, and the renderings never touch a model.
@dataclass
class ReportFacts:
    number: str
    title: str
    oig_office: str
    #: As printed on the report; for a replayed (demo) report, with the day its clocks count from.
    issued_on: str


@dataclass
class RecommendationFacts:
    number: str
    text: str
    status_label: str
    concurrence_label: str
    concurrence_response: str
    action_office: str
    responsible_official: str
    target_completion_on: str


@dataclass
class PlanDocument:
    recommendation: RecommendationFacts
    report: ReportFacts
    generated_on: date
    lines: list[LineSection]
    #: (label, due date, state) of each federal clock, as they stood on ``clocks_on``.
    clocks: list[tuple[str, str, str]]
    #: Rows of {"name", "unit", "baseline", "target", "latest", "period"}: see ``metric_row``.
    metrics: list[dict]
    #: Rows of {"title", "milestone", "version", "uploaded_on", "review"}: see ``evidence_row``.
    evidence: list[dict]
    #: The day the clocks are counted on: today for the live plan, the day a submission was sent.
    clocks_on: date | None = None
    #: Set when the document shows a submission as sent rather than the live plan.
    submission_label: str = ""
    #: The cover narrative of a submission.
    narrative: str = ""
    #: What a closure request left open, each with the sender's acknowledgement: rows of
    #: {"item", "acknowledgement"} (``acknowledgement_rows``), under ``acknowledgements_title``.
    acknowledgements: list[dict] = field(default_factory=list)
    acknowledgements_title: str = ""

    @property
    def milestone_count(self) -> int:
        return sum(len(line.milestones) for line in self.lines)

    def none_recorded(self, what: str) -> str:
        """What an empty section says (a submission's snapshot may not have the section at all)."""
        return f"No {what} recorded in this submission." if self.submission_label else f"No {what} recorded yet."


def metric_row(result: dict) -> dict:
    """One row of ``metric_results()`` (live, or as frozen in a snapshot) as the document shows it."""
    value = result.get("value")
    return {
        "name": f"{result.get('metric', '')} ({result.get('component', '')})",
        "unit": result.get("unit") or "",
        "baseline": _blank(result.get("baseline")),
        "target": _blank(result.get("target")),
        "latest": _blank(value),
        "period": result.get("period") or "no reading yet",
    }


def evidence_row(item: dict, milestone_titles: dict) -> dict:
    """One row of ``evidence_list()`` (live, or as frozen in a snapshot) as the document shows it."""
    return {
        "title": item.get("title", ""),
        "milestone": milestone_titles.get(item.get("milestone_id"), "General document"),
        "version": _blank(item.get("version")),
        "uploaded_on": item.get("uploaded_on") or "",
        "review": item.get("review_status") or "",
    }


def acknowledgement_rows(readiness: list | None) -> list[dict]:
    """The readiness section of a closure request's snapshot as the document shows it."""
    return [
        {"item": str(r.get("text", "")), "acknowledgement": str(r.get("acknowledgement", ""))}
        for r in readiness or []
        if isinstance(r, dict)
    ]


def latest_closure_acknowledgements(recommendation) -> tuple[str, list[dict]]:
    """The live plan carries what its latest closure request left open and how the sender
    acknowledged it, read from that request's snapshot (one query)."""
    closure = db.session.execute(
        sa.select(Submission.number, Submission.submitted_on, Submission.snapshot)
        .where(Submission.recommendation_id == recommendation.id, Submission.kind == "closure_request")
        .order_by(Submission.number.desc())
        .limit(1)
    ).first()
    if closure is None:
        return "", []
    sections = (closure.snapshot or {}).get("sections") or []
    rows = acknowledgement_rows(next((s.get("data") for s in sections if s.get("key") == "readiness"), None))
    if not rows:
        return "", []
    return (
        f"Open when closure request {closure.number} was sent on {_d(closure.submitted_on)}, acknowledged by the sender",
        rows,
    )


def _blank(value) -> object:
    return "" if value is None else value


def metric_rows(recommendation) -> list[dict]:
    """Metrics against targets of the plan: the latest reading per component."""
    return [metric_row(r) for r in metric_results(recommendation.id)]


def evidence_rows(recommendation) -> list[dict]:
    """The evidence list of the plan (items not withdrawn, current version)."""
    titles = {m.id: m.title for line in recommendation.lines_of_effort for m in line.milestones}
    return [evidence_row(r, titles) for r in evidence_list(recommendation.id)]


def issued_text(report) -> str:
    if report.printed_issued_on:
        return f"{_d(report.printed_issued_on)} (deadlines replayed from {_d(report.issued_on)})"
    return _d(report.issued_on)


def report_facts(report) -> ReportFacts:
    return ReportFacts(
        number=report.number, title=report.title, oig_office=report.oig_office, issued_on=issued_text(report)
    )


def plan_document(recommendation, today: date) -> PlanDocument:
    """The live plan of ``recommendation`` (loaded with its lines and milestones)."""
    lines = []
    for line in recommendation.lines_of_effort:
        section = LineSection(line.title, line.objective, line.description)
        for m in line.milestones:
            section.milestones.append(
                MilestoneRow(
                    title=m.title,
                    owner=m.owner.name if m.owner else "",
                    office=m.office.name if m.office else "",
                    start_on=_d(m.start_on),
                    baseline_due_on=_d(m.baseline_due_on),
                    current_due_on=_d(m.current_due_on),
                    status=m.status_label,
                    percent_complete=m.percent_complete,
                    completed_on=_d(m.completed_on),
                )
            )
        lines.append(section)
    facts = RecommendationFacts(
        number=recommendation.number,
        text=recommendation.text,
        status_label=recommendation.status_label,
        concurrence_label=recommendation.concurrence_label,
        concurrence_response=recommendation.concurrence_response or "",
        action_office=recommendation.action_office.name,
        responsible_official=recommendation.responsible_official or "",
        target_completion_on=_d(recommendation.target_completion_on),
    )
    acknowledgements_title, acknowledgements = latest_closure_acknowledgements(recommendation)
    return PlanDocument(
        recommendation=facts,
        report=report_facts(recommendation.report),
        generated_on=today,
        lines=lines,
        clocks=_clock_rows(clocks_for(recommendation, today)),
        metrics=metric_rows(recommendation),
        evidence=evidence_rows(recommendation),
        clocks_on=today,
        acknowledgements=acknowledgements,
        acknowledgements_title=acknowledgements_title,
    )


def _clock_rows(clocks: dict) -> list[tuple[str, str, str]]:
    return [(c.label, _d(c.due_on), c.state.replace("_", " ")) for c in clocks.values()]


def submission_plan_document(submission, today: date) -> PlanDocument:
    """The plan exactly as ``submission`` sent it, built from its snapshot and nothing live.

    What a snapshot never held is taken from records that do not change with the plan: the
    report's title, issuing office and issue date, the numbers and dates of the submissions
    sent up to this one (for the clocks) and who sent it. A section missing from an older
    snapshot, or not carried by this kind of submission, comes out as "none recorded".
    """
    snapshot = submission.snapshot or {}
    sections = {s.get("key"): s.get("data") for s in snapshot.get("sections") or [] if isinstance(s, dict)}
    rec_data = sections.get("recommendation") or {}
    live_rec, report = submission.recommendation, submission.recommendation.report
    not_recorded = "Not recorded in this submission"

    facts = RecommendationFacts(
        number=rec_data.get("number") or live_rec.number,
        text=rec_data.get("text") or not_recorded,
        status_label=STATUS_LABELS.get(rec_data.get("status") or "", not_recorded),
        concurrence_label=CONCURRENCE_LABELS.get(rec_data.get("concurrence") or "", "Not recorded"),
        concurrence_response=rec_data.get("concurrence_response") or "",
        action_office=rec_data.get("action_office") or not_recorded,
        responsible_official=rec_data.get("responsible_official") or "",
        target_completion_on=rec_data.get("target_completion_on") or "",
    )

    lines, titles = [], {}
    for line in sections.get("plan") or []:
        section = LineSection(line.get("title", ""), line.get("objective") or "", line.get("description") or "")
        for m in line.get("milestones") or []:
            titles[m.get("id")] = m.get("title", "")
            status = m.get("status")
            section.milestones.append(
                MilestoneRow(
                    title=m.get("title", ""),
                    owner=m.get("owner") or "",
                    office=m.get("office") or "",
                    start_on=m.get("start_on") or "",
                    baseline_due_on=m.get("baseline_due_on") or "",
                    current_due_on=m.get("current_due_on") or "",
                    status=MILESTONE_STATUS_LABELS.get(status, status or ""),
                    percent_complete=m.get("percent_complete") or 0,
                    completed_on=m.get("completed_on") or "",
                )
            )
        lines.append(section)

    # The clocks as they stood the day it was sent, this submission counted as sent.
    issued_on = rec_data.get("issued_on") or _d(live_rec.issued_on)
    decision_on = rec_data.get("management_decision_on")
    clock_rows = _clock_rows(
        clocks(
            issued_on=date.fromisoformat(issued_on),
            status=rec_data.get("status") or live_rec.status,
            today=submission.submitted_on,
            management_decision_on=date.fromisoformat(decision_on) if decision_on else None,
            **dates_from(sent_up_to(submission)),
        )
    )

    return PlanDocument(
        recommendation=facts,
        report=ReportFacts(
            number=rec_data.get("report") or report.number,
            title=report.title,
            oig_office=report.oig_office,
            issued_on=issued_text(report),
        ),
        generated_on=today,
        lines=lines,
        clocks=clock_rows,
        clocks_on=submission.submitted_on,
        metrics=[metric_row(r) for r in sections.get("metrics") or []],
        evidence=[evidence_row(r, titles) for r in sections.get("evidence") or []],
        submission_label=(
            f"submission {submission.number}, {submission.kind_label.lower()}, as sent to OIG "
            f"on {_d(submission.submitted_on)} by {submission.submitted_by.name}"
        ),
        narrative=snapshot.get("narrative") or submission.narrative or "",
        acknowledgements=acknowledgement_rows(sections.get("readiness")),
        acknowledgements_title="Open when sent, acknowledged by the sender",
    )


def plan_filename(doc: PlanDocument, extension: str) -> str:
    return f"{doc.report.number}-rec-{doc.recommendation.number}-corrective-action-plan.{extension}"


def submission_plan_filename(doc: PlanDocument, submission, extension: str) -> str:
    return (
        f"{doc.report.number}-rec-{doc.recommendation.number}-submission-{submission.number}-"
        f"{submission.kind.replace('_', '-')}-as-sent.{extension}"
    )


def plan_html(doc: PlanDocument) -> str:
    return render_template("exports/plan_document.html", doc=doc)


def _no_fetch(url: str, *args, **kwargs):
    # The document is self-contained; nothing in it may make the server fetch a URL.
    raise ValueError(f"refused to fetch {url}")


def pdf_from_html(html: str) -> bytes:
    """A self-contained HTML document as PDF, with the print stylesheet."""
    from weasyprint import CSS, HTML

    stylesheet = CSS(filename=str(Path(current_app.static_folder or "static") / "css" / "plan-print.css"))
    return HTML(string=html, url_fetcher=_no_fetch).write_pdf(stylesheets=[stylesheet])


def plan_pdf(doc: PlanDocument) -> bytes:
    return pdf_from_html(plan_html(xml_safe_copy(doc)))


MILESTONE_COLUMNS = (
    "Milestone",
    "Owner",
    "Responsible office",
    "Start",
    "Baseline due",
    "Current due",
    "Status",
    "% complete",
    "Completed",
)


def milestone_cells(row: MilestoneRow) -> list[str]:
    return [
        row.title,
        row.owner,
        row.office,
        row.start_on,
        row.baseline_due_on,
        row.current_due_on,
        row.status,
        f"{row.percent_complete}%",
        row.completed_on,
    ]


def plan_docx(doc: PlanDocument) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Pt

    doc = xml_safe_copy(doc)  # python-docx refuses what XML cannot hold; a stored string may hold it
    rec, report = doc.recommendation, doc.report
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    document.styles["Normal"].font.size = Pt(10)

    title = "Corrective Action Plan"
    if doc.submission_label:
        title += f" ({doc.submission_label})"
    document.add_heading(title, level=0)
    facts = [
        ("Report", f"{report.number}: {report.title}"),
        ("Issued by", f"{report.oig_office}, {report.issued_on}"),
        ("Recommendation", f"Recommendation {rec.number}"),
        ("Status when sent" if doc.submission_label else "Status", rec.status_label),
        ("Concurrence", rec.concurrence_label),
        ("Action office", rec.action_office),
        ("Responsible official", rec.responsible_official or "Not named"),
        ("Target completion date", rec.target_completion_on or "Not set"),
        ("Generated", _d(doc.generated_on)),
    ]
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in facts:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value

    if doc.narrative:
        document.add_heading("Cover narrative", level=1)
        document.add_paragraph(doc.narrative)
    document.add_heading("Recommendation", level=1)
    document.add_paragraph(rec.text)
    if rec.concurrence_response:
        document.add_heading("Management response", level=1)
        document.add_paragraph(rec.concurrence_response)

    document.add_heading("Corrective actions by line of effort", level=1)
    if not doc.lines:
        document.add_paragraph(doc.none_recorded("lines of effort"))
    for number, line in enumerate(doc.lines, start=1):
        document.add_heading(f"{number}. {line.title}", level=2)
        if line.objective:
            document.add_paragraph(f"Objective: {line.objective}")
        if not line.milestones:
            document.add_paragraph("No milestones yet.")
            continue
        table = document.add_table(rows=1, cols=len(MILESTONE_COLUMNS))
        table.style = "Table Grid"
        for cell, heading in zip(table.rows[0].cells, MILESTONE_COLUMNS):
            cell.text = heading
        for row in line.milestones:
            for cell, value in zip(table.add_row().cells, milestone_cells(row)):
                cell.text = value

    document.add_heading(f"Deadlines as of {_d(doc.clocks_on or doc.generated_on)}", level=1)
    table = document.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, heading in zip(table.rows[0].cells, ("Clock", "Date", "State")):
        cell.text = heading
    for clock in doc.clocks:
        for cell, value in zip(table.add_row().cells, clock):
            cell.text = value

    document.add_heading("Metrics against targets", level=1)
    _docx_rows(
        document,
        doc.metrics,
        ("name", "unit", "baseline", "target", "latest", "period"),
        ("Metric", "Unit", "Baseline", "Target", "Latest reading", "Period"),
        doc.none_recorded("metrics"),
    )
    document.add_heading("Evidence", level=1)
    _docx_rows(
        document,
        doc.evidence,
        ("title", "milestone", "version", "uploaded_on", "review"),
        ("Evidence", "Milestone", "Version", "Uploaded", "OIG review"),
        doc.none_recorded("evidence"),
    )
    if doc.acknowledgements:
        document.add_heading(doc.acknowledgements_title, level=1)
        _docx_rows(
            document,
            doc.acknowledgements,
            ("item", "acknowledgement"),
            ("Not done", "Sender's acknowledgement"),
            "",
        )

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _docx_rows(document, rows: list[dict], keys, headings, empty: str) -> None:
    if not rows:
        document.add_paragraph(empty)
        return
    table = document.add_table(rows=1, cols=len(keys))
    table.style = "Table Grid"
    for cell, heading in zip(table.rows[0].cells, headings):
        cell.text = heading
    for row in rows:
        for cell, key in zip(table.add_row().cells, keys):
            cell.text = str(row.get(key, ""))
