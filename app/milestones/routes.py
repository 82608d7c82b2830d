import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.approvals import request_numbers
from app.extensions import db
from app.history import change_lines, value_labels
from app.inputs import form_id, page_status
from app.pagination import page_number, paginate, paginate_bound
from app.milestones import bp, date_changes, dependencies, services
from app.milestones.forms import (
    CancelForm,
    CompleteForm,
    DecisionForm,
    DueDateForm,
    LineOfEffortForm,
    MilestoneForm,
    MoveForm,
    MyWorkFilterForm,
    UpdateForm,
    choices,
)
from app.milestones.models import Milestone
from app.milestones.my_work import my_work_row, my_work_statements, my_work_values
from app.metrics.definitions import target_decisions_awaiting
from app.notifications import queues
from app.notifications import services as notify
from app.permissions import ANY_ROLE, can_edit_milestone, roles
from app.recommendations import lines
from app.recommendations.models import LineOfEffort, Recommendation, recommendation_label
from app.recommendations.services import get_recommendation_or_404
from app.timeutil import today
from app.versioning import guard

EDITORS = ("action_office", "admin")


def _recommendation_url(recommendation_id: int, anchor: str | None = None) -> str:
    return url_for("recommendations.show", recommendation_id=recommendation_id, _anchor=anchor)


# --- lines of effort --------------------------------------------------------------


@bp.route("/recommendations/<int:recommendation_id>/lines/new", methods=["GET", "POST"])
@roles(*EDITORS)
def new_line(recommendation_id: int):
    recommendation = get_recommendation_or_404(recommendation_id, for_edit=True)
    form = LineOfEffortForm()
    form.lead_owner_id.choices = choices(services.owner_choices())
    if form.validate_on_submit():
        line = lines.create_line(recommendation, **form.values())
        db.session.commit()
        flash(f"Line of effort “{line.title}” added.", "success")
        return redirect(_recommendation_url(recommendation.id, f"loe-{line.id}"))
    return render_template(
        "milestones/line_form.html", form=form, recommendation=recommendation, line=None, conflict=None
    ), page_status(form)


@bp.route("/lines/<int:line_id>/edit", methods=["GET", "POST"])
@roles(*EDITORS)
def edit_line(line_id: int):
    line = lines.get_line_or_404(line_id, for_edit=True)
    form = LineOfEffortForm(obj=line)
    form.lead_owner_id.choices = choices(services.owner_choices())
    if request.method == "GET":
        form.lead_owner_id.data = line.lead_owner_id or 0
        form.set_version(line.version)
    conflict = None
    if form.validate_on_submit():
        owners = dict(services.owner_choices())
        with guard(line, form, lines.LINE_LABELS, display={"lead_owner_id": lambda i: owners.get(i or 0, i)}) as saved:
            lines.update_line(line, **form.values())
            db.session.commit()
        conflict = saved.conflict
        if conflict is None:
            flash(f"Line of effort “{line.title}” saved.", "success")
            return redirect(_recommendation_url(line.recommendation_id, f"loe-{line.id}"))
    status = page_status(form, conflict)
    return render_template(
        "milestones/line_form.html", form=form, recommendation=line.recommendation, line=line, conflict=conflict
    ), status


@bp.route("/lines/<int:line_id>/move/<any(up, down):direction>", methods=["POST"])
@roles(*EDITORS)
def move_line(line_id: int, direction: str):
    line = lines.get_line_or_404(line_id, for_edit=True)
    if not MoveForm().validate_on_submit():
        abort(400)
    if lines.move_line(line, direction):
        db.session.commit()
        flash(f"“{line.title}” moved {direction}.", "success")
    return redirect(_recommendation_url(line.recommendation_id, f"loe-{line.id}"))


# --- milestones -----------------------------------------------------------------


def _milestone_form(recommendation_id: int, milestone: Milestone | None = None, **kw) -> MilestoneForm:
    others = dependencies.plan_milestones(recommendation_id)
    form = MilestoneForm(
        milestone_id=milestone.id if milestone else None,
        current_due_on=milestone.current_due_on if milestone else None,
        edges=dependencies.dependency_edges(recommendation_id),
        titles={m.id: m.title for m in others},
        **kw,
    )
    form.owner_id.choices = choices(services.owner_choices())
    form.office_id.choices = choices(services.office_choices())
    form.depends_on.choices = choices(
        (m.id, f"{m.line_of_effort.title}: {m.title}") for m in others if milestone is None or m.id != milestone.id
    )
    return form


