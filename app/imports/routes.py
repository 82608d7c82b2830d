from flask import flash, redirect, render_template, url_for

from app import audit
from app.dbtypes import Taken, unique_or_taken
from app.extensions import db
from app.imports import bp
from app.imports.forms import ImportForm
from app.imports.services import COLUMNS, check, import_rows
from app.permissions import roles

IMPORTED_MEANWHILE = (
    "Another import added some of this file's reports or recommendations while it was being imported: "
    "nothing was imported. Check the file again to see what is still new."
)


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
    try:
        with unique_or_taken():
            added = import_rows(report, filename=upload.filename or "")
    except Taken:  # another import added a report, recommendation or office of this file since the check
        report.file_errors.append(IMPORTED_MEANWHILE)
        return render_template("imports/index.html", form=form, report=report, columns=COLUMNS), 409
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
