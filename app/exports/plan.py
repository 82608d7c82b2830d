"""The corrective action plan as OIG expects it on paper: one data shape, two renderings (PDF, DOCX).

``plan_document()`` gathers everything once; ``plan_pdf()`` renders it through an HTML
template with WeasyPrint and ``plan_docx()`` writes the same rows with python-docx, so
the two documents cannot disagree.
"""
import io
from pathlib import Path
from dataclasses import dataclass, field
from datetime import date

from flask import render_template

from app.recommendations.clocks import clocks_for


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


@dataclass
class PlanDocument:
    recommendation: object
    report: object
    generated_on: date
    lines: list[LineSection]
    #: (label, due date, state) of each federal clock.
    clocks: list[tuple[str, str, str]]
    #: Rows of {"name", "unit", "baseline", "target", "latest", "period"}: filled by ``metric_rows``.
    metrics: list[dict]
    #: Rows of {"title", "milestone", "version", "uploaded_on", "review"}: filled by ``evidence_rows``.
    evidence: list[dict]
    #: Set when the document shows a submission as sent rather than the live plan.
    submission_label: str = ""

    @property
    def milestone_count(self) -> int:
        return sum(len(line.milestones) for line in self.lines)


def metric_rows(recommendation) -> list[dict]:
    """Metrics against targets of the plan: the latest reading per component."""
    from app.metrics.services import metric_results
    return [{"name": f"{r['metric']} ({r['component']})", "unit": r["unit"], "baseline": r["baseline"],
             "target": r["target"], "latest": "" if r["value"] is None else r["value"],
             "period": r["period"] or "no reading yet"} for r in metric_results(recommendation.id)]


def evidence_rows(recommendation) -> list[dict]:
    """The evidence list of the plan (items not withdrawn, current version)."""
    from app.evidence.services import evidence_list
    titles = {m.id: m.title for line in recommendation.lines_of_effort for m in line.milestones}
    return [{"title": r["title"], "milestone": titles.get(r["milestone_id"], "General document"),
             "version": r["version"], "uploaded_on": r["uploaded_on"], "review": r["review_status"]}
            for r in evidence_list(recommendation.id)]


def plan_document(recommendation, today: date) -> PlanDocument:
    """The live plan of ``recommendation`` (loaded with its lines and milestones)."""
    lines = []
    for line in recommendation.lines_of_effort:
        section = LineSection(line.title, line.objective, line.description)
        for m in line.milestones:
            section.milestones.append(MilestoneRow(
                title=m.title, owner=m.owner.name if m.owner else "", office=m.office.name if m.office else "",
                start_on=_d(m.start_on), baseline_due_on=_d(m.baseline_due_on),
                current_due_on=_d(m.current_due_on), status=m.status_label,
                percent_complete=m.percent_complete, completed_on=_d(m.completed_on)))
        lines.append(section)
    clock_rows = [(c.label, _d(c.due_on), c.state.replace("_", " "))
                  for c in clocks_for(recommendation, today).values()]
    return PlanDocument(recommendation=recommendation, report=recommendation.report, generated_on=today,
                        lines=lines, clocks=clock_rows, metrics=metric_rows(recommendation),
                        evidence=evidence_rows(recommendation))


def plan_filename(doc: PlanDocument, extension: str) -> str:
    return f"{doc.report.number}-rec-{doc.recommendation.number}-corrective-action-plan.{extension}"


def plan_html(doc: PlanDocument) -> str:
    return render_template("exports/plan_document.html", doc=doc)


def _no_fetch(url: str, *args, **kwargs):
    # The document is self-contained; nothing in it may make the server fetch a URL.
    raise ValueError(f"refused to fetch {url}")


def plan_pdf(doc: PlanDocument) -> bytes:
    from flask import current_app
    from weasyprint import CSS, HTML

    stylesheet = CSS(filename=str(Path(current_app.static_folder) / "css" / "plan-print.css"))
    return HTML(string=plan_html(doc), url_fetcher=_no_fetch).write_pdf(stylesheets=[stylesheet])


MILESTONE_COLUMNS = ("Milestone", "Owner", "Responsible office", "Start", "Baseline due", "Current due",
                     "Status", "% complete", "Completed")


def milestone_cells(row: MilestoneRow) -> list[str]:
    return [row.title, row.owner, row.office, row.start_on, row.baseline_due_on, row.current_due_on,
            row.status, f"{row.percent_complete}%", row.completed_on]


def plan_docx(doc: PlanDocument) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Pt

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
        ("Issued by", f"{report.oig_office}, {_d(report.issued_on)}"),
        ("Recommendation", f"Recommendation {rec.number}"),
        ("Status", rec.status_label),
        ("Concurrence", rec.concurrence_label),
        ("Action office", rec.action_office.name),
        ("Responsible official", rec.responsible_official or "Not named"),
        ("Target completion date", _d(rec.target_completion_on) or "Not set"),
        ("Generated", _d(doc.generated_on)),
    ]
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in facts:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value

    document.add_heading("Recommendation", level=1)
    document.add_paragraph(rec.text)
    if rec.concurrence_response:
        document.add_heading("Management response", level=1)
        document.add_paragraph(rec.concurrence_response)

    document.add_heading("Corrective actions by line of effort", level=1)
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

    document.add_heading("Deadlines", level=1)
    table = document.add_table(rows=1, cols=3)
    table.style = "Table Grid"
    for cell, heading in zip(table.rows[0].cells, ("Clock", "Date", "State")):
        cell.text = heading
    for clock in doc.clocks:
        for cell, value in zip(table.add_row().cells, clock):
            cell.text = value

    document.add_heading("Metrics against targets", level=1)
    _docx_rows(document, doc.metrics, ("name", "unit", "baseline", "target", "latest", "period"),
               ("Metric", "Unit", "Baseline", "Target", "Latest reading", "Period"), "No metrics recorded yet.")
    document.add_heading("Evidence", level=1)
    _docx_rows(document, doc.evidence, ("title", "milestone", "version", "uploaded_on", "review"),
               ("Evidence", "Milestone", "Version", "Uploaded", "OIG review"), "No evidence recorded yet.")

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
