"""Login with username and password, and logout."""

from __future__ import annotations

import logging
import math

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from broker.context import broker, commit, connection, db
from broker.forms import ConfirmForm, LoginForm
from broker.logs import log, request_event
from broker.methods.password import LoginFailed, LoginThrottled
from broker.sessions import Client, end_session, record_authentication
from broker.views import current_account, safe_next, server_session

bp = Blueprint("login", __name__)
logger = logging.getLogger("broker.login")
DEVICE_COOKIE = "eid-broker-device"


@bp.route("/login", methods=["GET", "POST"])
def login():
    services = broker()
    # The form posts the page's own ``next``; the account page is looked up only when there is none.
    next_path = safe_next(request.values.get("next"), "") or url_for("account.overview")
    if request.method == "GET" and current_account() is not None:
        return redirect(next_path)
    form = LoginForm()
    if not form.is_submitted():
        return render_template("login.html", form=form, next=next_path)
    if not form.validate():
        return render_template("login.html", form=form, next=next_path), 400
    # Core statements on the request's connection: no ORM session on the way of a login.
    database = connection()
    now = services.now()
    device = services.devices.read(request.cookies.get(DEVICE_COOKIE))
    method = services.password_method
    try:
        account_id = method.authenticate(database, form.username.data, form.password.data, device, now)
    except LoginThrottled as throttled:
        commit()
        services.metrics.login("throttled")
        request_event(logger, "login throttled", logging.WARNING, outcome="throttled")
        seconds = math.ceil(throttled.retry_after.total_seconds())
        form.form_errors.append(ngettext(
            "Too many failed attempts for this username. Please wait %(num)d second, or reset your password.",
            "Too many failed attempts for this username. Please wait %(num)d seconds, or reset your password.",
            seconds))
        response = render_template("login.html", form=form, next=next_path)
        return response, 429, {"Retry-After": str(seconds)}
    except LoginFailed:
        commit()
        services.metrics.login("failure")
        request_event(logger, "login failed", outcome="failure")
        form.form_errors.append(_("The username or the password is wrong."))
        return render_template("login.html", form=form, next=next_path), 400
    event = method.event(now)
    record_authentication(database, server_session(), account_id, event, Client.of(request))
    commit()
    services.metrics.login("success", event.level)
    request_event(logger, "login", outcome="success", account_id=account_id, auth_method=event.method,
                  assurance_level=event.level.label)
    response = redirect(next_path, 303)
    if services.devices.renewal_due(device, account_id, now):
        settings = services.settings
        response.set_cookie(DEVICE_COOKIE, services.devices.issue(account_id),
                            max_age=int(settings.device_cookie_lifetime.total_seconds()), path="/",
                            secure=not settings.insecure_http, httponly=True, samesite="Lax")
    return response


@bp.route("/logout", methods=["POST"])
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        account_id = server_session().account_id
        end_session(db(), server_session())
        db().commit()
        if account_id is not None:
            log(logger, "logout", account_id=account_id)
        flash(_("You are logged out."), "success")
    return redirect(url_for("start.index"), 303)
