"""Password reset by a single-use link sent to the account's e-mail address.

The answer to a reset request is the same whether or not the username exists, and the mail is sent from a
background thread so that the answer's timing does not tell either. At most ``MAX_LINKS_PER_HOUR`` links
go to one account per hour, so nobody can flood a citizen's mailbox through this form.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from broker.accounts import LinkInvalid, Purpose, find_by_username, peek_link, reset_password
from broker.context import broker, db
from broker.forms import NewPasswordForm, ResetRequestForm
from broker.logs import log
from broker.models import EmailToken
from broker.passwords import PasswordRejected
from broker.views import link_invalid_page, mail_link, password_message

bp = Blueprint("reset", __name__, url_prefix="/reset")
logger = logging.getLogger("broker.accounts")
MAX_LINKS_PER_HOUR = 3


@bp.route("", methods=["GET", "POST"])
def request_link():
    services = broker()
    form = ResetRequestForm()
    if not form.is_submitted():
        return render_template("reset_request.html", form=form)
    if not form.validate():
        return render_template("reset_request.html", form=form), 400
    session = db()
    now = services.now()
    account = find_by_username(session, form.username.data)
    if account is not None:
        recent = session.scalar(select(func.count()).select_from(EmailToken).where(
            EmailToken.account_id == account.id, EmailToken.purpose == Purpose.RESET_PASSWORD.value,
            EmailToken.created_at > now - timedelta(hours=1)))
        if recent < MAX_LINKS_PER_HOUR:
            subject, body = mail_link(account, Purpose.RESET_PASSWORD)
            session.commit()
            services.mailer.send_later(account.email, subject, body)
            services.metrics.mails.labels(purpose="reset-password", outcome="queued").inc()
        else:
            log(logger, "reset link limit reached", logging.WARNING, account_id=account.id)
    return render_template("reset_sent.html")


@bp.route("/<token>", methods=["GET", "POST"])
def set_password(token: str):
    services = broker()
    form = NewPasswordForm()
    now = services.now()
    try:
        peek_link(db(), token, Purpose.RESET_PASSWORD, now)
        if not form.is_submitted():
            return render_template("reset.html", form=form)
        if not form.validate():
            return render_template("reset.html", form=form), 400
        account = reset_password(db(), services.hasher, services.policy, token, form.password.data, now)
    except LinkInvalid as problem:
        db().rollback()
        return link_invalid_page(problem)
    except PasswordRejected as rejection:
        db().rollback()
        form.password.errors.append(password_message(rejection))
        return render_template("reset.html", form=form), 400
    db().commit()
    log(logger, "password reset", account_id=account.id)
    flash(_("Your new password is set and all your sessions have been ended. Please log in."), "success")
    return redirect(url_for("login.login"), 303)
