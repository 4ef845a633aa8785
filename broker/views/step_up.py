"""The eID step-up pages: start, progress, the RefreshAddress, linking a new card, eID-first registration.

    POST /eid/step-up            start (from the account page, the start page, or :func:`start` of a frontend)
    GET  /eid/step-up            the step-up page: who asks, which data and why, the eID-client link, progress
    GET  /eid/status             progress as JSON (the page's script polls it; without script: "Continue")
    POST /eid/step-up/cancel     forget the step-up
    GET  /eid/tctoken/<token>    303 to the eID listener's TC token (the tcTokenURL lives on this origin)
    GET  /eid/refresh?ref=…      the RefreshAddress: only in the browser session that started the step-up
    GET|POST /eid/relink         confirm with the password to link a new (renewed) card
    GET|POST /eid/register       create an account from the eID (with consent to what is stored)

Rate limits (:func:`rate_limits`, Flask-Limiter as for the login): starts (each makes an eID-Server session)
per client address and per browser session, the other requests per browser session, the password of a re-link
like a login; a breach gets a page that says how long to wait.
"""

from __future__ import annotations

import logging
import math
import re
import time
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Flask, abort, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from broker import attributes as attrs
from broker.accounts import UsernameTaken, create_account
from broker.config import Settings
from broker.context import broker, db
from broker.forms import ConfirmForm, EidRegistrationForm, PasswordConfirmForm
from broker.logs import log
from broker.models import Account
from broker.passwords import PasswordRejected
from broker.sessions import Client
from broker.step_up import (ACCOUNT_PURPOSE, METHOD, PENDING_KEY, SESSION_KEY, Outcome, Pending, Progress,
                            Purpose, Reason, Refused, StepUpService, complete, failure_reason, matches, pending)
from broker.step_up import register as register_account
from broker.step_up import relink as relink_card
from broker.views import current_account, password_message, safe_next, server_session
from broker.views.registration import confirm_new_account

bp = Blueprint("step_up", __name__, url_prefix="/eid")
logger = logging.getLogger("broker.eid")
TOKEN = re.compile(r"^[0-9a-f]{64}$")
# The step-up page's script (script-src 'self') polls /eid/status and asks the local eID client for its Status
# (connect-src: its origin, http://127.0.0.1:24727 — loopback, so no mixed content); everything else stays as strict.
PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; connect-src 'self' {client}; "
               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")

ATTRIBUTE_NAMES = {
    attrs.GIVEN_NAMES: _l("Given names"), attrs.FAMILY_NAMES: _l("Family name"), attrs.BIRTH_NAME: _l("Birth name"),
    attrs.DATE_OF_BIRTH: _l("Date of birth"), attrs.PLACE_OF_BIRTH: _l("Place of birth"),
    attrs.NATIONALITY: _l("Nationality"), attrs.ACADEMIC_TITLE: _l("Academic title"),
    attrs.STREET: _l("Street"), attrs.POSTAL_CODE: _l("Postal code"), attrs.LOCALITY: _l("Place of residence"),
    attrs.COUNTRY: _l("Country"), attrs.DOCUMENT_TYPE: _l("Document type"),
    attrs.ISSUING_STATE: _l("Issuing state"), attrs.PSEUDONYM: _l("Pseudonym of your ID card for this site"),
}

ADDRESS_PARTS = frozenset({attrs.STREET, attrs.POSTAL_CODE, attrs.LOCALITY, attrs.COUNTRY})
ADDRESS_LABEL = _l("Address")

PROGRESS_TEXT = {
    Progress.WAITING_FOR_CLIENT: _l("Waiting for your eID client. Open it with the button below."),
    Progress.CONNECTED: _l("Your eID client is connected."),
    Progress.WAITING_FOR_PIN: _l("Please check the request in your eID client and enter your PIN there."),
    Progress.READING: _l("Your ID card is being read …"),
    Progress.READ: _l("Your ID card has been read. Your eID client now sends you back here."),
    Progress.FAILED: _l("The identification did not succeed."),
}


