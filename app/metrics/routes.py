import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from app.auth.models import User
from app.approvals import request_numbers
from app.extensions import db
from app.inputs import form_id, page_status
from app.metrics import bp
from app.metrics.forms import ActionForm, ImportForm, MetricForm, ReadingForm
from app.metrics.reading_rules import check_readings_csv
from app.metrics.models import (
    COMPONENTS,
    DATA_QUALITY_INPUTS,
    DATA_QUALITY_KINDS,
    Flag,
    ImprovementAction,
    Metric,
    Reading,
    ReadingRevision,
)
from app.metrics.actions import complete_action, outcomes_of, take_action
from app.metrics.charts import chart_csv, data_quality_chart, metric_chart
from app.metrics.csv_import import CSV_COLUMNS, apply_import
from app.metrics.definitions import (
    create_metric,
    update_metric,
    DEFINITION_LABELS,
    decide_target_change,
    get_target_change_or_404,
    pending_target_change,
)
from app.metrics.periods import parse_period
from app.metrics.services import (
    ReadingTaken,
    get_action_or_404,
    get_flag_or_404,
    get_loop_recommendation_or_404,
    get_metric_or_404,
    metrics_in_scope,
    save_reading,
    stored_reading,
    sync_flags,
)
from app.metrics.values import data_quality_value, parse_number, ParsedValue
from app.milestones.models import Milestone
from app.notifications import services as notify
from app.permissions import ANY_ROLE, can_edit_metrics, roles
from app.security import content_disposition
from app.recommendations.models import LineOfEffort
from app.recommendations.services import get_recommendation_or_404
from app.milestones.forms import DecisionForm
from app.timeutil import today
from app.versioning import guard

EDITORS = ("action_office", "admin")


def _metrics_of(recommendation_id: int, *options):
    return db.session.scalars(
        sa.select(Metric)
        .join(Metric.line_of_effort)
        .where(LineOfEffort.recommendation_id == recommendation_id)
        .options(*options)
        .order_by(LineOfEffort.position, Metric.kind != "outcome", Metric.id)
    ).all()


def _csv_response(text: str, filename: str) -> Response:
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": content_disposition(filename)})


# --- the loop ------------------------------------------------------------------------


@bp.route("/recommendations/<int:recommendation_id>/loop")
@roles(*ANY_ROLE)
def loop(recommendation_id: int):
    recommendation = get_loop_recommendation_or_404(recommendation_id)
    metrics = _metrics_of(recommendation.id)
    line_of = {m.id: m.line_of_effort_id for m in metrics}
    readings = dict(
        db.session.execute(
            sa.select(Reading.metric_id, sa.func.count())
            .join(Reading.metric)
            .join(Metric.line_of_effort)
            .where(LineOfEffort.recommendation_id == recommendation.id)
            .group_by(Reading.metric_id)
        ).all()
    )
    flags = db.session.scalars(
        sa.select(Flag)
        .join(Flag.metric)
        .join(Metric.line_of_effort)
        .where(LineOfEffort.recommendation_id == recommendation.id, Flag.status == "open")
        .order_by(Flag.period_end, Flag.id)
    ).all()
    actions = db.session.scalars(
        sa.select(ImprovementAction)
        .join(ImprovementAction.flag)
        .join(Flag.metric)
        .join(Metric.line_of_effort)
        .where(LineOfEffort.recommendation_id == recommendation.id, ImprovementAction.status == "open")
        .options(
            contains_eager(ImprovementAction.flag),
            joinedload(ImprovementAction.owner),
            joinedload(ImprovementAction.milestone),
        )
        .order_by(ImprovementAction.id)
    ).all()
    metric_by_id = {m.id: m for m in metrics}
    stages: dict[int, dict[str, list]] = {
        line.id: {"metrics": [], "flags": [], "actions": []} for line in recommendation.lines_of_effort
    }
    for m in metrics:
        stages[m.line_of_effort_id]["metrics"].append(m)
    for f in flags:
        stages[line_of[f.metric_id]]["flags"].append(f)
    for a in actions:
        stages[line_of[a.flag.metric_id]]["actions"].append(a)
    return render_template(
        "metrics/loop.html",
        recommendation=recommendation,
        stages=stages,
        reading_counts=readings,
        metric_by_id=metric_by_id,
        today=today(),
    )


