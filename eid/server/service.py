from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from eid import paos, tc_token
from eid.paos import PaosError, StartPaos
from eid.server import conversation, session
from eid.server.conversation import ConversationOver
from eid.server.request import EidRequest, InvalidRequest
from eid.server.result import EidResult
from eid.server.session import STEP_TIMEOUT, EidSession, SessionStore, StaleSession
from eid.server.states import StateFailed, StepContext
from eid.server.terminal import EidTerminal
from eid.server.tls import ChannelFacts

log = logging.getLogger(__name__)

TC_TOKEN_PATH = "/tctoken/"
PAOS_PATH = "/paos"


@dataclass(frozen=True)
class Reply:
    """An HTTP reply, and the session the request turned out to belong to (for the connection)."""

    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    session_identifier: str | None = None


@dataclass(frozen=True)
class StartedSession:
    session_identifier: str
    tc_token_url: str
    """The listener's URL of the TC token (single use); the broker may redirect to it from its own origin."""
    reference: str = field(repr=False)
    """The unguessable result reference: the RefreshAddress ends with it, :meth:`EidService.result` takes it."""


class UnknownReference(KeyError):
    """No session has this result reference (never had, or it expired and was removed)."""


class EidService:
    def __init__(self, *, store: SessionStore, terminal: EidTerminal, public_url: str,
                 now: Callable[[], datetime.datetime], rng: Callable[[int], bytes],
                 token_lifetime: datetime.timedelta = datetime.timedelta(minutes=5),
                 lifetime: datetime.timedelta = datetime.timedelta(minutes=15),
                 separate_signature: bool = False) -> None:
        if not public_url.startswith("https://") or public_url.endswith("/"):
            raise ValueError("public_url must be the https origin of the listener, without a trailing slash")
        self.store = store
        self.public_url = public_url
        self.token_lifetime = token_lifetime
        self.lifetime = lifetime
        self.context = StepContext(terminal=terminal, now=now, rng=rng, separate_signature=separate_signature)

    @property
    def terminal(self) -> EidTerminal:
        return self.context.terminal

    # --- for the broker ---

    def start_session(self, request: EidRequest, refresh_prefix: str, communication_error_prefix: str | None = None,
                      use_psk: bool = True) -> StartedSession:
        """A new authentication for ``request``. The RefreshAddress is ``refresh_prefix`` + the result
        reference (e.g. ``https://broker.example/eid/refresh?ref=``), likewise the CommunicationErrorAddress.
        Raises InvalidRequest if the terminal cannot serve a required right."""
        self.terminal.chats_for(request)
        for prefix in (refresh_prefix, communication_error_prefix):
            if prefix is not None and not prefix.startswith("https://"):
                raise InvalidRequest("the RefreshAddress and CommunicationErrorAddress must be https URLs")
        new = session.begin(request=request, refresh_prefix=refresh_prefix,
                            communication_error_prefix=communication_error_prefix, use_psk=use_psk,
                            now=self.context.now(), rng=self.context.rng, token_lifetime=self.token_lifetime,
                            lifetime=self.lifetime)
        self.store.add(new)
        return StartedSession(new.session_identifier, f"{self.public_url}{TC_TOKEN_PATH}{new.token_reference}",
                              new.reference)

    def result(self, reference: str) -> EidResult | None:
        """The outcome of the session with this reference; None while the conversation is still running."""
        found = self.store.find_by_reference(reference)
        if found is None:
            raise UnknownReference(reference)
        now = self.context.now()
        outcome = found.outcome(now)
        if outcome is not None and not found.finished:  # abandoned: record it, so that it ends here for good
            try:
                self.store.update(found, found.advanced(StateFailed(outcome.message, paos.RESULT_MINOR_TIMEOUT, outcome),
                                                        now))
            except StaleSession:
                return self.result(reference)
            log.info("session %s abandoned by its client: %s", _short(found), outcome.message)
        return outcome

    def session(self, session_identifier: str) -> EidSession | None:
        return self.store.get(session_identifier)

    # --- for the TLS layer ---

    def psk_for(self, identity: str) -> bytes | None:
        """The PSK of a live PSK-mode session whose TC token was downloaded, else None."""
        found = self.store.get(identity)
        if found is None or found.psk is None or not found.token_fetched or found.finished \
                or found.abandoned(self.context.now()):
            return None
        return found.psk

    # --- the two endpoints ---

    def tc_token(self, reference: str, channel: ChannelFacts) -> Reply:
        found = self.store.find_by_token(reference)
        if found is None:
            return Reply(404, b"no such TC token\n")
        if found.token_fetched or found.finished:
            return Reply(410, b"this TC token has already been used\n")
        now = self.context.now()
        if now >= found.token_expires_at:
            return Reply(410, b"this TC token has expired\n")
        updated = found.next_version(token_fetched=True, deadline=min(now + STEP_TIMEOUT, found.expires_at),
                                     tls_session_id=None if found.psk is not None else channel.session_id)
        try:
            self.store.update(found, updated)
        except StaleSession:
            return Reply(410, b"this TC token has already been used\n")
        token = tc_token.TcToken(
            server_address=self.public_url + PAOS_PATH,
            session_identifier=found.session_identifier,
            refresh_address=found.refresh_address,
            communication_error_address=found.communication_error_address,
            psk=found.psk,
        )
        log.info("TC token of session %s served (%s mode)", _short(found), "PSK" if found.psk else "no-PSK")
        return Reply(200, token.serialise(), tc_token.CONTENT_TYPE)

    def paos(self, body: bytes, channel: ChannelFacts, request_id: str | None = None,
             connection_session: str | None = None) -> Reply:
        try:
            envelope: paos.PaosEnvelope | None = paos.parse(body)
            error = None
        except PaosError as exc:
            envelope, error = None, exc
        claimed = {channel.psk_identity, request_id, connection_session}
        if envelope is not None and isinstance(envelope.message, StartPaos):
            claimed.add(envelope.message.session_identifier)
        claimed.discard(None)
        if len(claimed) != 1:
            return Reply(400 if not claimed else 403, b"PAOS request names no session or several\n")
        (session_identifier,) = claimed
        found = self.store.get(session_identifier)
        if found is None:
            return Reply(404, b"no such session\n")
        if not _bound(found, channel):
            log.warning("PAOS request for session %s on a channel not bound to it", _short(found))
            return Reply(403, b"this TLS channel does not belong to the session\n")
        try:
            if envelope is None:
                new, reply = conversation.reject_malformed(found, error, self.context)
            else:
                new, reply = conversation.step(found, envelope, self.context)
            self.store.update(found, new)
        except ConversationOver:
            return Reply(410, b"this session has ended\n", session_identifier=session_identifier)
        except StaleSession:
            return Reply(409, b"this message has already been processed\n", session_identifier=session_identifier)
        log.info("session %s: %s -> %s", _short(found), new.received[-1], type(new.state).__name__)
        if new.finished:
            outcome = new.state.result  # type: ignore[union-attr]
            log.info("session %s ended: %s (%s; server checks: %s)", _short(found), outcome.failure or "ok",
                     outcome.message, outcome.checks)
        return Reply(200, paos.serialise(reply), paos.CONTENT_TYPE + "; charset=utf-8",
                     session_identifier=session_identifier)


def _bound(found: EidSession, channel: ChannelFacts) -> bool:
    if not found.token_fetched:
        return False
    if found.psk is not None:
        return channel.uses_psk and channel.psk_identity == found.session_identifier
    return channel.psk_identity is None and bool(channel.session_id) and channel.session_id == found.tls_session_id


def _short(found: EidSession) -> str:
    """A session's name for logs: a prefix of the SessionIdentifier (which is sent in clear anyway)."""
    return found.session_identifier[:8]