def reason_text(reason: Reason, tries_left: int | None = None) -> str:
    match reason:
        case Reason.WRONG_PIN if tries_left is not None:
            return ngettext("The PIN was wrong. You have %(num)d more try before the card asks for its card "
                            "access number (CAN).",
                            "The PIN was wrong. You have %(num)d more tries.", tries_left)
        case Reason.WRONG_PIN:
            return _("The PIN was wrong. Please try again.")
        case Reason.CAN_REQUIRED:
            return _("Your PIN is suspended because it was entered wrongly twice. For the last try your eID client "
                     "first needs the card access number (CAN): the six digits at the bottom right on the front of "
                     "your ID card. Try again and enter the CAN when asked, then your PIN.")
        case Reason.PIN_BLOCKED:
            return _("The PIN was entered wrongly three times and is now blocked. Unblock it with the PUK from "
                     "your PIN letter in your eID client (AusweisApp: \"Unblock PIN\"), then try again.")
        case Reason.EID_DEACTIVATED:
            return _("The online function of your ID card is switched off. Your citizens' office (Bürgeramt) "
                     "can switch it on.")
        case Reason.CARD_EXPIRED:
            return _("Your ID card has expired. Only a valid ID card can be used.")
        case Reason.CARD_REVOKED:
            return _("This ID card has been reported lost or invalid and cannot be used.")
        case Reason.CARD_NOT_GENUINE:
            return _("The ID card could not be verified as a genuine, valid German ID card. Nothing was "
                     "changed.")
        case Reason.NO_CARD:
            return _("No card reader or no ID card was found. Connect the reader (or your smartphone as a "
                     "reader), place the ID card on it and try again.")
        case Reason.CANCELLED:
            return _("The identification was cancelled. Nothing was changed.")
        case Reason.TIMEOUT:
            return _("Your eID client stopped answering, so the identification expired. Please try again.")
        case Reason.NO_CLIENT:
            return _("No eID client picked up the request. Please start AusweisApp (or another eID client) on "
                     "this device and try again.")
        case Reason.COMMUNICATION_ERROR:
            return _("The connection between your eID client, the card and our server broke off. Please try "
                     "again.")
        case Reason.OTHER_SESSION:
            return _("This confirmation belongs to an identification started in another browser or session. "
                     "For your protection it was not accepted here. Please start the identification again in "
                     "this browser.")
        case Reason.UNKNOWN:
            return _("This identification is unknown or has expired. Please start again.")
        case Reason.CARD_LINKED_ELSEWHERE:
            return _("This ID card is already linked to another citizen account. Log in to that account, or "
                     "ask the support to unlink the card.")
        case Reason.NO_PSEUDONYM:
            return _("Your ID card did not give the pseudonym this site needs to recognise it. Nothing was "
                     "changed.")
        case Reason.CLIENT_ERROR:
            return _("Your eID client reported an error. Please try again, or restart the eID client.")
        case _:
            return _("Something went wrong on our side. Please try again later.")


def _service() -> StepUpService:
    service = broker().eid
    if service is None:
        abort(404)
    return service


def _broker_url() -> str:
    return (broker().settings.public_url or request.host_url).rstrip("/")


def start(purpose: Purpose, return_to: str) -> Response:
    """Begin a step-up for ``purpose`` in this browser session and show the step-up page; after success the
    browser continues at ``return_to`` (a local path). For the OIDC and SAML frontends: when
    ``broker.assurance.evaluate`` answers StepUpRequired(Level.HIGH), park the request and return this."""
    found = _service().begin(purpose, _broker_url(), safe_next(return_to, url_for("account.overview")),
                             server_session().account_id)
    session = server_session()
    session[SESSION_KEY] = found.to_dict()
    session.pop(PENDING_KEY, None)
    log(logger, "step-up started", account_id=session.account_id, service=purpose.service_id)
    return redirect(url_for("step_up.page"), 303)


@bp.route("/step-up", methods=["POST"])
def begin():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    return start(ACCOUNT_PURPOSE, request.args.get("next") or url_for("account.overview"))