# --- metrics ---------------------------------------------------------------------------


@bp.route("/recommendations/<int:recommendation_id>/metrics")
@roles(*ANY_ROLE)
def index(recommendation_id: int):
    recommendation = get_recommendation_or_404(recommendation_id)
    metrics = _metrics_of(recommendation.id, selectinload(Metric.readings))
    quality = [m for m in metrics if m.kind in DATA_QUALITY_KINDS]
    quality_readings = [r for m in quality for r in m.readings]
    components = [
        c
        for c in COMPONENTS
        if any(r.component == c for r in quality_readings) or any(c in m.component_list for m in quality)
    ]
    latest = {}
    for r in quality_readings:
        latest[(r.metric_id, r.component)] = r  # readings come ordered by period end
    charts = {c: data_quality_chart(c, quality, quality_readings) for c in components}
    return render_template(
        "metrics/index.html",
        recommendation=recommendation,
        metrics=metrics,
        quality=quality,
        components=components,
        latest=latest,
        charts=charts,
        can_edit=can_edit_metrics(current_user, recommendation),
    )


@bp.route("/recommendations/<int:recommendation_id>/metrics/data-quality.csv")
@roles(*ANY_ROLE)
def data_quality_csv(recommendation_id: int):
    recommendation = get_recommendation_or_404(recommendation_id)
    quality = [m for m in _metrics_of(recommendation.id, selectinload(Metric.readings)) if m.kind in DATA_QUALITY_KINDS]
    component = request.args.get("component", "")
    chart = data_quality_chart(component, quality, [r for m in quality for r in m.readings])
    safe = "".join(ch if ch.isalnum() else "-" for ch in component) or "none"
    return _csv_response(chart_csv(chart), f"data-quality-{safe}.csv")


def _line_choices(recommendation):
    return [SelectChoice(line.id, f"{line.position}. {line.title}") for line in recommendation.lines_of_effort]


@bp.route("/recommendations/<int:recommendation_id>/metrics/new", methods=["GET", "POST"])
@roles(*EDITORS)
def new(recommendation_id: int):
    recommendation = get_recommendation_or_404(recommendation_id, for_edit=True)
    form = MetricForm()
    form.line_of_effort_id.choices = _line_choices(recommendation)
    if request.method == "GET" and request.args.get("line", type=int):  # type: ignore[arg-type]
        form.line_of_effort_id.data = request.args.get("line", type=int)
    if form.validate_on_submit():
        line = next(line for line in recommendation.lines_of_effort if line.id == form.line_of_effort_id.data)
        data = form.definition()
        data.pop("line_of_effort_id")
        metric = create_metric(line, data, today())
        db.session.commit()
        flash(f"Metric “{metric.name}” defined.", "success")
        return redirect(url_for("metrics.show", metric_id=metric.id))
    return render_template(
        "metrics/form.html",
        form=form,
        recommendation=recommendation,
        metric=None,
        quality_inputs=DATA_QUALITY_INPUTS,
        conflict=None,
    ), page_status(form)


@bp.route("/metrics/<int:metric_id>", methods=["GET", "POST"])
@roles(*ANY_ROLE)
def show(metric_id: int):
    """The metric; a manager's decision on its pending target change posts here (``action=decide_target``),
    so a refused decision comes back at this address with its summary and the reason typed."""
    if request.method == "POST":
        if request.form.get("action") != "decide_target":
            abort(400)
        return decide_target(metric_id)
    return _show(get_metric_or_404(metric_id))


