"""Issue 21: the OIG-15-85 demo is faithful to the report. Every figure, quotation and date the demo
takes from the report is checked against the report's text, ``shared/reference/OIG-15-85-report.txt``,
found beside the repository (CI lays shared/ beside its clone)."""

import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.demo import CONCURRENCE_RESPONSE, RECOMMENDATION_TEXT, REPORT_TITLE, SUMMARY
from app.demo_report import DATA_ELEMENTS, DATA_ELEMENTS_PAGE, FIGURES, ISSUED_ON, REPORT_NUMBER
from app.metrics.demo import METRICS
from app.metrics.models import Metric
from app.recommendations.models import Recommendation
from app.reports.models import Report

REFERENCE = Path("shared") / "reference" / "OIG-15-85-report.txt"


def _repository() -> Path:
    here = Path(__file__).resolve()
    return next(p for p in here.parents if (p / "app" / "demo.py").exists())


def _reference_path() -> Path:
    # <repo>/../shared in CI and in the main checkout; a worktree further down finds it higher up.
    for folder in _repository().parents:
        if (folder / REFERENCE).is_file():
            return folder / REFERENCE
    raise AssertionError(f"{REFERENCE} not found beside the repository {_repository()} or above it")


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def report_text() -> str:
    return _words(_reference_path().read_text(encoding="utf-8"))


@pytest.mark.parametrize("key", sorted(FIGURES))
def test_each_figure_is_printed_in_the_report_with_its_period(report_text, key):
    figure = FIGURES[key]
    for quote in figure.quotes:
        assert _words(quote) in report_text, (key, quote)
    assert f"{figure.value:,}" in figure.quotes[0]


@pytest.mark.parametrize("demo_metric", [m for m in METRICS if m.figure], ids=lambda m: m.figure)
def test_each_baseline_from_the_report_is_its_figure_with_period_and_page(demo_metric):
    figure = FIGURES[demo_metric.figure]
    assert int(demo_metric.baseline) == figure.value
    assert demo_metric.baseline_period == f"{figure.period}. Source: {REPORT_NUMBER}, p. {figure.page}"
    assert demo_metric.components == figure.component


def test_every_figure_of_the_report_is_a_demo_baseline():
    assert {m.figure for m in METRICS if m.figure} == set(FIGURES)
    # No baseline is derived from a figure: each is the figure as printed, or none.
    by_figure = {m.name: m for m in METRICS if m.figure}
    assert by_figure["ICE prosecutorial-discretion releases recorded"].frequency == "annually"


@pytest.mark.parametrize("key", sorted(DATA_ELEMENTS))
def test_each_data_element_the_report_names_is_a_demo_metric_without_a_baseline(report_text, key):
    assert _words(DATA_ELEMENTS[key]) in report_text
    measured = [m for m in METRICS if m.element == key]
    assert len(measured) == 1
    assert measured[0].baseline is None and f"p. {DATA_ELEMENTS_PAGE}" in measured[0].baseline_period


def test_the_recommendation_response_and_finding_are_the_reports_words(report_text):
    for words in (RECOMMENDATION_TEXT, CONCURRENCE_RESPONSE, SUMMARY, REPORT_TITLE):
        assert _words(words) in report_text, words[:60]
    assert f"{REPORT_NUMBER} OFFICE OF INSPECTOR GENERAL" in report_text


