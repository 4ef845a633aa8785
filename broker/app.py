"""The Flask application: ``create_app(settings)``."""

from __future__ import annotations

import logging
import time
import urllib.parse
from collections.abc import Callable
from datetime import datetime

from flask import Flask, Response, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import BadRequest, HTTPException

from broker import i18n, logs, ratelimit
from broker.config import Settings
from broker.context import EXTENSION, Broker, close_db, utc_now
from broker.db import Database
from broker.logs import log
from broker.mail import Mailer
from broker.methods.password import PasswordMethod
from broker.metrics import Metrics
from broker.passwords import Argon2Parameters, PasswordHasher, PasswordPolicy
from broker.sessions import DatabaseSessionInterface
from broker.step_up import step_up_service
from broker.throttle import DeviceCookies, ThrottlePolicy
from broker.views import account, login, mailbox, operations, registration, reset, start, step_up

MAX_CONTENT_LENGTH = 64 * 1024
logger = logging.getLogger("broker.http")


class InvalidEncoding(BadRequest):
    """A query string or form body that is not valid UTF-8."""


def _valid_utf8(raw: bytes) -> bool:
    """Whether every name and value in a query string or urlencoded form is UTF-8 once unquoted.

    Checked on the whole unquoted text at once: ``&`` and ``=`` are ASCII, which never occurs inside a
    UTF-8 sequence, so the whole is valid exactly when every piece between them is."""
    if raw.isascii() and b"%" not in raw:
        return True
    try:
        urllib.parse.unquote_to_bytes(raw).decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _check_encoding() -> None:
    path = request.environ.get("PATH_INFO", "")
    try:
        path.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise InvalidEncoding() from None
    if not _valid_utf8(request.query_string):
        raise InvalidEncoding()
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        if not _valid_utf8(request.get_data(cache=True, parse_form_data=False)):
            raise InvalidEncoding()


def _start_request() -> None:
    g.started = time.perf_counter()
    _check_encoding()


SECURITY_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    # Mailed links carry their token in the path: never send it to another origin.
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)
NO_STORE = ("Cache-Control", "no-store")
HSTS = ("Strict-Transport-Security", "max-age=31536000")


def _finish_request(response: Response) -> Response:
    """Every response: the language cookie, the security headers, the access log line (one hook for the
    three: Flask's per-hook dispatch is not free)."""
    return _access_log(_security_headers(i18n.remember(response)))


def _security_headers(response: Response) -> Response:
    """Each header unless the view set its own (one look at the response's headers, not one per header)."""
    headers = response.headers
    present = {name.lower() for name in headers.keys()}
    wanted = [*SECURITY_HEADERS]
    if request.endpoint != "static":
        wanted.append(NO_STORE)
    if request.is_secure:
        wanted.append(HSTS)
    for name, value in wanted:
        if name.lower() not in present:
            headers.add(name, value)
    return response


def _access_log(response: Response) -> Response:
    """One line per request: its method, route pattern, status and duration — and, when the view reported
    an event (``logs.request_event``: a login, say), that event's message and fields."""
    started = g.get("started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    rule = request.url_rule.rule if request.url_rule is not None else None
    fields = {"method": request.method, "route": rule, "status": response.status_code,
              "duration_ms": duration_ms, "client": request.remote_addr}
    event = g.pop(logs.REQUEST_EVENT, None)
    if event is None:
        log(logger, "request", **fields)
    else:
        event.write(fields)
    return response


def _error_page(error: HTTPException) -> tuple[str, int]:
    messages = {
        400: _("The request could not be processed. Please go back and try again."),
        403: _("You may not open this page."),
        404: _("This page does not exist."),
        405: _("This page cannot be used that way."),
        413: _("The data sent was too large."),
        429: _("Too many requests from your address. Please wait a moment and try again."),
    }
    if isinstance(error, CSRFError):
        message = _("The form had expired or did not come from this site. Please fill it in again.")
    elif isinstance(error, InvalidEncoding):
        message = _("The data sent contained invalid characters (it was not valid UTF-8).")
    else:
        message = messages.get(error.code or 400, messages[400])
    code = error.code or 400
    return render_template("error.html", message=message, code=code), code


def _internal_error(error: Exception) -> tuple[str, int]:
    logger.exception("unhandled error", extra={"fields": {"route": str(request.url_rule)}})
    return render_template("error.html", message=_("Something went wrong on our side. Please try again later."),
                           code=500), 500


def create_app(settings: Settings, *, clock: Callable[[], datetime] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        MAX_FORM_MEMORY_SIZE=MAX_CONTENT_LENGTH,
        WTF_CSRF_TIME_LIMIT=None,  # bound to the session, which has its own timeouts
        PREFERRED_URL_SCHEME="http" if settings.insecure_http else "https",
    )
    hasher = PasswordHasher(Argon2Parameters(
        time_cost=settings.argon2_time_cost,
        memory_cost_kib=settings.argon2_memory_cost_kib,
        parallelism=settings.argon2_parallelism,
    ))
    throttle_policy = ThrottlePolicy(free_failures=settings.throttle_free_failures,
                                     base_delay=settings.throttle_base_delay,
                                     max_delay=settings.throttle_max_delay)
    app.extensions[EXTENSION] = Broker(
        settings=settings,
        database=Database(settings.database_url),
        hasher=hasher,
        policy=PasswordPolicy(min_length=settings.password_min_length, max_length=settings.password_max_length),
        password_method=PasswordMethod(hasher, throttle_policy),
        devices=DeviceCookies(settings.secret_key, settings.device_cookie_lifetime),
        mailer=Mailer(settings.smtp_host, settings.smtp_port, settings.mail_sender,
                      starttls=settings.smtp_starttls, username=settings.smtp_username,
                      password=settings.smtp_password, timeout=settings.smtp_timeout),
        metrics=Metrics(),
        clock=clock or utc_now,
    )
    services = app.extensions[EXTENSION]
    services.eid = step_up_service(settings, services.database, services.now)
    app.session_interface = DatabaseSessionInterface()
    app.before_request(_start_request)  # first: refuses invalid UTF-8 before anything reads the form
    CSRFProtect(app)
    i18n.init_app(app)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    app.context_processor(lambda: {"config_password_min": settings.password_min_length})
    app.after_request(_finish_request)
    app.teardown_appcontext(close_db)
    app.register_error_handler(HTTPException, _error_page)
    app.register_error_handler(Exception, _internal_error)

    for blueprint in (start.bp, registration.bp, login.bp, account.bp, reset.bp, operations.bp, step_up.bp):
        app.register_blueprint(blueprint)
    if settings.demo_mailbox_dir:
        app.register_blueprint(mailbox.bp)

    if settings.ratelimit_enabled:
        # Off: no per-address limit in the application (a reverse proxy's), and none of Flask-Limiter's hooks
        # and wrappers, which run on every request even when the limiter is disabled.
        ratelimit.install(app, settings)
    return app
