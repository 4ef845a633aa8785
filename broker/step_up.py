"""The eID step-up: raising a browser session to level high with the ID card, and what follows from it.

Flow (design.md, "The eID flow"): the step-up page (broker/views/step_up.py) starts an eID-Server session
for the data a :class:`Purpose` names and links the local eID client with a tcTokenURL on the broker's own
origin (``/eid/tctoken/<token>``, a redirect to the eID listener — the certificate description's
subjectURL must be that origin). The RefreshAddress is ``<broker>/eid/refresh?ref=<reference>``; the
reference is unguessable and kept in the data of the browser session that started the step-up, so a
RefreshAddress opened in another browser session is refused and changes nothing.

:func:`complete` then decides what a verified result means for the session:

- a logged-in account whose card is linked (or which has no card yet, so this one is linked): a new
  authentication event (level high, method ``eid``; ``record_authentication`` gives the session a new
  identifier) and the data read stored with provenance (eID, time, level high);
- a card linked to another account: refused;
- an account linked to another card (a renewed card has a new pseudonym): the citizen confirms with the
  password to link the new card (:data:`Outcome.RELINK`, then :func:`relink`);
- no account logged in: the card's account is logged in at level high, or — card unknown — the citizen
  may create an account from the eID (:data:`Outcome.REGISTER`, then :func:`register`).

Only a result the eID-Server verified itself counts (passive authentication, Chip Authentication, a
pseudonym from Restricted Identification); an eID client's "ok" alone never raises a level.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import hmac
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broker import attributes as attrs
from broker.assurance import AuthRequest
from broker.attributes import Attribute, from_eid, store_eid_attributes
from broker.config import Settings
from broker.db import Database
from broker.eid_server import available, eid_service
from broker.methods.eid import EidMethod
from broker.models import EidLink
from broker.sessions import Client, ServerSession, record_authentication
from eid.chat import AccessRight
from eid.server.request import EidRequest
from eid.server.result import EidResult, Failure
from eid.server.service import EidService, StartedSession, UnknownReference
from eid.server.session import EidSession
from eid.server.states import StateEac1, StateStartPaos

log = logging.getLogger("broker.eid")

SESSION_KEY = "eid_step_up"
PENDING_KEY = "eid_pending"
REFRESH_PATH = "/eid/refresh"
TOKEN_PATH = "/eid/tctoken/"
METHOD = EidMethod()
PURGE_INTERVAL = datetime.timedelta(minutes=5)


# --- what is asked for, and why ---

@dataclass(frozen=True)
class Purpose:
    """Who asks for the step-up, why, and which attributes the card shall give.

    ``requester`` and ``reason`` come from a service's configuration; for the broker's own account page
    (``service_id`` :data:`ACCOUNT`) the page shows its own translated text. The pseudonym is always
    read (it links the card to the account); ``optional`` attributes can be deselected by the citizen.
    """

    service_id: str
    requester: str | None = None
    reason: str | None = None
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"service_id": self.service_id, "requester": self.requester, "reason": self.reason,
                "required": list(self.required), "optional": list(self.optional)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Purpose:
        return cls(str(data["service_id"]), data.get("requester"), data.get("reason"),
                   tuple(data.get("required", ())), tuple(data.get("optional", ())))

    @classmethod
    def for_request(cls, request: AuthRequest, requester: str, reason: str | None = None) -> Purpose:
        """The step-up for a frontend's request: the requested attributes the card can give are read
        (required: the service asked for them); ``requester`` and ``reason`` from the service's configuration."""
        wanted = tuple(name for name in sorted(request.requested_attributes) if name in attrs.EID_DATA_GROUPS)
        return cls(request.service_id, requester, reason, wanted)

    def eid_request(self) -> EidRequest:
        def rights(names: Iterable[str]) -> frozenset[AccessRight]:
            return frozenset(AccessRight.read(attrs.EID_DATA_GROUPS[name]) for name in names)

        required = rights(self.required) | {AccessRight.RESTRICTED_IDENTIFICATION}
        return EidRequest(required=required, optional=rights(self.optional) - required)