@bp.route("/lines/<int:line_id>/milestones/new", methods=["GET", "POST"])
@roles(*EDITORS)
def new_milestone(line_id: int):
    line = lines.get_line_or_404(line_id, for_edit=True)
    form = _milestone_form(line.recommendation_id)
    if request.method == "GET":
        form.office_id.data = line.recommendation.action_office_id
        form.owner_id.data = current_user.id if current_user.role == "action_office" else 0
    if form.validate_on_submit():
        milestone = services.create_milestone(line, due_on=form.due_on.data, **form.values())
        db.session.commit()
        flash(f"Milestone “{milestone.title}” added to {line.title}.", "success")
        return redirect(url_for("milestones.show", milestone_id=milestone.id))
    status = page_status(form)
    return render_template("milestones/form.html", form=form, line=line, milestone=None, conflict=None), status


#: The milestone page lists its latest status updates and changes, a page of each at a time, so that
#: its statements and rows do not grow with its history (a milestone may gather thousands of updates).
UPDATES_PER_PAGE = 10
HISTORY_PER_PAGE = 20

#: The forms of the milestone page, posted to the page's own URL (``action`` names the form),
#: so a form with errors comes back in place, at the same address, with the entries kept.
PAGE_ACTIONS = ("update", "due_date", "complete", "cancel", "decide")


@bp.route("/milestones/<int:milestone_id>", methods=["GET", "POST"])
@roles(*ANY_ROLE)
def show(milestone_id: int):
    if request.method == "POST":
        action = request.form.get("action")
        if action not in PAGE_ACTIONS:
            abort(400)
        return {
            "update": post_update,
            "due_date": change_due_date,
            "complete": complete,
            "cancel": cancel,
            "decide": decide,
        }[action](milestone_id)
    milestone = services.get_milestone_or_404(milestone_id, with_history=True)
    forms = _editor_forms(milestone) if can_edit_milestone(current_user, milestone) else {}
    return _render_show(milestone, forms)


def _render_show(milestone: Milestone, forms: dict, status: int = 200, decision_form=None, conflict=None):
    recommendation = milestone.line_of_effort.recommendation
    pending = date_changes.pending_change(milestone)
    if decision_form is None and pending is not None:
        decision_form = DecisionForm(formdata=None)
    history = paginate(services.history_query(milestone.id), HISTORY_PER_PAGE, page_number("history_page"))
    numbers = request_numbers(milestone.date_changes)
    return render_template(
        "milestones/show.html",
        milestone=milestone,
        recommendation=recommendation,
        forms=forms,
        decision_form=decision_form,
        pending=pending,
        earlier=notify.earlier_decline(pending) if pending else "",
        today=today(),
        conflict=conflict,
        accepted=services.plan_accepted(recommendation),
        blocking=dependencies.open_dependencies(milestone),
        updates=paginate(services.updates_query(milestone.id), UPDATES_PER_PAGE, page_number("updates_page")),
        history=history,
        changes=_history_lines(milestone, history.items, numbers),
        request_numbers=numbers,
    ), status


def _history_lines(milestone: Milestone, events, numbers: dict[int, int]) -> dict[int, list[tuple[str, str]]]:
    """What each event of a page of the history changed, in labelled lines (app/history.py), from
    what the page has loaded: no query per event. ``numbers`` names the milestone's requests."""
    labels = value_labels()
    titles = {m.id: m.title for m in milestone.depends_on}
    return {e.id: change_lines(e, labels, requests=numbers, titles=titles) for e in events}


