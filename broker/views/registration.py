"""Registration and e-mail verification."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response
from flask_babel import gettext as _

from broker.accounts import LinkInvalid, Purpose, UsernameTaken, create_account, peek_link, verify_email
from broker.context import broker, db
from broker.forms import ConfirmForm, RegistrationForm
from broker.logs import log
from broker.mail import MailError
from broker.models import Account
from broker.passwords import PasswordRejected
from broker.views import current_account, link_invalid_page, login_required, mail_link, password_message

bp = Blueprint("registration", __name__)
logger = logging.getLogger("broker.accounts")


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_account() is not None:
        return redirect(url_for("account.overview"))
    form = RegistrationForm()
    status = 200
    if form.is_submitted():
        outcome = _register(form) if form.validate() else 400
        if not isinstance(outcome, int):
            return outcome
        status = outcome
    return render_template("register.html", form=form), status


def _register(form: RegistrationForm) -> Response | int:
    """The redirect after a new account, or the status of the form page that explains why not."""
    services = broker()
    session = db()
    try:
        account = create_account(session, services.hasher, services.policy, username=form.username.data,
                                 email=form.email.data, password=form.password.data, now=services.now())
    except PasswordRejected as rejection:
        form.password.errors.append(password_message(rejection))
        services.metrics.registrations.labels(outcome="rejected-password").inc()
        return 400
    except UsernameTaken:
        form.username.errors.append(_("This username is already taken. Please choose another one."))
        services.metrics.registrations.labels(outcome="username-taken").inc()
        return 409
    if not confirm_new_account(account):
        return 503
    log(logger, "account registered", account_id=account.id)
    return redirect(url_for("registration.registered"), 303)


def confirm_new_account(account: Account) -> bool:
    """Mail the e-mail confirmation link of a just-created ``account`` and commit it (both ways of registering
    end here). If the mail cannot be sent, nothing is kept — an account whose address cannot be confirmed is
    of no use — and the page says so: False."""
    services = broker()
    subject, body = mail_link(account, Purpose.VERIFY_EMAIL)
    try:
        services.mailer.send(account.email, subject, body)
    except MailError as error:
        db().rollback()
        log(logger, "registration mail failed", logging.ERROR, error=str(error))
        services.metrics.mails.labels(purpose="verify-email", outcome="error").inc()
        flash(_("We could not send you an e-mail just now, so no account was created. Please try again later."),
              "error")
        return False
    db().commit()
    services.metrics.mails.labels(purpose="verify-email", outcome="sent").inc()
    services.metrics.registrations.labels(outcome="created").inc()
    return True


@bp.route("/register/done")
def registered():
    return render_template("registered.html")


@bp.route("/verify/<token>", methods=["GET", "POST"])
def verify(token: str):
    services = broker()
    form = ConfirmForm()
    try:
        if not form.validate_on_submit():
            peek_link(db(), token, Purpose.VERIFY_EMAIL, services.now())
            return render_template("verify.html", form=form), 400 if form.is_submitted() else 200
        account = verify_email(db(), token, services.now())
    except LinkInvalid as problem:
        db().rollback()
        return link_invalid_page(problem)
    db().commit()
    log(logger, "e-mail verified", account_id=account.id)
    flash(_("Thank you, your e-mail address is confirmed."), "success")
    if current_account() is not None:
        return redirect(url_for("account.overview"), 303)
    return redirect(url_for("login.login"), 303)


@bp.route("/account/verify/resend", methods=["POST"])
@login_required
def resend():
    services = broker()
    account = current_account()
    form = ConfirmForm()
    if not form.validate_on_submit() or account is None or account.email_verified_at is not None:
        return redirect(url_for("account.overview"), 303)
    subject, body = mail_link(account, Purpose.VERIFY_EMAIL)
    try:
        services.mailer.send(account.email, subject, body)
    except MailError as error:
        db().rollback()
        log(logger, "verification mail failed", logging.ERROR, error=str(error))
        flash(_("We could not send you an e-mail just now. Please try again later."), "error")
        return redirect(url_for("account.overview"), 303)
    db().commit()
    flash(_("We have sent you a new confirmation link."), "success")
    return redirect(url_for("account.overview"), 303)
