from flask import flash, redirect, render_template, url_for

from app import audit
from app.extensions import db
from app.imports import bp
from app.imports.forms import ImportForm
from app.imports.services import COLUMNS, check, import_rows
from app.permissions import roles


@bp.route("/", methods=["GET", "POST"])
@roles("oig_reviewer", "admin")
def index():
    form = ImportForm()
    if not form.validate_on_submit():
        return render_template(
            "imports/index.html", form=form, report=None, columns=COLUMNS
        ), 400 if form.is_submitted() else 200
    upload = form.file.data
    report = check(upload.read())
    if not report.ok:
        return render_template("imports/index.html", form=form, report=report, columns=COLUMNS), 400
    if form.check.data:
        return render_template("imports/index.html", form=form, report=report, columns=COLUMNS, checked=True)
    added = import_rows(report, filename=upload.filename or "")
    if added:  # a file already imported changes nothing, not even the trail
        audit.record(
            "import.recommendations", after={"file": upload.filename or "", "rows": len(report.rows), "added": added}
        )
        db.session.commit()
    flash(
        f"Imported {added} new recommendation{'s' if added != 1 else ''}; "
        f"{report.count('present')} already present, left unchanged.",
        "success",
    )
    return redirect(url_for("imports.index"))
