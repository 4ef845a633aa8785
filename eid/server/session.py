"""One eID authentication as the eID-Server keeps it, and where it is kept.

An :class:`EidSession` holds everything the server needs to continue the conversation in any worker
or instance: what the service asked for, the TC token's values, the binding of the PAOS channel (PSK or
TLS session), the typed protocol state, the MessageID the next client message must answer, when that
message is due, and a version for compare-and-set updates. It is immutable; every step produces the next
version, which a :class:`SessionStore` accepts only if nobody else has stored a newer one in between — so
two copies of one message cannot both be processed.

Three secrets identify a session, each for its own reader: the SessionIdentifier (the eID client's, also
the PSK identity), the token reference in the tcTokenURL (single use) and the result ``reference`` (the
broker's: it is part of the RefreshAddress the browser returns with, and looks up the result).

Time: the TC token must be fetched within ``token_lifetime``; after that each client message is due
within :data:`STEP_TIMEOUT`, except the answer to EAC1InputType, which waits for the citizen to read the
request and enter the PIN (:data:`CONSENT_TIMEOUT`); nothing goes beyond ``expires_at``. A client that
misses a deadline has abandoned the session — its result says so (:meth:`EidSession.outcome`). A finished
session is kept for :data:`RESULT_LIFETIME` so the broker can read the result.

Sessions serialise to JSON (:meth:`EidSession.to_json`). :class:`MemorySessionStore` keeps that JSON in
a dict (one process); a database adapter stores the same JSON in a row. The JSON holds the PSK, the
ephemeral CA private key and the secure-messaging keys: such an adapter must encrypt it.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from eid import tc_token
from eid.server import serialisation
from eid.server.request import EidRequest
from eid.server.result import EidResult, Failure, failed
from eid.server.states import State, StateEac1, StateStartPaos, state_from_dict, state_to_dict

#: Entropy of the TC-token reference in the tcTokenURL and of the result reference, in bytes.
TOKEN_REFERENCE_BYTES = 32
REFERENCE_BYTES = 32
STEP_TIMEOUT = datetime.timedelta(seconds=60)
CONSENT_TIMEOUT = datetime.timedelta(minutes=10)
RESULT_LIFETIME = datetime.timedelta(minutes=10)


class StaleSession(Exception):
    """The stored session changed since it was read (another request processed it first)."""


@dataclass(frozen=True)
class EidSession:
    session_identifier: str
    token_reference: str = field(repr=False)
    reference: str = field(repr=False)
    request: EidRequest
    refresh_address: str = field(repr=False)
    communication_error_address: str | None = field(repr=False)
    psk: bytes | None = field(repr=False)
    created_at: datetime.datetime
    token_expires_at: datetime.datetime
    expires_at: datetime.datetime
    deadline: datetime.datetime
    """When the next client action (the TC token download, then each PAOS message) is due."""
    state: State = field(default_factory=StateStartPaos)
    version: int = 0
    token_fetched: bool = False
    tls_session_id: bytes | None = field(default=None, repr=False)
    last_message_id: str | None = None
    received: tuple[str, ...] = ()

    @property
    def finished(self) -> bool:
        return self.state.final

    def expired(self, now: datetime.datetime) -> bool:
        return now >= self.expires_at

    def abandoned(self, now: datetime.datetime) -> bool:
        """The client missed its deadline (or the session's end) before the conversation finished."""
        return not self.finished and now >= min(self.deadline, self.expires_at)

    def outcome(self, now: datetime.datetime) -> EidResult | None:
        """The result: final, or a timeout for an abandoned session, or None while it runs."""
        if self.finished:
            return self.state.result  # type: ignore[union-attr]
        if self.abandoned(now):
            after = self.received[-1] if self.received else ("the TC token" if self.token_fetched else None)
            what = f"the eID client stopped answering after {after}" if after else "the TC token was never fetched"
            return failed(now, Failure.TIMEOUT, f"session abandoned: {what}")
        return None

    def next_version(self, **changes) -> EidSession:
        return replace(self, version=self.version + 1, **changes)

    def advanced(self, state: State, now: datetime.datetime, **changes) -> EidSession:
        """The next version in ``state``, with the deadline of the client's next message."""
        if state.final:
            return self.next_version(state=state, deadline=now, expires_at=max(self.expires_at, now + RESULT_LIFETIME),
                                     **changes)
        wait = CONSENT_TIMEOUT if isinstance(state, StateEac1) else STEP_TIMEOUT
        return self.next_version(state=state, deadline=min(now + wait, self.expires_at), **changes)

    def to_json(self) -> str:
        data = {f.name: serialisation.dump(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "state"}
        data["state"] = state_to_dict(self.state)
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> EidSession:
        data = json.loads(text)
        hints = serialisation.field_types(cls)
        values = {f.name: serialisation.load(hints[f.name], data[f.name])
                  for f in dataclasses.fields(cls) if f.name != "state"}
        return cls(state=state_from_dict(data["state"]), **values)


def begin(*, request: EidRequest, refresh_prefix: str, communication_error_prefix: str | None, use_psk: bool,
          now: datetime.datetime, rng: Callable[[int], bytes], token_lifetime: datetime.timedelta,
          lifetime: datetime.timedelta) -> EidSession:
    """A new session with unpredictable SessionIdentifier, PSK, TC-token reference and result reference; the
    RefreshAddress (and CommunicationErrorAddress) is the prefix followed by the result reference."""
    reference = rng(REFERENCE_BYTES).hex()
    return EidSession(
        session_identifier=tc_token.new_session_identifier(rng),
        token_reference=rng(TOKEN_REFERENCE_BYTES).hex(),
        reference=reference,
        request=request,
        refresh_address=refresh_prefix + reference,
        communication_error_address=None if communication_error_prefix is None else communication_error_prefix + reference,
        psk=tc_token.new_psk(rng) if use_psk else None,
        created_at=now,
        token_expires_at=now + token_lifetime,
        expires_at=now + lifetime,
        deadline=now + token_lifetime,
    )


class SessionStore(Protocol):
    def add(self, session: EidSession) -> None:
        """Store a new session; its SessionIdentifier and references must be unused."""

    def get(self, session_identifier: str) -> EidSession | None: ...

    def find_by_token(self, token_reference: str) -> EidSession | None: ...

    def find_by_reference(self, reference: str) -> EidSession | None: ...

    def update(self, previous: EidSession, new: EidSession) -> None:
        """Replace ``previous`` by ``new`` (whose version is one higher); raises StaleSession if the
        stored version is no longer ``previous.version``."""

    def remove_expired(self, now: datetime.datetime) -> int:
        """Delete the sessions that expired before ``now``; returns how many."""


class MemorySessionStore:
    """A SessionStore in this process's memory, holding the same JSON a database row would."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, tuple[int, datetime.datetime, str]] = {}
        self._tokens: dict[str, str] = {}
        self._references: dict[str, str] = {}

    def add(self, session: EidSession) -> None:
        with self._lock:
            if (session.session_identifier in self._sessions or session.token_reference in self._tokens
                    or session.reference in self._references):
                raise ValueError("session identifier or reference already in use")
            self._sessions[session.session_identifier] = (session.version, session.expires_at, session.to_json())
            self._tokens[session.token_reference] = session.session_identifier
            self._references[session.reference] = session.session_identifier

    def get(self, session_identifier: str) -> EidSession | None:
        with self._lock:
            stored = self._sessions.get(session_identifier)
        return None if stored is None else EidSession.from_json(stored[2])

    def find_by_token(self, token_reference: str) -> EidSession | None:
        with self._lock:
            session_identifier = self._tokens.get(token_reference)
        return None if session_identifier is None else self.get(session_identifier)

    def find_by_reference(self, reference: str) -> EidSession | None:
        with self._lock:
            session_identifier = self._references.get(reference)
        return None if session_identifier is None else self.get(session_identifier)

    def update(self, previous: EidSession, new: EidSession) -> None:
        if new.session_identifier != previous.session_identifier or new.version != previous.version + 1:
            raise ValueError("an update must keep the session identifier and raise the version by one")
        text = new.to_json()
        with self._lock:
            stored = self._sessions.get(previous.session_identifier)
            if stored is None or stored[0] != previous.version:
                raise StaleSession(f"session changed since version {previous.version}")
            self._sessions[new.session_identifier] = (new.version, new.expires_at, text)

    def remove_expired(self, now: datetime.datetime) -> int:
        with self._lock:
            expired = [identifier for identifier, (_, expires_at, _) in self._sessions.items() if expires_at <= now]
            for identifier in expired:
                del self._sessions[identifier]
            for index in (self._tokens, self._references):
                for key in [k for k, identifier in index.items() if identifier in expired]:
                    del index[key]
        return len(expired)
