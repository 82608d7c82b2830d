from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app.evidence import bp, extract, services
from app.evidence.forms import MAX_FILES, NewVersionForm, ReviewForm, RunCheckForm, UploadForm, WithdrawForm
from app.evidence.models import EvidenceItem
from app.evidence.storage import get_storage
from app.evidence.uploads import discard_incoming
from app.extensions import db
from app.inputs import page_status
from app.permissions import ANY_ROLE, can_edit_plan, roles
from app.security import content_disposition
from app.templating import filesize
from app.errors import render_error

bp.teardown_request(discard_incoming)


@bp.errorhandler(413)
def too_large(_error):
    limit = filesize(current_app.config["MAX_CONTENT_LENGTH"])
    return render_error(
        413,
        f"The upload is larger than the {limit} this site accepts in one go. Nothing was "
        "saved. Upload fewer files at a time, or a smaller version of the file.",
    )


def _upload_form() -> UploadForm:
    """The upload form, with as many file rows as ``?rows=`` asks for (no JavaScript needed)."""
    form = UploadForm()
    if request.method == "GET":
        rows = min(max(request.args.get("rows", 1, type=int), 1), MAX_FILES)
        while len(form.files) < rows:
            form.files.append_entry()
    return form


def _store_uploads(form: UploadForm, recommendation, milestone):
    storage = get_storage()
    with storage.saving() as batch:
        items = [
            services.add_item(
                recommendation,
                milestone,
                title=entry.form.title.data,
                description=entry.form.description.data,
                inspected=entry.form.file.inspected,
                batch=batch,
            )
            for entry in form.files
        ]
        db.session.commit()
    # After the commit, outside its transaction: a file whose words cannot be read stays uploaded.
    extract.index_versions([item.versions[0].id for item in items])
    flash(f"{len(items)} {'file' if len(items) == 1 else 'files'} uploaded.", "success")


@bp.route("/recommendations/<int:recommendation_id>/evidence", methods=["GET", "POST"])
@roles(*ANY_ROLE)
def recommendation_evidence(recommendation_id: int):
    recommendation = services.get_recommendation_or_404(recommendation_id, for_edit=request.method == "POST")
    form = _upload_form()
    if form.validate_on_submit():
        _store_uploads(form, recommendation, None)
        return redirect(url_for(".recommendation_evidence", recommendation_id=recommendation.id))
    items = services.items_for(recommendation.id, general=True)
    counts = services.counts_by_milestone(recommendation.id)
    lines = services.plan_outline(recommendation.id)
    return render_template(
        "evidence/recommendation.html",
        recommendation=recommendation,
        items=items,
        counts=counts,
        lines=lines,
        form=form,
        can_upload=can_edit_plan(current_user, recommendation),
    ), page_status(form)


@bp.route("/milestones/<int:milestone_id>/evidence", methods=["GET", "POST"])
@roles(*ANY_ROLE)
def milestone_evidence(milestone_id: int):
    milestone = services.get_milestone_or_404(milestone_id, for_edit=request.method == "POST")
    recommendation = milestone.line_of_effort.recommendation
    form = _upload_form()
    if form.validate_on_submit():
        _store_uploads(form, recommendation, milestone)
        return redirect(url_for(".milestone_evidence", milestone_id=milestone.id))
    items = services.items_for(recommendation.id, milestone.id)
    return render_template(
        "evidence/milestone.html",
        milestone=milestone,
        recommendation=recommendation,
        items=items,
        form=form,
        can_upload=can_edit_plan(current_user, recommendation),
    ), page_status(form)


def _item_page(item: EvidenceItem, *, version_form=None, review_form=None, withdraw_form=None, status=200):
    item = services.load_item_page(item.id)
    return render_template(
        "evidence/item.html",
        item=item,
        recommendation=item.recommendation,
        version_form=version_form or NewVersionForm(formdata=None),
        review_form=review_form or ReviewForm(formdata=None),
        withdraw_form=withdraw_form or WithdrawForm(formdata=None),
    ), status