def _page(found: Pending, reason: Reason | None = None, tries_left: int | None = None,
          status: int = 200) -> tuple[str, int, dict[str, str]]:
    service = _service()
    progress, result = service.progress(found)
    if reason is None and result is not None and progress is Progress.FAILED:
        refused = failure_reason(result)
        reason, tries_left = refused.reason, refused.tries_left
    link = service.client_url + "?" + _query(found.tc_token_url)
    client = urlsplit(service.client_url)
    required = _labels(found.purpose.required) + [ATTRIBUTE_NAMES[attrs.PSEUDONYM]]
    optional = _labels(found.purpose.optional)
    page = render_template(
        "step_up.html", purpose=found.purpose, required=required, optional=optional, client_link=link,
        client_status_url=service.client_url + "?Status",
        progress=progress, progress_text=PROGRESS_TEXT[progress],
        failure=reason_text(reason, tries_left) if reason is not None else None, form=ConfirmForm(),
        own_account=found.purpose.service_id == ACCOUNT_PURPOSE.service_id,
        registering=found.account_id is None)
    return page, status, {"Content-Security-Policy": PAGE_POLICY.format(client=f"{client.scheme}://{client.netloc}")}


def _labels(names: tuple[str, ...]) -> list[str]:
    """What the card gives, as the citizen thinks of it: the parts of the address as one "address"."""
    labels = [ADDRESS_LABEL if name in ADDRESS_PARTS else ATTRIBUTE_NAMES[name] for name in names]
    return list(dict.fromkeys(labels))


def _query(tc_token_url: str) -> str:
    return urlencode({"tcTokenURL": tc_token_url})