def _show(metric: Metric, decision_form=None, status: int = 200):
    readings = db.session.scalars(
        sa.select(Reading)
        .where(Reading.metric_id == metric.id)
        .options(selectinload(Reading.history).joinedload(ReadingRevision.entered_by), joinedload(Reading.entered_by))
        .order_by(Reading.period_end, Reading.component, Reading.id)
    ).all()
    flags = db.session.scalars(
        sa.select(Flag)
        .where(Flag.metric_id == metric.id)
        .options(
            selectinload(Flag.actions).options(
                joinedload(ImprovementAction.owner), joinedload(ImprovementAction.milestone)
            )
        )
        .order_by(Flag.period_end.desc(), Flag.component, Flag.id)
    ).all()
    outcomes = outcomes_of(flags, readings, {metric.id: metric})
    recommendation = metric.line_of_effort.recommendation
    pending = pending_target_change(metric)
    return render_template(
        "metrics/show.html",
        metric=metric,
        recommendation=recommendation,
        readings=readings,
        flags=flags,
        outcomes=outcomes,
        chart=metric_chart(metric, readings),
        can_edit=can_edit_metrics(current_user, recommendation),
        pending_target=pending,
        request_numbers=request_numbers(metric.target_changes),
        earlier=notify.earlier_decline(pending) if pending else "",
        decision_form=decision_form or DecisionForm(formdata=None),
    ), status


@bp.route("/metrics/<int:metric_id>/readings.csv")
@roles(*ANY_ROLE)
def readings_csv(metric_id: int):
    metric = get_metric_or_404(metric_id)
    readings = db.session.scalars(sa.select(Reading).where(Reading.metric_id == metric.id)).all()
    return _csv_response(chart_csv(metric_chart(metric, readings)), f"metric-{metric.id}.csv")


@bp.route("/metrics/<int:metric_id>/edit", methods=["GET", "POST"])
@roles(*EDITORS)
def edit(metric_id: int):
    metric = get_metric_or_404(metric_id, for_edit=True)
    recommendation = get_recommendation_or_404(metric.line_of_effort.recommendation_id, for_edit=True)
    form = MetricForm(obj=metric)
    form.line_of_effort_id.choices = _line_choices(recommendation)
    form.stored_target = (metric.target_value, metric.target_on)
    if request.method == "GET":
        form.components.data = ", ".join(metric.component_list)
        form.baseline_value.data = _plain(metric.baseline_value)
        form.target_value.data = _plain(metric.target_value)
        form.justification.data = ""
        form.set_version(metric.version)
    conflict = None
    if form.validate_on_submit():
        with guard(metric, form, DEFINITION_LABELS, values=_metric_entries(form)) as saved:
            change = update_metric(
                metric, form.definition(), today(), justification=(form.justification.data or "").strip()
            )
            db.session.commit()
        conflict = saved.conflict
        if conflict is None:
            if change is not None and change.status == "pending":
                flash(
                    "Metric saved. The new target awaits a manager's approval; the current target stays until then.",
                    "success",
                )
            else:
                flash("Metric updated.", "success")
            return redirect(url_for("metrics.show", metric_id=metric.id))
    status = page_status(form, conflict)
    return render_template(
        "metrics/form.html",
        form=form,
        recommendation=recommendation,
        metric=metric,
        quality_inputs=DATA_QUALITY_INPUTS,
        conflict=conflict,
    ), status


def _metric_entries(form: MetricForm) -> dict:
    """The form's entries as the audit stores them (numbers parsed, components joined)."""
    try:
        return form.definition()
    except Exception:  # an entry that does not parse is shown as typed
        return {}


def decide_target(metric_id: int):
    change = get_target_change_or_404(form_id("change_id"), for_decision=True)
    if change.metric_id != metric_id:
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit() or not (form.reason.data or "").strip():
        if not form.errors:
            form.reason.errors = ["Give the reason for your decision."]
        return _show(get_metric_or_404(metric_id), decision_form=form, status=400)
    approve = bool(form.approve.data)
    decide_target_change(change, approve=approve, reason=form.reason.data.strip(), today=today(), actor=current_user)
    db.session.commit()
    flash("Target change approved." if approve else "Target change declined.", "success")
    return redirect(url_for("metrics.show", metric_id=change.metric_id))


