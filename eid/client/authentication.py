"""One online authentication from the eID client's side, from the tcTokenURL to the browser's next URL.

TR-03124-1 §2.7: fetch the TC token (following redirects, recording each server certificate), open the
PAOS channel (TLS-PSK, or the resumed TLS session of the download), run the conversation of
:mod:`eid.client.states` with the citizen and the card, then determine the refresh URL (§2.7.4.1: the
RefreshAddress if same-origin with the provider's subjectURL — checked by a TLS handshake against
commCertificates — else follow its redirects until that origin is reached) and send the browser there with
``ResultMajor``/``ResultMinor`` (§2.7.4.2). Without a usable refresh URL the browser goes to the
CommunicationErrorAddress (§2.7.4.3), and without one of those it gets "400 Bad Request"; a TC token that
cannot be fetched is "404 Not Found" (§2.7.1).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin

from eid import paos
from eid.client import states
from eid.client.checks import CheckFailed, NotSameOrigin, Provider, require_https, same_origin
from eid.client.consent import Citizen
from eid.client.states import AwaitEac1, ClientContext, Finished, ProtocolViolation
from eid.client.transport import REDIRECTS, PaosChannel, TransportError, fetch_tc_token, get, server_certificate
from eid.paos import PaosEnvelope, PaosError, Result
from eid.tc_token import TcTokenError
from eid.terminal import CardSession

log = logging.getLogger(__name__)

MAX_REFRESH_REDIRECTS = 10

#: The ResultMinor values TR-03124-1 §2.7.4.2 defines for the browser.
TRUSTED_CHANNEL = "trustedChannelEstablishmentFailed"
CANCELLED = "cancellationByUser"
SERVER_ERROR = "serverError"
CLIENT_ERROR = "clientError"
COMMUNICATION_ERROR = "communicationError"


@dataclass(frozen=True)
class Outcome:
    """Where the browser goes next (``status`` 303 and ``location``), or the error status to answer."""

    status: int
    location: str | None
    result_minor: str | None = None
    """None: the authentication succeeded (ResultMajor=ok)."""
    message: str = ""
    server_result: Result | None = None

    @property
    def ok(self) -> bool:
        return self.status == 303 and self.result_minor is None


def authenticate(tc_token_url: str, citizen: Citizen, open_card: Callable[[], CardSession],
                 rng: Callable[[int], bytes]) -> Outcome:
    """Run one authentication; ``open_card`` is called when the card is first needed (after consent) and
    its channel stays the caller's to close."""
    try:
        require_https(tc_token_url, "tcTokenURL")
        download = fetch_tc_token(tc_token_url)
    except (TransportError, CheckFailed, TcTokenError) as error:
        log.warning("TC token not retrieved: %s", error)
        return Outcome(404, None, message=f"the TC token could not be retrieved: {error}")
    token = download.token
    context = ClientContext(open_card=open_card, citizen=citizen, rng=rng, tc_token_url=tc_token_url,
                            seen_certificates=list(download.certificates))
    channel = PaosChannel(download)
    try:
        finished = _converse(channel, context, rng)
    except (TransportError, CheckFailed) as error:
        log.warning("PAOS channel failed: %s", error)
        return _finish(token.refresh_address, token.communication_error_address, context.provider, tc_token_url,
                       TRUSTED_CHANNEL, f"the connection to the eID-Server failed: {error}")
    except (ProtocolViolation, PaosError) as error:
        log.warning("the eID-Server broke the protocol: %s", error)
        return _finish(token.refresh_address, token.communication_error_address, context.provider, tc_token_url,
                       SERVER_ERROR, str(error))
    finally:
        channel.close()
    if finished.result.ok:
        minor, message = None, "authenticated"
    elif finished.own_error is not None:
        own = finished.own_error.minor or ""
        minor = CANCELLED if own.endswith(("#cancellationByUser", "#noCard")) else (
            TRUSTED_CHANNEL if own.endswith("#trustedChannelEstablishmentFailed") else CLIENT_ERROR)
        message = finished.own_error.message or own
    else:
        minor, message = SERVER_ERROR, finished.result.message or finished.result.minor or "the eID-Server failed"
    return _finish(token.refresh_address, token.communication_error_address, context.provider, tc_token_url,
                   minor, message, finished.result)


def _converse(channel: PaosChannel, context: ClientContext, rng: Callable[[int], bytes]) -> Finished:
    state: states.ClientState = AwaitEac1()
    message: paos.Message = states.start_paos(channel.token.session_identifier, rng(4))
    relates_to = None
    while True:
        envelope = PaosEnvelope(message, paos.new_message_id(rng), relates_to)
        answer = channel.post(envelope)
        context.seen_certificates += [c for c in channel.certificates if c not in context.seen_certificates]
        if context.provider is not None:
            for url, certificate in channel.certificates:
                context.provider.check_certificate(certificate, url)
        if answer.relates_to != envelope.message_id:
            raise ProtocolViolation("the eID-Server's answer does not relate to the client's message")
        step = state.receive(answer.message, context)
        state = step.state
        if isinstance(state, Finished):
            return state
        if step.reply is None:
            raise ProtocolViolation("the conversation stopped without StartPAOSResponse")
        message, relates_to = step.reply, answer.message_id


def _finish(refresh_address: str, error_address: str | None, provider: Provider | None, tc_token_url: str,
            result_minor: str | None, message: str, server_result: Result | None = None) -> Outcome:
    """Determine the refresh URL and compose the browser's redirect (TR-03124-1 §2.7.4)."""
    try:
        refresh = refresh_url(refresh_address, provider, tc_token_url)
    except (TransportError, CheckFailed) as error:
        log.warning("no valid refresh URL: %s", error)
        if error_address is None:
            return Outcome(400, None, COMMUNICATION_ERROR, f"no valid refresh URL: {error}", server_result)
        return Outcome(303, _with_result(error_address, COMMUNICATION_ERROR), COMMUNICATION_ERROR,
                       f"no valid refresh URL: {error}", server_result)
    return Outcome(303, _with_result(refresh, result_minor), result_minor, message, server_result)


def refresh_url(refresh_address: str, provider: Provider | None, tc_token_url: str) -> str:
    """TR-03124-1 §2.7.4.1. Without a provider (the conversation stopped before EAC1) the tcTokenURL stands in
    for the subjectURL and the commCertificates check is skipped."""
    subject = provider.description.subject_url if provider is not None and provider.description.subject_url \
        else tc_token_url
    working = refresh_address
    for _ in range(MAX_REFRESH_REDIRECTS + 1):
        require_https(working, "refresh URL")
        if same_origin(working, subject):
            certificate = server_certificate(working)
            if provider is not None:
                provider.check_certificate(certificate, working)
            return working
        response, certificate = get(working)
        if provider is not None:
            provider.check_certificate(certificate, working)
        location = response.headers.get("location")
        if response.status not in REDIRECTS or not location:
            raise NotSameOrigin(f"the RefreshAddress {working} answered {response.status}, not a redirect towards "
                                "the provider's origin")
        working = urljoin(working, location)
    raise NotSameOrigin(f"more than {MAX_REFRESH_REDIRECTS} redirects from the RefreshAddress")


def _with_result(url: str, result_minor: str | None) -> str:
    query = {"ResultMajor": "ok"} if result_minor is None else {"ResultMajor": "error", "ResultMinor": result_minor}
    return url + ("&" if "?" in url else "?") + urlencode(query)