@bp.route("/step-up/again", methods=["POST"])
def again():
    """After a failure: a new step-up for the same purpose, continuing where the first one would have."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    found = pending(server_session())
    if found is None:
        return start(ACCOUNT_PURPOSE, url_for("account.overview"))
    return start(found.purpose, found.return_to)


@bp.route("/step-up", methods=["GET"])
def page():
    found = pending(server_session())
    if found is None:
        return redirect(url_for("account.overview") if current_account() else url_for("start.index"))
    return _page(found)


@bp.route("/status")
def status():
    found = pending(server_session())
    if found is None:
        return jsonify(progress=Progress.FAILED.value, final=True, text=reason_text(Reason.UNKNOWN)), 404
    progress, result = _service().progress(found)
    text = str(PROGRESS_TEXT[progress])
    if result is not None and not result.ok:
        refused = failure_reason(result)
        text = reason_text(refused.reason, refused.tries_left)
    return jsonify(progress=progress.value, final=progress in (Progress.READ, Progress.FAILED), text=text)


@bp.route("/step-up/cancel", methods=["POST"])
def cancel():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    server_session().pop(SESSION_KEY, None)
    flash(_("The identification was cancelled. Nothing was changed."), "success")
    return redirect(url_for("account.overview") if current_account() else url_for("start.index"), 303)


@bp.route("/tctoken/<token>")
def tc_token(token: str):
    if not TOKEN.match(token):
        abort(404)
    return redirect(_service().listener_token_url(token), 303)


def _client_failure(minor: str) -> Reason:
    """The reason an eID client gave in the refresh URL's ResultMinor (TR-03124-1 §2.7.4.2) while the server
    has no result (the client broke off before the conversation ended)."""
    if minor.endswith("cancellationByUser"):
        return Reason.CANCELLED
    if minor.endswith(("trustedChannelEstablishmentFailed", "communicationError")):
        return Reason.COMMUNICATION_ERROR
    return Reason.CLIENT_ERROR


def _refused(refused: Refused, found: Pending | None, status: int = 200):
    log(logger, "step-up refused", reason=refused.reason.value, account_id=server_session().account_id)
    if found is not None and refused.reason is not Reason.OTHER_SESSION:
        return _page(found, refused.reason, refused.tries_left, status)
    return render_template("step_up_refused.html", message=reason_text(refused.reason, refused.tries_left)), status


@bp.route("/refresh")
def refresh():
    service = _service()
    session = server_session()
    reference = request.args.get("ref", "")
    found = pending(session)
    if not matches(found, reference):
        # Another browser, a session that ended, or a replay: nothing changes here.
        return _refused(Refused(Reason.OTHER_SESSION), None, 403)
    assert found is not None
    try:
        result = service.result(reference)
        if result is None:
            minor = request.args.get("ResultMinor", "")
            if request.args.get("ResultMajor") == "error":
                raise Refused(_client_failure(minor))
            return _page(found)
        services = broker()
        now = services.now()
        completion = complete(db(), session, service, result, now, Client.of(request))
    except Refused as refused:
        db().rollback()  # the step-up stays in the session (it ended): its page explains, "try again" restarts
        return _refused(refused, found)
    session.pop(SESSION_KEY, None)
    if completion.outcome is Outcome.RAISED:
        db().commit()
        log(logger, "step-up", account_id=completion.account_id, method="eid", level="high")
        services.metrics.login("success", METHOD.level)
        flash(_("Your identity has been confirmed with your ID card. Your login now has the level of assurance "
                "\"high\"."), "success")
        return redirect(found.return_to, 303)
    session[PENDING_KEY] = found.to_dict()
    if completion.outcome is Outcome.RELINK:
        return redirect(url_for("step_up.relink"), 303)
    return redirect(url_for("step_up.register"), 303)


def _pending_result():
    """The finished result of the step-up waiting for a password or a registration, with its record."""
    found = pending(server_session(), PENDING_KEY)
    if found is None:
        return None, None
    try:
        result = _service().result(found.reference)
    except Refused:
        return found, None
    return found, result


@bp.route("/relink", methods=["GET", "POST"])
def relink():
    found, result = _pending_result()
    account = current_account()
    if found is None or result is None or account is None or found.account_id != account.id:
        server_session().pop(PENDING_KEY, None)
        return render_template("step_up_refused.html", message=reason_text(Reason.UNKNOWN)), 410
    form = PasswordConfirmForm()
    status = 200
    if form.is_submitted():
        if form.validate() and broker().hasher.verify(account.password_hash, form.current_password.data):
            services = broker()
            try:
                relink_card(db(), server_session(), _service(), result, services.now(), Client.of(request))
            except Refused as refused:
                db().rollback()
                server_session().pop(PENDING_KEY, None)
                return _refused(refused, None)
            server_session().pop(PENDING_KEY, None)
            db().commit()
            log(logger, "step-up", account_id=account.id, method="eid", level="high", relinked=True)
            flash(_("Your new ID card is now linked to your account, and your login has the level of assurance "
                    "\"high\"."), "success")
            return redirect(found.return_to, 303)
        if form.current_password.data and not form.current_password.errors:
            form.current_password.errors.append(_("The current password is wrong."))
        status = 400
    return render_template("relink.html", form=form), status


@bp.route("/register", methods=["GET", "POST"])
def register():
    found, result = _pending_result()
    if found is None or result is None or found.account_id is not None or current_account() is not None:
        server_session().pop(PENDING_KEY, None)
        return render_template("step_up_refused.html", message=reason_text(Reason.UNKNOWN)), 410
    services = broker()
    read = attrs.from_eid(result, services.now())
    shown = [(ATTRIBUTE_NAMES[name], read[name].value) for name in ATTRIBUTE_NAMES if name in read]
    form = EidRegistrationForm()
    status = 200
    if form.is_submitted():
        status = 400
        if form.validate():
            outcome = _create(form, found, result)
            if not isinstance(outcome, int):
                return outcome
            status = outcome
    return render_template("eid_register.html", form=form, shown=shown), status


def _create(form: EidRegistrationForm, found: Pending, result) -> Response | int:
    services = broker()
    session = db()
    try:
        account: Account = create_account(session, services.hasher, services.policy, username=form.username.data,
                                          email=form.email.data, password=form.password.data, now=services.now())
        register_account(session, server_session(), _service(), result, account.id, services.now(),
                         Client.of(request))
    except PasswordRejected as rejection:
        session.rollback()
        form.password.errors.append(password_message(rejection))
        return 400
    except UsernameTaken:
        session.rollback()
        form.username.errors.append(_("This username is already taken. Please choose another one."))
        return 409
    except Refused as refused:
        session.rollback()
        server_session().pop(PENDING_KEY, None)
        return _refused(refused, None)  # type: ignore[return-value]
    if not confirm_new_account(account):
        return 503
    server_session().pop(PENDING_KEY, None)
    log(logger, "account registered with eID", account_id=account.id)
    flash(_("Your account has been created with your ID card, and you are logged in with the level of assurance "
            "\"high\". We have sent you a link to confirm your e-mail address."), "success")
    return redirect(url_for("account.overview"), 303)


# --- rate limits ---

def session_key() -> str:
    """The browser session (its record, which stays when the session gets a new identifier), else the address."""
    record = server_session().record_id
    return f"session:{record}" if record is not None else f"address:{get_remote_address()}"


def _wait_seconds(limit: RequestLimit) -> int:
    return max(1, math.ceil(limit.reset_at - 1 - time.time()))  # reset_at is rounded up to the next second


def _wait_minutes(limit: RequestLimit) -> int:
    return math.ceil(_wait_seconds(limit) / 60)


def _too_many_starts(limit: RequestLimit) -> Response:
    log(logger, "step-up rate limit", limit=str(limit.limit), account_id=server_session().account_id)
    message = ngettext("You have started the identification with your ID card too often in a short time. For your "
                       "protection, please wait %(num)d minute and then try again.",
                       "You have started the identification with your ID card too often in a short time. For your "
                       "protection, please wait %(num)d minutes and then try again.", _wait_minutes(limit))
    page = render_template("step_up_refused.html", title=_("Please wait a moment"), message=message)
    return make_response(page, 429, {"Retry-After": str(_wait_seconds(limit))})


def _too_many_requests(limit: RequestLimit) -> Response:
    message = ngettext("Too many requests for the identification with your ID card. Please wait %(num)d minute.",
                       "Too many requests for the identification with your ID card. Please wait %(num)d minutes.",
                       _wait_minutes(limit))
    headers = {"Retry-After": str(_wait_seconds(limit))}
    if request.endpoint == "step_up.status":
        return make_response(jsonify(progress="limited", final=False, text=message), 429, headers)
    page = render_template("step_up_refused.html", title=_("Please wait a moment"), message=message)
    return make_response(page, 429, headers)


@bp.errorhandler(429)
def _limited(error: HTTPException):
    """The step-up's own page for a breached limit (the on_breach answers above), else the broker's."""
    if error.response is not None:
        return error.response
    return render_template("error.html", message=_("Too many requests from your address. Please wait a moment "
                                                   "and try again."), code=429), 429


def rate_limits(app: Flask, limiter: Limiter, settings: Settings) -> None:
    """The step-up's limits on ``app``'s views (after the blueprint is registered)."""
    per_address = limiter.shared_limit(settings.ratelimit_step_up, "eid-starts-address", key_func=get_remote_address,
                                       methods=["POST"], on_breach=_too_many_starts)
    per_session = limiter.shared_limit(settings.ratelimit_step_up_session, "eid-starts-session", key_func=session_key,
                                       methods=["POST"], on_breach=_too_many_starts)
    requests = limiter.shared_limit(settings.ratelimit_eid_requests, "eid-requests", key_func=session_key,
                                    on_breach=_too_many_requests)
    password = limiter.limit(settings.ratelimit_login, methods=["POST"])
    views = app.view_functions
    for endpoint in ("step_up.begin", "step_up.again"):
        views[endpoint] = per_address(per_session(views[endpoint]))
    for endpoint in ("step_up.page", "step_up.status", "step_up.tc_token", "step_up.refresh"):
        views[endpoint] = requests(views[endpoint])
    views["step_up.relink"] = password(views["step_up.relink"])