@bp.route("/milestones/<int:milestone_id>/edit", methods=["GET", "POST"])
@roles(*EDITORS)
def edit(milestone_id: int):
    milestone = services.get_milestone_or_404(milestone_id, for_edit=True)
    recommendation_id = milestone.line_of_effort.recommendation_id
    form = _milestone_form(recommendation_id, milestone, obj=milestone)
    if request.method == "GET":
        form.owner_id.data = milestone.owner_id or 0
        form.depends_on.data = [d.id for d in milestone.depends_on]
        form.set_version(milestone.version)
    conflict = None
    if form.validate_on_submit():
        with guard(milestone, form, services.FIELD_LABELS, values=_milestone_entries(form)) as saved:
            services.update_milestone(milestone, **form.values())
            db.session.commit()
        conflict = saved.conflict
        if conflict is None:
            flash("Milestone saved.", "success")
            return redirect(url_for("milestones.show", milestone_id=milestone.id))
    status = page_status(form, conflict)
    return render_template(
        "milestones/form.html", form=form, line=milestone.line_of_effort, milestone=milestone, conflict=conflict
    ), status


def _editor_forms(milestone: Milestone, submitted=None) -> dict:
    """The milestone page's forms, blank at the current version; ``submitted`` keeps what was typed."""
    dates = {"start_on": milestone.start_on, "current_due_on": milestone.current_due_on}
    forms = {
        "update": UpdateForm(formdata=None),
        "complete": CompleteForm(formdata=None),
        "cancel": CancelForm(formdata=None),
        "due_date": DueDateForm(formdata=None, **dates),
    }
    for form in forms.values():
        form.set_version(milestone.version)
    forms["update"].status.data = "in_progress"
    forms["update"].percent_complete.data = milestone.percent_complete
    for name, form in forms.items():
        if submitted is not None and type(form) is type(submitted):
            forms[name] = submitted
    return forms


def _act(milestone_id: int, form_cls, action, form_kw=None):
    """The small POST forms of the milestone page: validate, check the version, act, commit.

    ``action(milestone, form)`` returns the message to flash.
    """
    # The history (every update and date change) is loaded only to show the page again: a save
    # that goes through redirects, and its cost would grow with the milestone's history.
    milestone = services.get_milestone_or_404(milestone_id, for_edit=True)
    form = form_cls(**(form_kw(milestone) if form_kw else {}))
    if not form.validate_on_submit():
        milestone = services.get_milestone_or_404(milestone_id, for_edit=True, with_history=True)
        return _render_show(milestone, _editor_forms(milestone, form), 400)
    with guard(milestone, form, services.FIELD_LABELS) as saved:
        message = action(milestone, form)
        db.session.commit()
    if saved.conflict is not None:
        milestone = services.get_milestone_or_404(milestone_id, for_edit=True, with_history=True)
        return render_template_conflict(milestone, form, saved.conflict)
    flash(message, "success")
    return redirect(url_for("milestones.show", milestone_id=milestone_id))


def _milestone_entries(form: MilestoneForm) -> dict:
    """The edit form's entries under the names the milestone's audit snapshot uses."""

    def label(select, value):
        return next((c.label for c in select.choices if c.value == value), value)

    owner = label(form.owner_id, form.owner_id.data) if form.owner_id.data else None
    office = label(form.office_id, form.office_id.data)
    return {
        "owner": owner.split(" (")[0] if owner else None,
        "office": str(office).split(":")[0],
        "depends_on": sorted(form.depends_on.data or []),
    }


def render_template_conflict(milestone: Milestone, form, changes):
    """409: what changed since the page was opened, and the user's entries kept in their form."""
    return _render_show(milestone, _editor_forms(milestone, form), 409, conflict=changes)


def post_update(milestone_id: int):
    def act(m, f):
        services.post_update(
            m, noted_on=f.noted_on.data, note=f.note.data, status=f.status.data, percent=f.percent_complete.data
        )
        return "Update posted."

    return _act(milestone_id, UpdateForm, act)


def complete(milestone_id: int):
    def act(m, f):
        services.complete(m, completed_on=f.completed_on.data, note=f.note.data)
        return "Milestone marked completed."

    return _act(milestone_id, CompleteForm, act)


def cancel(milestone_id: int):
    def act(m, f):
        services.cancel(m, note=f.note.data)
        return "Milestone cancelled."

    return _act(milestone_id, CancelForm, act)


def change_due_date(milestone_id: int):
    def act(m, f):
        change = date_changes.change_due_date(m, new_due_on=f.new_due_on.data, justification=f.justification.data)
        if change.status == "pending":
            return "Due-date change requested; a manager of the office will approve or decline it."
        return "Due date changed."

    return _act(
        milestone_id, DueDateForm, act, form_kw=lambda m: {"start_on": m.start_on, "current_due_on": m.current_due_on}
    )


