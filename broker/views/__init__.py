"""The broker's pages, one blueprint per module, and what they share."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, cast

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from broker.accounts import LinkInvalid, LinkProblem, Purpose, issue_link
from broker.context import broker, db
from broker.logs import log
from broker.models import Account
from broker.passwords import PasswordRejected, Rejection
from broker.sessions import ServerSession

logger = logging.getLogger("broker.accounts")


def server_session() -> ServerSession:
    return cast(ServerSession, session._get_current_object())  # type: ignore[attr-defined]


def current_account() -> Account | None:
    account_id = server_session().account_id
    return db().get(Account, account_id) if account_id is not None else None


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if server_session().account_id is None:
            return redirect(url_for("login.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def safe_next(target: str | None, default: str) -> str:
    """A local path to continue at after login; anything else (other hosts, schemes) becomes ``default``."""
    if (not target or not target.startswith("/") or target.startswith("//") or target.startswith("/\\")
            or any(ord(char) < 0x20 for char in target)):
        return default
    return target


def password_message(rejection: PasswordRejected) -> str:
    settings = broker().settings
    match rejection.reason:
        case Rejection.TOO_SHORT:
            return ngettext("The password must have at least %(num)d character.",
                            "The password must have at least %(num)d characters.", settings.password_min_length)
        case Rejection.TOO_LONG:
            return ngettext("The password may have at most %(num)d character.",
                            "The password may have at most %(num)d characters.", settings.password_max_length)
        case Rejection.COMMON:
            return _("This password is among the most common ones and easy to guess. Please choose another.")
        case Rejection.SAME_AS_ACCOUNT:
            return _("The password must not be your username or e-mail address.")
        case Rejection.CONTROL_CHARACTERS:
            return _("The password contains control characters.")


def link_invalid_page(problem: LinkInvalid) -> tuple[str, int]:
    messages = {
        LinkProblem.UNKNOWN: (_("This link is not valid. Please check that you copied it completely."), 404),
        LinkProblem.USED: (_("This link has already been used. Each link works only once."), 410),
        LinkProblem.EXPIRED: (_("This link has expired. Please request a new one."), 410),
    }
    message, status = messages[problem.problem]
    return render_template("link_invalid.html", message=message), status


def mail_link(account: Account, purpose: Purpose) -> tuple[str, str]:
    """A new link of ``purpose`` for ``account`` (written to the request's database session) and the mail's
    subject and body, in the page's language."""
    services = broker()
    settings = services.settings
    ttl = settings.verification_link_ttl if purpose is Purpose.VERIFY_EMAIL else settings.reset_link_ttl
    token = issue_link(db(), account, purpose, ttl, services.now())
    if purpose is Purpose.VERIFY_EMAIL:
        path = url_for("registration.verify", token=token)
        subject = _("Please confirm your e-mail address")
        template = "mail/verify.txt"
    else:
        path = url_for("reset.set_password", token=token)
        subject = _("Reset your password")
        template = "mail/reset.txt"
    link = (settings.public_url or request.host_url).rstrip("/") + path
    hours = int(ttl.total_seconds() // 3600)
    body = render_template(template, account=account, link=link, hours=hours)
    log(logger, "mail link issued", purpose=purpose.value, account_id=account.id)
    return subject, body
