"""The citizen's account: profile, login history, sessions, password change, deletion."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import delete as sql_delete
from sqlalchemy import select

from broker.accounts import WrongPassword, change_password, delete_account, end_sessions
from broker.assurance import Level
from broker.attributes import Source, account_attributes
from broker.context import broker, db
from broker.forms import ChangePasswordForm, ConfirmForm, DeleteAccountForm
from broker.logs import log
from broker.models import Account, AuthEventRecord, WebSession
from broker.passwords import PasswordRejected
from broker.sessions import account_sessions, end_session, session_level
from broker.step_up import linked_card
from broker.views import current_account, login_required, password_message, server_session
from broker.views.step_up import ATTRIBUTE_NAMES

bp = Blueprint("account", __name__, url_prefix="/account")
logger = logging.getLogger("broker.accounts")
HISTORY_LENGTH = 20


def eid_attribute_rows(attributes):
    """The attributes read from the ID card, as (label, value, read at) in the page's order."""
    return [(ATTRIBUTE_NAMES[name], attributes[name].value, attributes[name].verified_at)
            for name in ATTRIBUTE_NAMES if name in attributes and attributes[name].source is Source.EID]


def _account() -> Account:
    account = current_account()
    if account is None:
        abort(403)
    return account


@bp.route("")
@login_required
def overview():
    services = broker()
    account = _account()
    now = services.now()
    history = db().scalars(select(AuthEventRecord).where(AuthEventRecord.account_id == account.id)
                           .order_by(AuthEventRecord.at.desc()).limit(HISTORY_LENGTH))
    return render_template(
        "account.html",
        account=account,
        attributes=account_attributes(account, db()),
        eid_attributes=eid_attribute_rows(account_attributes(account, db())),
        eid_available=services.eid is not None,
        card_linked=linked_card(db(), account.id) is not None,
        level=session_level(db(), server_session(), now, services.settings),
        history=[(record, Level(record.level)) for record in history],
        sessions=account_sessions(db(), account.id, now, services.settings),
        current_session_id=server_session().record_id,
        form=ConfirmForm(),
    )


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    services = broker()
    account = _account()
    form = ChangePasswordForm()
    if not form.is_submitted():
        return render_template("password.html", form=form)
    if not form.validate():
        return render_template("password.html", form=form), 400
    try:
        change_password(db(), services.hasher, services.policy, account, form.current_password.data,
                        form.password.data, services.now(), keep_session_id=server_session().record_id)
    except WrongPassword:
        form.current_password.errors.append(_("The current password is wrong."))
        return render_template("password.html", form=form), 400
    except PasswordRejected as rejection:
        form.password.errors.append(password_message(rejection))
        return render_template("password.html", form=form), 400
    db().commit()
    log(logger, "password changed", account_id=account.id)
    flash(_("Your password has been changed. All your other sessions have been ended."), "success")
    return redirect(url_for("account.overview"), 303)


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete():
    services = broker()
    account = _account()
    form = DeleteAccountForm()
    if not form.is_submitted():
        return render_template("delete.html", form=form)
    if not form.validate():
        return render_template("delete.html", form=form), 400
    account_id = account.id
    try:
        delete_account(db(), services.hasher, account, form.current_password.data)
    except WrongPassword:
        form.current_password.errors.append(_("The current password is wrong."))
        return render_template("delete.html", form=form), 400
    end_session(db(), server_session())
    db().commit()
    log(logger, "account deleted", account_id=account_id)
    flash(_("Your account has been deleted."), "success")
    return redirect(url_for("start.index"), 303)


@bp.route("/sessions/<int:session_id>/end", methods=["POST"])
@login_required
def end_one(session_id: int):
    account = _account()
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if session_id == server_session().record_id:
        end_session(db(), server_session())
        db().commit()
        flash(_("You are logged out."), "success")
        return redirect(url_for("start.index"), 303)
    ended = db().execute(sql_delete(WebSession).where(WebSession.id == session_id, WebSession.account_id == account.id)
                         .execution_options(synchronize_session=False)).rowcount
    if not ended:
        abort(404)
    db().commit()
    flash(_("The session has been ended."), "success")
    return redirect(url_for("account.overview"), 303)


@bp.route("/sessions/end-all", methods=["POST"])
@login_required
def end_all():
    account = _account()
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    count = end_sessions(db(), account.id)
    end_session(db(), server_session())
    db().commit()
    log(logger, "logged out everywhere", account_id=account.id, sessions=count)
    flash(_("You have been logged out on all devices."), "success")
    return redirect(url_for("login.login"), 303)