MONTHS = {
    m: i
    for i, m in enumerate(
        (
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
        start=1,
    )
}


def test_the_issue_date_fits_the_report(report_text):
    """The text starts after the report's cover, which prints the issue date: every date in it is
    earlier, the latest being the court filing of Feb. 23, 2015, and the fieldwork ended in January 2015."""
    assert ISSUED_ON == date(2015, 5, 4)
    days = [
        date(int(y), MONTHS[m], int(d))
        for m, d, y in re.findall(r"\b(" + "|".join(MONTHS) + r") (\d{1,2}), (\d{4})", report_text)
    ]
    assert days and max(days) < ISSUED_ON
    assert "Feb. 23, 2015" in report_text and "between August 2014 and January 2015" in report_text
    # The oversight.gov listing the import tests use gives the same day.
    sample = (_repository() / "tests" / "data" / "oversight_sample.csv").read_text(encoding="utf-8")
    assert f"{REPORT_NUMBER},{REPORT_TITLE},05/04/2015" in sample


def test_the_demo_loads_the_report_as_printed(demo, db):
    report = db.session.scalar(sa.select(Report).where(Report.number == REPORT_NUMBER))
    assert report.printed_issued_on == ISSUED_ON and report.issued_on > ISSUED_ON
    rec = db.session.scalar(sa.select(Recommendation).where(Recommendation.report_id == report.id))
    assert rec.priority is False  # the report names no priority for this recommendation
    assert rec.text == RECOMMENDATION_TEXT and rec.concurrence == "concur"
    metrics = {m.name: m for m in db.session.scalars(sa.select(Metric))}
    for d in METRICS:
        if d.figure:
            assert metrics[d.name].baseline_value == FIGURES[d.figure].value
            assert metrics[d.name].baseline_period == d.baseline_period
        if d.element:
            assert metrics[d.name].baseline_value is None


@pytest.mark.parametrize("url", ["/", "/recommendations/1", "/reports/1", "/reports/"])
def test_pages_show_the_printed_issue_date_and_label_the_replayed_one(client, login_as, demo, db, url):
    report = db.session.scalar(sa.select(Report).where(Report.number == REPORT_NUMBER))
    login_as("oig_reviewer")
    page = client.get(url).get_data(as_text=True)
    replayed = report.issued_on.strftime("%b %-d, %Y")
    assert f'May 4, 2015 <span class="app-replayed">(deadlines replayed from {replayed})</span>' in page
    if url == "/recommendations/1":
        assert (
            f"Replayed for the demonstration: these deadlines count from {replayed}, not from the printed "
            f"issue date, May 4, 2015."
        ) in page
    if url == "/":
        assert "The demonstration report’s deadlines are replayed" in page


def test_the_plan_document_gives_the_printed_issue_date(client, login_as, demo):
    login_as("oig_reviewer")
    from docx import Document
    import io

    document = Document(io.BytesIO(client.get("/exports/recommendations/1/plan.docx").data))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert any(c.startswith("DHS Office of Inspector General, 2015-05-04 (deadlines replayed from ") for c in cells)


@pytest.mark.parametrize("role", ["action_office", "oig_reviewer", "manager", "admin"])
def test_the_banner_is_on_every_page_while_the_demo_is_loaded(client, login_as, demo, role):
    login_as(role)
    for url in ("/", "/exports/semiannual", "/calendar"):
        page = client.get(url, follow_redirects=True).get_data(as_text=True)
        assert 'class="usa-site-alert usa-site-alert--info usa-site-alert--slim app-demo-alert"' in page, url
        assert "Illustrative: the milestones, metric readings and targets, evidence, comments and people." in page
    client.delete_cookie("session")
    assert "Demonstration data is loaded." in client.get("/sign-in").get_data(as_text=True)


def test_no_banner_without_the_demo(client, login_as, make, db):
    make.recommendation()
    db.session.commit()
    login_as("oig_reviewer")
    assert "usa-site-alert" not in client.get("/").get_data(as_text=True)
    assert "usa-site-alert" not in client.get("/sign-in").get_data(as_text=True)


def test_exports_give_the_printed_issue_date_with_the_replayed_one(client, login_as, demo, db):
    import csv
    import io

    report = db.session.scalar(sa.select(Report).where(Report.number == REPORT_NUMBER))
    login_as("oig_reviewer")
    expected = f"2015-05-04 (deadlines replayed from {report.issued_on.isoformat()})"
    text = client.get("/exports/recommendations.csv").data.decode("utf-8-sig")
    assert [r["Issued"] for r in csv.DictReader(io.StringIO(text))] == [expected]