def _plain(value) -> str:
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@bp.route("/metrics/<int:metric_id>/readings/new", methods=["GET", "POST"])
@roles(*EDITORS)
def new_reading(metric_id: int):
    metric = get_metric_or_404(metric_id, for_edit=True)
    components = set(metric.component_list)
    read: dict[str, set] = {}
    for period, component in db.session.execute(
        sa.select(Reading.period, Reading.component).where(Reading.metric_id == metric.id)
    ):
        read.setdefault(period, set()).add(component)
    form = ReadingForm(metric, today=today(), have={p for p, cs in read.items() if components <= cs})
    if request.method == "GET":
        form.period.data = request.args.get("period", "")
        if request.args.get("component") in metric.component_list:
            form.component.data = request.args["component"]
        stored = _stored_reading(metric, form.period.data, form.component.data)
        if stored is not None:  # a correction: saved only over the value seen here
            form.set_version(stored.version)
    conflict = None
    if form.validate_on_submit():
        if form.is_data_quality:
            numerator, denominator = parse_number(form.numerator.data), parse_number(form.denominator.data)
            parsed = ParsedValue(data_quality_value(metric.kind, numerator, denominator), numerator, denominator)
        else:
            parsed = ParsedValue(parse_number(form.value.data))
        stored = _stored_reading(metric, form.period.data, form.component.data)
        outcome, raised = None, []
        if stored is None:
            try:
                _, outcome = save_reading(
                    metric, form.period.data, form.component.data, parsed, (form.note.data or "").strip(), current_user
                )
            except ReadingTaken as taken:
                form.period.errors.append(taken.problem[:1].upper() + taken.problem[1:] + ".")
            else:
                raised = sync_flags(metric, today(), actor=current_user)
                db.session.commit()
        else:
            entries = {"value": parsed.value, "numerator": parsed.numerator, "denominator": parsed.denominator}
            with guard(stored, form, READING_LABELS, values=entries) as saved:
                _, outcome = save_reading(
                    metric, form.period.data, form.component.data, parsed, (form.note.data or "").strip(), current_user
                )
                raised = sync_flags(metric, today(), actor=current_user)
                db.session.commit()
            conflict = saved.conflict
        if conflict is None and outcome is not None:
            message = {
                "created": "Reading saved.",
                "corrected": "Reading corrected; the earlier value is kept in its history.",
                "unchanged": "The reading already had this value; nothing changed.",
            }[outcome]
            if raised:
                message += f" {len(raised)} flag{'s' if len(raised) > 1 else ''} raised."
            flash(message, "warning" if raised else "success")
            return redirect(url_for("metrics.show", metric_id=metric.id))
    status = page_status(form, conflict)
    return render_template(
        "metrics/reading_form.html",
        form=form,
        metric=metric,
        conflict=conflict,
        recommendation=metric.line_of_effort.recommendation,
    ), status


READING_LABELS = {"value": "Value", "numerator": "Count", "denominator": "Out of", "note": "Note"}


def _stored_reading(metric: Metric, period: str, component: str) -> Reading | None:
    """The reading a form's period (as typed) and component name, if one is stored."""
    try:
        period = parse_period(metric.frequency, period or "")
    except ValueError:
        return None
    return stored_reading(metric, period, component or "")


@bp.route("/recommendations/<int:recommendation_id>/metrics/import", methods=["GET", "POST"])
@roles(*EDITORS)
def import_readings(recommendation_id: int):
    recommendation = get_recommendation_or_404(recommendation_id, for_edit=True)
    form = ImportForm()
    check = None
    status = 200
    if form.validate_on_submit():
        check = check_readings_csv(form.file.data.read(), metrics_in_scope(recommendation.id), today())
        if check.ok:
            try:
                counts = apply_import(check, today(), actor=current_user)
            except ReadingTaken as taken:
                db.session.rollback()  # all or nothing: the rows saved before it go too
                check.problems.append((taken.line, taken.problem))
            else:
                db.session.commit()
                flash(
                    f"Imported {len(check.rows)} rows: {counts['created']} new readings, "
                    f"{counts['corrected']} corrected, {counts['unchanged']} unchanged.",
                    "success",
                )
                return redirect(url_for("metrics.index", recommendation_id=recommendation.id))
        status = 400
    elif form.errors:
        status = 400
    return render_template(
        "metrics/import.html",
        form=form,
        recommendation=recommendation,
        check=check,
        columns=CSV_COLUMNS,
        metrics=metrics_in_scope(recommendation.id),
    ), status


