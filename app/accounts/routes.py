from functools import partial

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.accounts import bp
from app.accounts.forms import EMAIL_TAKEN, AccountForm, ConfirmForm, NewAccountForm
from app.accounts.services import (
    create_account,
    deactivate,
    get_account_or_404,
    mail_reset_link,
    queue_keys_reset_notice,
    reactivate,
    reset_link,
    update_account,
)
from app.auth.models import User
from app.auth.mfa import keys_of, reset_keys, unused_recovery_codes
from app.auth.oidc import linked_identities
from app.dbtypes import Taken
from app.auth.services import issue_reset_token, unlock
from app.extensions import db
from app.inputs import page_status
from app.permissions import roles
from app.reminders.send import deliver_pending
from app.timeutil import utcnow


@bp.route("")
@roles("admin")
def index():
    users = db.session.scalars(sa.select(User).order_by(User.is_active_account.desc(), User.name, User.id)).all()
    return render_template("accounts/index.html", users=users, now=utcnow())


@bp.route("/new", methods=["GET", "POST"])
@roles("admin")
def new():
    form = NewAccountForm()
    if form.validate_on_submit():
        try:
            user, token = create_account(
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                office_id=form.office_value,
                by=current_user._get_current_object(),
            )
        except Taken:
            form.email.errors.append(EMAIL_TAKEN)
        else:
            db.session.commit()
            link = reset_link(token)
            mailed = mail_reset_link(user, link)
            return render_template("accounts/link.html", user=user, link=link, mailed=mailed, created=True)
    return render_template("accounts/new.html", form=form), page_status(form)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@roles("admin")
def edit(user_id: int):
    user = get_account_or_404(user_id)
    form = AccountForm(obj=user)
    if not form.is_submitted():
        form.office_id.data = str(user.office_id or "")
    if form.validate_on_submit():
        changed = update_account(
            user,
            name=form.name.data,
            role=form.role.data,
            office_id=form.office_value,
            by=current_user._get_current_object(),
        )
        db.session.commit()
        flash("The account is saved." if changed else "Nothing changed.", "success" if changed else "info")
        return redirect(url_for("accounts.edit", user_id=user.id))
    return render_template(
        "accounts/edit.html",
        user=user,
        form=form,
        action=ConfirmForm(),
        keys=keys_of(user),
        codes_left=unused_recovery_codes(user),
        identities=linked_identities(user),
        now=utcnow(),
    ), page_status(form)


def _confirmed(user_id: int, act, done: str):
    """An administrator's confirmed button on an account: ``act(user, by=admin)``, then back to
    the account with ``done`` (``{name}``: the person's name)."""
    user = get_account_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        act(user, by=current_user._get_current_object())
        db.session.commit()
        flash(done.format(name=user.name), "success")
    return redirect(url_for("accounts.edit", user_id=user.id))


@bp.route("/<int:user_id>/deactivate", methods=["POST"])
@roles("admin")
def deactivate_account(user_id: int):
    return _confirmed(
        user_id, partial(deactivate, reason="by an administrator"), "{name} is deactivated and signed out everywhere."
    )


@bp.route("/<int:user_id>/reactivate", methods=["POST"])
@roles("admin")
def reactivate_account(user_id: int):
    return _confirmed(user_id, reactivate, "{name} can sign in again.")


@bp.route("/<int:user_id>/unlock", methods=["POST"])
@roles("admin")
def unlock_account(user_id: int):
    return _confirmed(user_id, unlock, "{name} can try to sign in again.")


@bp.route("/<int:user_id>/reset-link", methods=["POST"])
@roles("admin")
def reset_link_for(user_id: int):
    user = get_account_or_404(user_id)
    if not user.is_active_account:
        flash("Reactivate the account before sending a password link.", "error")
        return redirect(url_for("accounts.edit", user_id=user.id))
    token = issue_reset_token(user, current_user._get_current_object())
    db.session.commit()
    link = reset_link(token)
    mailed = mail_reset_link(user, link)
    return render_template("accounts/link.html", user=user, link=link, mailed=mailed, created=False)


@bp.route("/<int:user_id>/reset-keys", methods=["POST"])
@roles("admin")
def reset_keys_of(user_id: int):
    """A lost or stolen key: every key and recovery code of the person goes; they register anew."""
    user = get_account_or_404(user_id)
    if ConfirmForm().validate_on_submit():
        admin = current_user._get_current_object()
        removed = reset_keys(user, by=admin)
        queue_keys_reset_notice(user, admin)
        db.session.commit()
        deliver_pending(wait=False)
        flash(
            f"{user.name}’s {removed} security key{'s' if removed != 1 else ''} and recovery codes are removed, "
            "and they are told by email. They sign in with their password and add a key again.",
            "success",
        )
    return redirect(url_for("accounts.edit", user_id=user.id))