ACCOUNT = "account"
ACCOUNT_PURPOSE = Purpose(ACCOUNT, required=(attrs.GIVEN_NAMES, attrs.FAMILY_NAMES, attrs.DATE_OF_BIRTH),
                          optional=(attrs.STREET, attrs.POSTAL_CODE, attrs.LOCALITY, attrs.COUNTRY))


# --- progress and outcome ---

class Progress(enum.StrEnum):
    WAITING_FOR_CLIENT = "waiting_for_client"
    CONNECTED = "connected"
    WAITING_FOR_PIN = "waiting_for_pin"
    READING = "reading"
    READ = "read"
    """The card was read; the result is waiting for the RefreshAddress in this browser."""
    FAILED = "failed"


class Reason(enum.StrEnum):
    """Why a step-up did not raise the level: the eID-Server's failures and the broker's own."""

    CANCELLED = Failure.CANCELLED.value
    WRONG_PIN = Failure.WRONG_PIN.value
    CAN_REQUIRED = Failure.CAN_REQUIRED.value
    PIN_BLOCKED = Failure.PIN_BLOCKED.value
    EID_DEACTIVATED = Failure.EID_DEACTIVATED.value
    CARD_EXPIRED = Failure.CARD_EXPIRED.value
    CARD_REVOKED = Failure.CARD_REVOKED.value
    CARD_NOT_GENUINE = Failure.CARD_NOT_GENUINE.value
    NO_CARD = Failure.NO_CARD.value
    COMMUNICATION_ERROR = Failure.COMMUNICATION_ERROR.value
    TIMEOUT = Failure.TIMEOUT.value
    CLIENT_ERROR = Failure.CLIENT_ERROR.value
    SERVER_ERROR = Failure.SERVER_ERROR.value
    NO_CLIENT = "no_client"
    """No eID client fetched the TC token in time: none is running, or the link was not opened."""
    OTHER_SESSION = "other_session"
    """The RefreshAddress was opened in a browser session that did not start this step-up."""
    UNKNOWN = "unknown"
    """The step-up is unknown or expired."""
    CARD_LINKED_ELSEWHERE = "card_linked_elsewhere"
    NO_PSEUDONYM = "no_pseudonym"
    """The card gave no pseudonym (Restricted Identification), so it cannot be linked to an account."""


class Outcome(enum.StrEnum):
    RAISED = "raised"
    """The session is at level high now."""
    RELINK = "relink"
    """The account is linked to another card: confirm with the password to link this one."""
    REGISTER = "register"
    """No account has this card and nobody is logged in: an account can be created from the eID."""


class Refused(Exception):
    """The step-up did not raise the level, for ``reason`` (with the PIN tries left, when known)."""

    def __init__(self, reason: Reason, tries_left: int | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.tries_left = tries_left


@dataclass(frozen=True)
class Pending:
    """A step-up this browser session started (kept in the session's data)."""

    reference: str = field(repr=False)
    session_identifier: str
    purpose: Purpose
    return_to: str
    account_id: int | None
    tc_token_url: str = field(repr=False, default="")

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "session_identifier": self.session_identifier,
                "purpose": self.purpose.to_dict(), "return_to": self.return_to, "account_id": self.account_id,
                "tc_token_url": self.tc_token_url}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Pending:
        return cls(str(data["reference"]), str(data["session_identifier"]), Purpose.from_dict(data["purpose"]),
                   str(data["return_to"]), data.get("account_id"), str(data.get("tc_token_url", "")))


def pending(session: ServerSession, key: str = SESSION_KEY) -> Pending | None:
    data = session.get(key)
    if not isinstance(data, dict):
        return None
    try:
        return Pending.from_dict(data)
    except (KeyError, TypeError, ValueError):
        return None