# --- monitor and improve ------------------------------------------------------------------


@bp.route("/recommendations/<int:recommendation_id>/flags")
@roles(*ANY_ROLE)
def flags(recommendation_id: int):
    recommendation = get_recommendation_or_404(recommendation_id)
    show_all = request.args.get("show") == "all"
    query = (
        sa.select(Flag)
        .join(Flag.metric)
        .join(Metric.line_of_effort)
        .where(LineOfEffort.recommendation_id == recommendation.id)
        .options(selectinload(Flag.actions).joinedload(ImprovementAction.milestone), joinedload(Flag.metric))
        .order_by(Flag.period_end.desc(), Metric.name, Flag.component, Flag.id)
    )
    if not show_all:
        query = query.where(Flag.status == "open")
    flag_list = db.session.scalars(query).unique().all()
    answered = [f for f in flag_list if f.status == "answered"]
    outcomes = {}
    if answered:
        later = db.session.scalars(
            sa.select(Reading).where(Reading.metric_id.in_({f.metric_id for f in answered})).order_by(Reading.id)
        ).all()
        outcomes = outcomes_of(answered, later, {f.metric_id: f.metric for f in answered})
    return render_template(
        "metrics/flags.html",
        recommendation=recommendation,
        flags=flag_list,
        show_all=show_all,
        outcomes=outcomes,
        can_edit=can_edit_metrics(current_user, recommendation),
    )


@bp.route("/flags/<int:flag_id>/action", methods=["GET", "POST"])
@roles(*EDITORS)
def new_action(flag_id: int):
    flag = get_flag_or_404(flag_id, for_edit=True)
    metric = flag.metric
    recommendation = metric.line_of_effort.recommendation
    if flag.status != "open":
        abort(409, "This flag is no longer open: it was answered or cleared. Nothing was changed.")
    owners = db.session.scalars(
        sa.select(User)
        .where(
            User.office_id == recommendation.action_office_id,
            User.role.in_(("action_office", "manager")),
            User.is_active_account.is_(True),
        )
        .order_by(User.name, User.id)
    ).all()
    milestones = db.session.scalars(
        sa.select(Milestone)
        .where(Milestone.line_of_effort_id == metric.line_of_effort_id)
        .order_by(Milestone.current_due_on, Milestone.id)
    ).all()
    form = ActionForm(owners, milestones)
    if request.method == "GET" and current_user in owners:
        form.owner_id.data = current_user.id
    if form.validate_on_submit():
        owner = next(u for u in owners if u.id == form.owner_id.data)
        milestone = next((m for m in milestones if m.id == form.milestone_id.data), None)
        action = take_action(
            flag,
            form.decision.data,
            owner,
            form.reason.data.strip(),
            today(),
            actor=current_user,
            new_target=form.new_target_value(),
            milestone_title=(form.milestone_title.data or "").strip(),
            milestone_due=form.milestone_due.data,
            milestone=milestone,
        )
        db.session.commit()
        flash(f"Improvement action recorded: {action.decision_label.lower()}.", "success")
        return redirect(url_for("metrics.flags", recommendation_id=recommendation.id))
    return render_template(
        "metrics/action_form.html", form=form, flag=flag, metric=metric, recommendation=recommendation
    ), page_status(form)


@bp.route("/improvement-actions/<int:action_id>/done", methods=["POST"])
@roles(*EDITORS)
def finish_action(action_id: int):
    action = get_action_or_404(action_id, for_edit=True)
    complete_action(action, current_user)
    db.session.commit()
    flash("Improvement action marked done.", "success")
    return redirect(url_for("metrics.loop", recommendation_id=action.flag.metric.line_of_effort.recommendation_id))
