import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from app.dbtypes import Taken
from app.extensions import db
from app.inputs import page_status
from app.offices.models import Office
from app.permissions import require_correct_records, roles
from app.recommendations.models import Recommendation
from app.recommendations.services import get_recommendation_or_404
from app.reports import bp, services
from app.reports.forms import (
    NUMBER_TAKEN,
    RecommendationEditForm,
    RecommendationForm,
    ReportEditForm,
    ReportForm,
    recommendation_number_taken,
)
from app.versioning import guard

REPORT_EDITORS = ("oig_reviewer", "admin")


@bp.route("/")
@roles(*REPORT_EDITORS)
def index():
    return render_template("reports/index.html", reports=services.list_reports())


@bp.route("/new", methods=["GET", "POST"])
@roles(*REPORT_EDITORS)
def new():
    form = ReportForm()
    if form.validate_on_submit():
        try:
            report = services.create_report(current_user, **form.values())
        except Taken:
            form.number.errors.append(NUMBER_TAKEN)
        else:
            db.session.commit()
            flash(f"Report {report.number} added. Now add its recommendations.", "success")
            return redirect(url_for("reports.new_recommendation", report_id=report.id))
    return render_template("reports/new.html", form=form), page_status(form)


@bp.route("/<int:report_id>")
@roles(*REPORT_EDITORS)
def show(report_id: int):
    report = services.get_report_or_404(report_id)
    recommendations = db.session.scalars(
        sa.select(Recommendation)
        .where(Recommendation.report_id == report.id)
        .options(joinedload(Recommendation.action_office))
        .order_by(Recommendation.id)
    ).all()
    return render_template("reports/show.html", report=report, recommendations=recommendations)


@bp.route("/<int:report_id>/recommendations/new", methods=["GET", "POST"])
@roles(*REPORT_EDITORS)
def new_recommendation(report_id: int):
    report = services.get_report_or_404(report_id)
    form = RecommendationForm(report)
    if form.validate_on_submit():
        try:
            recommendation = services.add_recommendation(report, current_user, **form.values())
        except Taken:
            form.number.errors.append(recommendation_number_taken(report, form.number.data))
        else:
            db.session.commit()
            flash(f"Recommendation {recommendation.number} added to {report.number}.", "success")
            return redirect(url_for("reports.show", report_id=report.id))
    return render_template("reports/new_recommendation.html", report=report, form=form), page_status(form)


# --- corrections ------------------------------------------------------------------


def _flash_corrected(what: str, changed: bool) -> None:
    """What a correction form says once saved: ``what`` was corrected, or nothing was changed."""
    flash(f"{what} corrected." if changed else "Nothing was changed.", "success" if changed else "info")


@bp.route("/<int:report_id>/edit", methods=["GET", "POST"])
@roles(*REPORT_EDITORS)
def edit(report_id: int):
    require_correct_records()
    report = services.get_report_or_404(report_id)
    form = ReportEditForm(report, obj=report)
    if request.method == "GET":
        form.set_version(report.version)
        form.reason.data = ""
    conflict = None
    if form.validate_on_submit():
        try:
            with guard(report, form, services.REPORT_LABELS) as saved:
                changed = services.correct_report(
                    report, current_user, reason=form.reason.data.strip(), **form.values()
                )
                db.session.commit()
        except Taken:
            db.session.rollback()  # the rest of the correction (its issue date) is refused with it
            form.number.errors.append(NUMBER_TAKEN)
        else:
            conflict = saved.conflict
            if conflict is None:
                _flash_corrected(f"Report {report.number}", changed)
                return redirect(url_for("reports.show", report_id=report.id))
    status = page_status(form, conflict)
    return render_template("reports/edit.html", form=form, report=report, conflict=conflict), status


def _office_names() -> dict[int, str]:
    return dict(db.session.execute(sa.select(Office.id, Office.name)).all())


@bp.route("/recommendations/<int:recommendation_id>/edit", methods=["GET", "POST"])
@roles(*REPORT_EDITORS)
def edit_recommendation(recommendation_id: int):
    require_correct_records()
    recommendation = get_recommendation_or_404(recommendation_id)
    report = recommendation.report
    form = RecommendationEditForm(report, recommendation, obj=recommendation)
    if request.method == "GET":
        form.set_version(recommendation.version)
        form.reason.data = ""
    conflict = None
    if form.validate_on_submit():
        names = _office_names()
        try:
            with guard(
                recommendation,
                form,
                services.RECOMMENDATION_LABELS,
                display={"action_office_id": lambda i: names.get(i, i)},
            ) as saved:
                changed = services.correct_recommendation(
                    recommendation, current_user, reason=form.reason.data.strip(), **form.values()
                )
                db.session.commit()
        except Taken:
            db.session.rollback()
            form.number.errors.append(recommendation_number_taken(report, form.number.data))
        else:
            conflict = saved.conflict
            if conflict is None:
                _flash_corrected(f"Recommendation {recommendation.number}", changed)
                return redirect(url_for("recommendations.show", recommendation_id=recommendation.id))
    status = page_status(form, conflict)
    return render_template(
        "reports/edit_recommendation.html", form=form, report=report, recommendation=recommendation, conflict=conflict
    ), status