def decide(milestone_id: int):
    """A manager's decision on the milestone's pending date change (``change_id`` names the change the page showed)."""
    change = date_changes.get_date_change_or_404(form_id("change_id"), for_decision=True)
    if change.milestone_id != milestone_id:
        abort(404)
    form = DecisionForm()
    if form.validate_on_submit():
        approve = bool(form.approve.data)
        date_changes.decide_date_change(change, approve=approve, reason=form.reason.data)
        db.session.commit()
        flash("Due-date change approved." if approve else "Due-date change declined.", "success")
        return redirect(url_for("milestones.show", milestone_id=change.milestone_id))
    milestone = services.get_milestone_or_404(change.milestone_id, with_history=True)
    forms = _editor_forms(milestone) if can_edit_milestone(current_user, milestone) else {}
    return _render_show(milestone, forms, 400, decision_form=form)


# --- my work and the timeline ----------------------------------------------------

MY_WORK_PER_PAGE = 50


@bp.route("/my-work")
@roles("action_office", "manager", "admin")
def my_work():
    form = MyWorkFilterForm(request.args)
    status = form.status.data if form.status.data in {c.value for c in form.status.choices} else ""
    statements = my_work_statements(
        line=bool(form.line.data),
        office=bool(form.office.data),
        status="open" if status == "open" else (status and "one"),
    )
    values = my_work_values(current_user, line_id=form.line.data, status=status or None, office_id=form.office.data)
    lines = db.session.execute(statements.lines, values).all()
    offices = db.session.execute(statements.offices, values).all()
    form.line.choices = choices(
        [("", "Any line of effort")]
        + [(i, f"{recommendation_label(report, rec)}: {title}") for i, title, rec, report in lines]
    )
    form.office.choices = choices([("", "Any office")] + [(i, c) for i, c in offices])
    page = paginate_bound(
        statements.page, values, MY_WORK_PER_PAGE, db.session.scalar(statements.count, values), my_work_row
    )
    return render_template(
        "milestones/my_work.html",
        form=form,
        page=page,
        today=values["on"],
        # The date changes themselves are decided in the manager's queue; My work gives their number and links there.
        awaiting_approval=queues.approval_page(current_user, 1, 1, kinds=("date_change",))
        if queues.has_queue(current_user) and current_user.role == "manager"
        else None,
        target_decisions=target_decisions_awaiting(current_user),
    )


def _gantt_tasks(recommendation: Recommendation) -> list[dict]:
    tasks = []
    for line in recommendation.lines_of_effort:
        for m in line.milestones:
            start = m.start_on or min(m.baseline_due_on, m.current_due_on)
            tasks.append(
                {
                    "id": f"m{m.id}",
                    "name": f"{line.title}: {m.title}",
                    "start": start.isoformat(),
                    "end": max(start, m.current_due_on).isoformat(),
                    "progress": m.percent_complete,
                    "dependencies": ",".join(f"m{d.id}" for d in m.depends_on),
                    "custom_class": "app-gantt-" + ("overdue" if m.is_overdue() else m.status),
                }
            )
            if m.baseline_due_on != m.current_due_on:
                tasks.append(
                    {
                        "id": f"b{m.id}",
                        "name": f"{m.title} (baseline)",
                        "start": start.isoformat(),
                        "end": max(start, m.baseline_due_on).isoformat(),
                        "progress": 0,
                        "custom_class": "app-gantt-baseline",
                    }
                )
    return tasks


@bp.route("/recommendations/<int:recommendation_id>/timeline")
@roles(*ANY_ROLE)
def timeline(recommendation_id: int):
    recommendation = get_recommendation_or_404(recommendation_id, with_plan=True)
    # The plan loader does not fetch dependencies: load them for every milestone in one query.
    db.session.scalars(
        sa.select(Milestone)
        .join(Milestone.line_of_effort)
        .where(LineOfEffort.recommendation_id == recommendation_id)
        .options(selectinload(Milestone.depends_on))
    ).all()
    return render_template(
        "milestones/timeline.html", recommendation=recommendation, today=today(), tasks=_gantt_tasks(recommendation)
    )
