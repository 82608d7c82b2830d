import sqlalchemy as sa
from flask import abort, g

from app import audit
from app.dbtypes import unique_or_taken
from app.extensions import db
from app.recommendations.models import Recommendation
from app.reports.models import Report

REPORT_FIELDS = ("number", "title", "issued_on", "oig_office", "agency", "summary")
RECOMMENDATION_FIELDS = (
    "number",
    "text",
    "action_office_id",
    "priority",
    "questioned_costs",
    "unsupported_costs",
    "funds_put_to_better_use",
    "issued_on",
)


def demo_loaded_statement() -> sa.Exists:
    """Whether a report runs its clocks from a replayed issue date (partial index
    ``ix_reports_printed_issued_on``: one index probe, not a scan of every report)."""
    return sa.exists().where(Report.printed_issued_on.is_not(None))


def demo_loaded() -> bool:
    """Whether a report runs its clocks from a replayed issue date: the demo is loaded.

    For the site-wide banner (templates/base.html): once a request, read with the header's
    figures when the user is signed in (app/notifications/routes.py, ``header_counts``), else
    its own query; none when the page already failed on the database (an error page must still
    render).
    """
    if "demo_loaded" not in g:
        try:
            g.demo_loaded = bool(db.session.scalar(sa.select(demo_loaded_statement())))
        except sa.exc.SQLAlchemyError:
            g.demo_loaded = False
    return g.demo_loaded


#: How the edit forms and the conflict page name each corrected field.
REPORT_LABELS = {
    "number": "Report number",
    "title": "Title",
    "issued_on": "Issue date",
    "oig_office": "Issuing OIG office",
    "agency": "Audited agency or component",
    "summary": "Summary",
}
RECOMMENDATION_LABELS = {
    "number": "Recommendation number",
    "text": "Recommendation text",
    "action_office_id": "Action office",
    "priority": "Priority recommendation",
    "questioned_costs": "Questioned costs (USD)",
    "unsupported_costs": "Of which unsupported costs (USD)",
    "funds_put_to_better_use": "Funds put to better use (USD)",
    "issued_on": "Issue date",
}


def get_report_or_404(report_id: int) -> Report:
    report = db.session.get(Report, report_id)
    if report is None:
        abort(404)
    return report


def list_reports() -> list[tuple[Report, int]]:
    """Every report with its number of recommendations, newest first, in one query."""
    count = (
        sa.select(sa.func.count(Recommendation.id))
        .where(Recommendation.report_id == Report.id)
        .correlate(Report)
        .scalar_subquery()
    )
    return list(db.session.execute(sa.select(Report, count).order_by(Report.issued_on.desc(), Report.number)).all())


def create_report(actor, **fields) -> Report:
    """Raises ``dbtypes.Taken`` when another report took the number since the form checked it."""
    report = Report(**fields)
    with unique_or_taken():
        db.session.add(report)
    audit.record("report.create", report, after=audit.snapshot(report, REPORT_FIELDS), actor=actor)
    return report


def add_recommendation(report: Report, actor, **fields) -> Recommendation:
    """Raises ``dbtypes.Taken`` when another recommendation of the report took the number since
    the form checked it."""
    with unique_or_taken():  # made inside: a refused one leaves nothing in the report's list
        recommendation = Recommendation(report=report, issued_on=report.issued_on, **fields)
        db.session.add(recommendation)
    audit.record(
        "recommendation.create",
        recommendation,
        after={"report": report.number, **audit.snapshot(recommendation, RECOMMENDATION_FIELDS)},
        recommendation_id=recommendation.id,
        actor=actor,
    )
    return recommendation


def correct_report(report: Report, actor, *, reason: str, **fields) -> bool:
    """OIG's correction of a report as entered: audited with its reason; True if anything changed.

    A new issue date moves with it the recommendations still dated as the report was (their
    clocks run from it), each audited too. Raises ``dbtypes.Taken`` as ``create_report`` does.
    """
    with unique_or_taken():
        before, after = audit.assign(report, REPORT_FIELDS, fields)
    if after == before:
        return False
    audit.record("report.correct", report, before=before, after={**after, "reason": reason}, actor=actor)
    if report.issued_on != before["issued_on"]:
        for recommendation in report.recommendations:
            if recommendation.issued_on == before["issued_on"]:
                correct_recommendation(
                    recommendation,
                    actor,
                    reason=f"The report's issue date was corrected: {reason}",
                    issued_on=report.issued_on,
                )
    return True


def correct_recommendation(recommendation: Recommendation, actor, *, reason: str, **fields) -> bool:
    """OIG's correction of a recommendation as issued: audited with its reason; True if anything
    changed. Raises ``dbtypes.Taken`` as ``add_recommendation`` does."""
    with unique_or_taken():
        before, after = audit.assign(recommendation, RECOMMENDATION_FIELDS, fields)
    if after == before:
        return False
    audit.record(
        "recommendation.correct",
        recommendation,
        before=before,
        after={**after, "reason": reason},
        recommendation_id=recommendation.id,
        actor=actor,
    )
    return True
