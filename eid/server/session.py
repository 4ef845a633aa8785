"""One eID authentication as the eID-Server keeps it, and where it is kept.

An :class:`EidSession` holds everything the server needs to continue the conversation in any worker
or instance: the TC token's values, the binding of the PAOS channel (PSK or TLS session), the typed
protocol state, the MessageID the next client message must answer, and a version for
compare-and-set updates. It is immutable; every step produces the next version, which a
:class:`SessionStore` accepts only if nobody else has stored a newer one in between — so two copies
of one message cannot both be processed.

Sessions serialise to JSON (:meth:`EidSession.to_json`). :class:`MemorySessionStore` keeps that JSON in
a dict (one process); the broker's database adapter stores the same JSON in a table.
"""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from eid import tc_token
from eid.server.states import State, StateStartPaos, state_from_dict, state_to_dict

#: Entropy of the TC-token reference in the tcTokenURL, in bytes.
TOKEN_REFERENCE_BYTES = 32


class StaleSession(Exception):
    """The stored session changed since it was read (another request processed it first)."""


@dataclass(frozen=True)
class EidSession:
    session_identifier: str
    token_reference: str = field(repr=False)
    refresh_address: str
    communication_error_address: str | None
    psk: bytes | None = field(repr=False)
    created_at: datetime.datetime
    token_expires_at: datetime.datetime
    expires_at: datetime.datetime
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

    def next_version(self, **changes) -> EidSession:
        return replace(self, version=self.version + 1, **changes)

    def to_json(self) -> str:
        return json.dumps({
            "session_identifier": self.session_identifier,
            "token_reference": self.token_reference,
            "refresh_address": self.refresh_address,
            "communication_error_address": self.communication_error_address,
            "psk": None if self.psk is None else self.psk.hex(),
            "created_at": self.created_at.isoformat(),
            "token_expires_at": self.token_expires_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "state": state_to_dict(self.state),
            "version": self.version,
            "token_fetched": self.token_fetched,
            "tls_session_id": None if self.tls_session_id is None else self.tls_session_id.hex(),
            "last_message_id": self.last_message_id,
            "received": list(self.received),
        }, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> EidSession:
        data = json.loads(text)
        return cls(
            session_identifier=data["session_identifier"],
            token_reference=data["token_reference"],
            refresh_address=data["refresh_address"],
            communication_error_address=data["communication_error_address"],
            psk=None if data["psk"] is None else bytes.fromhex(data["psk"]),
            created_at=datetime.datetime.fromisoformat(data["created_at"]),
            token_expires_at=datetime.datetime.fromisoformat(data["token_expires_at"]),
            expires_at=datetime.datetime.fromisoformat(data["expires_at"]),
            state=state_from_dict(data["state"]),
            version=data["version"],
            token_fetched=data["token_fetched"],
            tls_session_id=None if data["tls_session_id"] is None else bytes.fromhex(data["tls_session_id"]),
            last_message_id=data["last_message_id"],
            received=tuple(data["received"]),
        )


def begin(*, refresh_address: str, communication_error_address: str | None, use_psk: bool,
          now: datetime.datetime, rng: Callable[[int], bytes], token_lifetime: datetime.timedelta,
          lifetime: datetime.timedelta) -> EidSession:
    """A new session with unpredictable SessionIdentifier, PSK and TC-token reference."""
    return EidSession(
        session_identifier=tc_token.new_session_identifier(rng),
        token_reference=rng(TOKEN_REFERENCE_BYTES).hex(),
        refresh_address=refresh_address,
        communication_error_address=communication_error_address,
        psk=tc_token.new_psk(rng) if use_psk else None,
        created_at=now,
        token_expires_at=now + token_lifetime,
        expires_at=now + lifetime,
    )


class SessionStore(Protocol):
    def add(self, session: EidSession) -> None:
        """Store a new session; its SessionIdentifier and token reference must be unused."""

    def get(self, session_identifier: str) -> EidSession | None: ...

    def find_by_token(self, token_reference: str) -> EidSession | None: ...

    def update(self, previous: EidSession, new: EidSession) -> None:
        """Replace ``previous`` by ``new`` (whose version is one higher); raises StaleSession if the
        stored version is no longer ``previous.version``."""

    def remove_expired(self, now: datetime.datetime) -> int:
        """Delete the sessions that expired before ``now``; returns how many."""


class MemorySessionStore:
    """A SessionStore in this process's memory, holding the same JSON a database row would."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, str] = {}
        self._tokens: dict[str, str] = {}

    def add(self, session: EidSession) -> None:
        with self._lock:
            if session.session_identifier in self._sessions or session.token_reference in self._tokens:
                raise ValueError("session identifier or token reference already in use")
            self._sessions[session.session_identifier] = session.to_json()
            self._tokens[session.token_reference] = session.session_identifier

    def get(self, session_identifier: str) -> EidSession | None:
        with self._lock:
            stored = self._sessions.get(session_identifier)
        return None if stored is None else EidSession.from_json(stored)

    def find_by_token(self, token_reference: str) -> EidSession | None:
        with self._lock:
            session_identifier = self._tokens.get(token_reference)
        return None if session_identifier is None else self.get(session_identifier)

    def update(self, previous: EidSession, new: EidSession) -> None:
        if new.session_identifier != previous.session_identifier or new.version != previous.version + 1:
            raise ValueError("an update must keep the session identifier and raise the version by one")
        with self._lock:
            stored = self._sessions.get(previous.session_identifier)
            if stored is None or json.loads(stored)["version"] != previous.version:
                raise StaleSession(f"session changed since version {previous.version}")
            self._sessions[new.session_identifier] = new.to_json()

    def remove_expired(self, now: datetime.datetime) -> int:
        with self._lock:
            expired = [(identifier, json.loads(text)) for identifier, text in self._sessions.items()
                       if datetime.datetime.fromisoformat(json.loads(text)["expires_at"]) <= now]
            for identifier, data in expired:
                del self._sessions[identifier]
                self._tokens.pop(data["token_reference"], None)
        return len(expired)