def matches(found: Pending | None, reference: str) -> bool:
    return found is not None and hmac.compare_digest(found.reference.encode(), reference.encode("utf-8", "replace"))


# --- the eID-Server as the broker uses it ---

class StepUpService:
    """The broker's side of the eID-Server: start sessions, follow their progress, read results. Expired
    eID-Server sessions are deleted when a step-up starts, at most every :data:`PURGE_INTERVAL`."""

    def __init__(self, service: EidService, use_psk: bool, client_url: str) -> None:
        self.service = service
        self.use_psk = use_psk
        self.client_url = client_url
        self._purged_at: datetime.datetime | None = None
        sector = service.terminal.sector
        self.sector = hashlib.sha256(sector.public_key_data_object()).hexdigest() if sector is not None else ""

    def begin(self, purpose: Purpose, broker_url: str, return_to: str, account_id: int | None) -> Pending:
        """A new eID-Server session; returns what the browser session keeps, with the tcTokenURL on the
        broker's origin."""
        now = self.service.context.now()
        if self._purged_at is None or now - self._purged_at >= PURGE_INTERVAL:
            self._purged_at = now
            self.service.store.remove_expired(now)
        started: StartedSession = self.service.start_session(
            purpose.eid_request(), f"{broker_url}{REFRESH_PATH}?ref=", f"{broker_url}{REFRESH_PATH}?ref=",
            use_psk=self.use_psk)
        token = started.tc_token_url.rsplit("/", 1)[1]
        return Pending(started.reference, started.session_identifier, purpose, return_to, account_id,
                       f"{broker_url}{TOKEN_PATH}{token}")

    def listener_token_url(self, token: str) -> str:
        return f"{self.service.public_url}/tctoken/{token}"

    def progress(self, found: Pending) -> tuple[Progress, EidResult | None]:
        session: EidSession | None = self.service.session(found.session_identifier)
        if session is None:
            return Progress.FAILED, None
        outcome = session.outcome(self.service.context.now())
        if outcome is not None:
            return (Progress.READ if outcome.ok else Progress.FAILED), outcome
        if not session.token_fetched:
            return Progress.WAITING_FOR_CLIENT, None
        if isinstance(session.state, StateStartPaos):
            return Progress.CONNECTED, None
        if isinstance(session.state, StateEac1):
            return Progress.WAITING_FOR_PIN, None
        return Progress.READING, None

    def result(self, reference: str) -> EidResult | None:
        """The finished result (None while it runs); Refused(UNKNOWN) when there is no such session."""
        try:
            return self.service.result(reference)
        except UnknownReference:
            raise Refused(Reason.UNKNOWN) from None


def failure_reason(result: EidResult) -> Refused:
    if result.failure is Failure.TIMEOUT and "TC token was never fetched" in result.message:
        return Refused(Reason.NO_CLIENT)
    return Refused(Reason(result.failure.value) if result.failure else Reason.SERVER_ERROR, result.tries_left)


def verified(result: EidResult) -> bytes:
    """The card's pseudonym of a result the eID-Server verified itself; Refused otherwise."""
    if not result.ok:
        raise failure_reason(result)
    checks = result.checks
    if not (checks.passive_authentication and checks.chip_authentication):
        raise Refused(Reason.CARD_NOT_GENUINE)
    if result.pseudonym is None:
        raise Refused(Reason.NO_PSEUDONYM)
    return result.pseudonym


# --- what a verified result does to the session and the account ---

@dataclass(frozen=True)
class Completion:
    outcome: Outcome
    account_id: int | None
    attributes: Mapping[str, Attribute] = field(default_factory=dict)


def _link_of_card(db: Session, sector: str, pseudonym: bytes) -> EidLink | None:
    return db.scalar(select(EidLink).where(EidLink.sector == sector, EidLink.pseudonym == pseudonym.hex()))