@bp.route("/evidence/<int:item_id>", methods=["GET", "POST"])
@roles(*ANY_ROLE)
def item(item_id: int):
    """The item; its forms (a new version, OIG's review, withdrawal) post here, ``action`` naming the
    form, so a refused entry comes back at this address with its summary and the entries kept."""
    if request.method == "POST":
        services.get_item_or_404(item_id)  # who may not see it is refused before anything is read
        handler = {"version": new_version, "review": review, "withdraw": withdraw}.get(request.form.get("action", ""))
        if handler is None:
            abort(400)
        return handler(item_id)
    return _item_page(services.get_item_or_404(item_id))


def new_version(item_id: int):
    item = services.get_item_or_404(item_id, for_edit=True)
    form = NewVersionForm()
    if not form.validate_on_submit():
        return _item_page(item, version_form=form, status=400)
    # Locked only now, so that a slow virus scan does not hold the row.
    item = services.get_item_or_404(item_id, for_edit=True, lock=True)
    with get_storage().saving() as batch:
        version = services.add_version(item, note=form.note.data, inspected=form.file.inspected, batch=batch)
        db.session.commit()
    extract.index_versions([version.id])
    flash(f"Version {version.number} uploaded. Earlier versions stay available below.", "success")
    return redirect(url_for(".item", item_id=item_id))


def review(item_id: int):
    item = services.get_item_or_404(item_id, for_review=True, lock=True)
    form = ReviewForm()
    if not form.validate_on_submit():
        db.session.rollback()
        return _item_page(item, review_form=form, status=400)
    entry = services.review(item, decision=form.decision.data, comment=form.comment.data)
    db.session.commit()
    flash(f"Marked {entry.decision_label.lower()}.", "success")
    return redirect(url_for(".item", item_id=item_id))


def withdraw(item_id: int):
    item = services.get_item_or_404(item_id, for_edit=True, lock=True)
    form = WithdrawForm()
    if not form.validate_on_submit():
        db.session.rollback()
        return _item_page(item, withdraw_form=form, status=400)
    services.withdraw(item, reason=form.reason.data)
    db.session.commit()
    flash("The evidence was withdrawn. Its record and files are kept.", "success")
    return redirect(url_for(".item", item_id=item_id))


def _send(version, *, inline: bool):
    response = send_file(
        get_storage().open(version.storage_key),
        mimetype=version.content_type,
        as_attachment=not inline,
        download_name=version.original_filename,
        etag=version.sha256,
        conditional=True,
        max_age=0,
    )
    response.headers["Content-Disposition"] = content_disposition(
        version.original_filename, "inline" if inline else "attachment"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    # The file is the client's document, never part of our pages: no script, no plugins.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; script-src 'none'; object-src 'none'; frame-ancestors 'self'; sandbox"
    )
    return response


@bp.route("/evidence/versions/<int:version_id>/download")
@roles(*ANY_ROLE)
def download(version_id: int):
    return _send(services.get_version_or_404(version_id), inline=False)


@bp.route("/evidence/versions/<int:version_id>/preview")
@roles(*ANY_ROLE)
def preview(version_id: int):
    version = services.get_version_or_404(version_id)
    if not version.is_image:
        return redirect(url_for(".download", version_id=version.id))
    return _send(version, inline=True)


@bp.route("/evidence/attention")
@roles(*ANY_ROLE)
def attention():
    insufficient, unproven, awaiting = services.needs_attention(current_user)
    return render_template("evidence/attention.html", insufficient=insufficient, unproven=unproven, awaiting=awaiting)


@bp.route("/evidence/integrity", methods=["GET", "POST"])
@roles("admin")
def integrity():
    form = RunCheckForm()
    if form.validate_on_submit():
        check = services.verify_all(get_storage())
        db.session.commit()
        flash(
            "Every stored file matches its record."
            if check.ok
            else f"{len(check.problem_list)} stored files are missing or altered.",
            "success" if check.ok else "error",
        )
        return redirect(url_for(".integrity"))
    return render_template(
        "evidence/integrity.html",
        check=services.last_check(),
        form=form,
        evidence_dir=current_app.config["EVIDENCE_DIR"],
    )