def _raise_level(db: Session, session: ServerSession, account_id: int, result: EidResult, now: datetime.datetime,
                 client: Client) -> Mapping[str, Attribute]:
    read = from_eid(result, now)
    store_eid_attributes(db, account_id, read)
    record_authentication(db, session, account_id, METHOD.event(now), client)
    return read


def complete(db: Session, session: ServerSession, step_up: StepUpService, result: EidResult,
             now: datetime.datetime, client: Client) -> Completion:
    """What a finished result means for ``session`` (writes in ``db``; the caller commits). Raises
    Refused for failures; then nothing is written."""
    pseudonym = verified(result)
    link = _link_of_card(db, step_up.sector, pseudonym)
    account_id = session.account_id
    if account_id is None:
        if link is None:
            return Completion(Outcome.REGISTER, None)
        link.last_used_at = now
        return Completion(Outcome.RAISED, link.account_id, _raise_level(db, session, link.account_id, result, now, client))
    if link is not None and link.account_id != account_id:
        raise Refused(Reason.CARD_LINKED_ELSEWHERE)
    own = db.scalar(select(EidLink).where(EidLink.account_id == account_id))
    if link is None and own is not None:
        return Completion(Outcome.RELINK, account_id)
    if link is None:
        db.add(EidLink(account_id=account_id, sector=step_up.sector, pseudonym=pseudonym.hex(), linked_at=now,
                       last_used_at=now))
    else:
        link.last_used_at = now
    return Completion(Outcome.RAISED, account_id, _raise_level(db, session, account_id, result, now, client))


def relink(db: Session, session: ServerSession, step_up: StepUpService, result: EidResult, now: datetime.datetime,
           client: Client) -> Mapping[str, Attribute]:
    """Link the logged-in account to the card of ``result`` instead of its old one (the caller checked the
    password) and raise the level."""
    pseudonym = verified(result)
    account_id = session.account_id
    assert account_id is not None
    link = _link_of_card(db, step_up.sector, pseudonym)
    if link is not None and link.account_id != account_id:
        raise Refused(Reason.CARD_LINKED_ELSEWHERE)
    own = db.scalar(select(EidLink).where(EidLink.account_id == account_id))
    if own is None:
        db.add(EidLink(account_id=account_id, sector=step_up.sector, pseudonym=pseudonym.hex(), linked_at=now,
                       last_used_at=now))
    elif link is None:
        own.sector, own.pseudonym, own.linked_at, own.last_used_at = step_up.sector, pseudonym.hex(), now, now
    log.info("card re-linked", extra={"fields": {"account_id": account_id}})
    return _raise_level(db, session, account_id, result, now, client)


def register(db: Session, session: ServerSession, step_up: StepUpService, result: EidResult, account_id: int,
             now: datetime.datetime, client: Client) -> Mapping[str, Attribute]:
    """Link a just-created account (eID-first registration) to the card of ``result`` and log it in at level
    high. Raises Refused(CARD_LINKED_ELSEWHERE) if the card found an account meanwhile."""
    pseudonym = verified(result)
    if _link_of_card(db, step_up.sector, pseudonym) is not None:
        raise Refused(Reason.CARD_LINKED_ELSEWHERE)
    db.add(EidLink(account_id=account_id, sector=step_up.sector, pseudonym=pseudonym.hex(), linked_at=now,
                   last_used_at=now))
    return _raise_level(db, session, account_id, result, now, client)


def linked_card(db: Session, account_id: int) -> EidLink | None:
    return db.scalar(select(EidLink).where(EidLink.account_id == account_id))


def step_up_service(settings: Settings, database: Database, now: Callable[[], datetime.datetime]) -> StepUpService | None:
    """For the Flask app: None when the eID function is off (or the broker serves plain HTTP)."""
    if not available(settings):
        return None
    return StepUpService(eid_service(settings, database, now), settings.eid_psk, settings.eid_client_url)
