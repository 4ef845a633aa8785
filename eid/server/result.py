"""The outcome of one eID authentication, as the broker reads it (by the session's result reference).

An :class:`EidResult` is either a success — the data groups read (raw, decoded on access by
:mod:`eid.data_groups`), the Restricted Identification pseudonym, the answers of age / community ID /
validity verification — or a failure with a :class:`Failure` reason a citizen-facing page can explain.
Both say what the eID-Server verified itself (:class:`ServerChecks`): passive authentication of
EF.CardSecurity (with the Document Signer and CSCA), the Chip Authentication token, and how many
secure-messaging response MACs it checked. (An eID client's "ok" proves nothing: AusweisApp's Simulator,
for one, does not check Terminal Authentication and swallows some bad MACs.)

:func:`client_failure` maps the ResultMajor/ResultMinor an eID client reports (TR-03112-1 §4.1, the codes
AusweisApp sends, TR-03112-7 §3.6.4: RetryCounter after a wrong PIN) to a :class:`Failure`.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field
from typing import Any

from eid import data_groups, paos
from eid.data_groups import PartialDate, Place
from eid.paos import Result
from eid.server import serialisation


class Failure(enum.StrEnum):
    CANCELLED = "cancelled"
    """The citizen cancelled (or the eID client gave up, e.g. the card was taken away)."""
    WRONG_PIN = "wrong_pin"
    """A wrong PIN; ``tries_left`` says how many attempts remain."""
    CAN_REQUIRED = "can_required"
    """Two wrong PINs: the PIN is suspended until the card access number (CAN) is entered first."""
    PIN_BLOCKED = "pin_blocked"
    """Three wrong PINs: only the PUK unblocks the PIN."""
    EID_DEACTIVATED = "eid_deactivated"
    """The online function of the ID card is switched off."""
    CARD_EXPIRED = "card_expired"
    """Document validity verification: the card has expired."""
    CARD_REVOKED = "card_revoked"
    """The blocklist lists the card (reported lost or stolen) or its Document Signer."""
    CARD_NOT_GENUINE = "card_not_genuine"
    """Passive authentication or the Chip Authentication token failed: no genuine, valid card."""
    NO_CARD = "no_card"
    COMMUNICATION_ERROR = "communication_error"
    """The connection to the eID client or its card broke (including a secure-messaging MAC failure)."""
    TIMEOUT = "timeout"
    """The eID client stopped answering; the session expired."""
    CLIENT_ERROR = "client_error"
    """The eID client reported another error or broke the protocol."""
    SERVER_ERROR = "server_error"


@dataclass(frozen=True)
class ServerChecks:
    """What the eID-Server verified itself, whatever the client reported."""

    passive_authentication: bool = False
    document_signer: str | None = None
    """Subject of the Document Signer certificate that signed EF.CardSecurity (RFC 4514)."""
    csca: str | None = None
    chip_authentication: bool = False
    """The chip's CA token T_PICC matched: it holds the private key EF.CardSecurity vouches for."""
    response_macs: int = 0
    """Secure-messaging responses whose MAC the server checked (every one of them)."""
    revocation_checked: bool = False
    """The card's revocation identifier was read and compared with the blocklist (when it lists cards)."""


@dataclass(frozen=True)
class EidResult:
    finished_at: datetime.datetime
    failure: Failure | None = None
    message: str = ""
    """What happened, in technical English for logs (never a secret)."""
    tries_left: int | None = None
    checks: ServerChecks = field(default_factory=ServerChecks)
    released: bytes | None = None
    """The CHAT the citizen released (EAC1OutputType), if the client sent it."""
    contents: dict[int, bytes] = field(default_factory=dict, repr=False)
    """Raw data groups read, by number."""
    not_read: tuple[int, ...] = ()
    """Requested data groups the card did not give (absent on the card or refused)."""
    pseudonym: bytes | None = field(default=None, repr=False)
    """Restricted Identification: the card's identifier for the terminal's (first) sector."""
    age_verified: bool | None = None
    community_id_verified: bool | None = None
    document_valid: bool | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def value(self, number: int) -> Any:
        """DG``number`` decoded (see :mod:`eid.data_groups`); KeyError if it was not read."""
        return data_groups.decode_data_group(number, self.contents[number])

    def _optional(self, number: int) -> Any:
        return self.value(number) if number in self.contents else None

    @property
    def document_type(self) -> str | None:
        return self._optional(1)

    @property
    def issuing_state(self) -> str | Place | None:
        """DG2: a state code ("D"), or a Place for documents issued by an entity without one."""
        return self._optional(2)

    @property
    def given_names(self) -> str | None:
        return self._optional(4)

    @property
    def family_names(self) -> str | None:
        return self._optional(5)

    @property
    def date_of_birth(self) -> PartialDate | None:
        return self._optional(8)

    def to_dict(self) -> dict:
        return serialisation.dump(self)

    @classmethod
    def from_dict(cls, data: dict) -> EidResult:
        return serialisation.load(cls, data)


def failed(now: datetime.datetime, failure: Failure, message: str, checks: ServerChecks | None = None,
           tries_left: int | None = None) -> EidResult:
    return EidResult(now, failure, message, tries_left, checks or ServerChecks())


_MINOR_FAILURES = {
    "sal#cancellationByUser": Failure.CANCELLED,
    "ifdl#cancellationByUser": Failure.CANCELLED,
    "ifdl/terminal#noCard": Failure.NO_CARD,
    "dp#timeout": Failure.TIMEOUT,
    "ifdl/common#timeoutError": Failure.TIMEOUT,
    "al/common#communicationError": Failure.COMMUNICATION_ERROR,
    "dp#communicationError": Failure.COMMUNICATION_ERROR,
    "dp#trustedChannelEstablishmentFailed": Failure.COMMUNICATION_ERROR,
    "dp#nodeNotReachable": Failure.COMMUNICATION_ERROR,
    "sal#securityConditionsNotSatisfied": Failure.WRONG_PIN,
}


def client_failure(result: Result, retry_counter: int | None = None) -> tuple[Failure, int | None]:
    """The reason behind an error a client reported, and the PIN tries left when it said so.

    A RetryCounter (EAC1OutputType of a failed PACE) tells the PIN's state: 0 blocked, 1 suspended (the CAN
    is needed first), otherwise a wrong PIN with that many tries left — unless the citizen merely
    cancelled with the counter untouched (3).
    """
    minor = (result.minor or "").removeprefix(paos.RESULT_MINOR_PREFIX)
    text = (result.message or "").lower()
    if retry_counter is not None:
        if retry_counter == 0:
            return Failure.PIN_BLOCKED, 0
        if retry_counter == 1:
            return Failure.CAN_REQUIRED, 1
        if retry_counter < 3 or minor != "sal#cancellationByUser":
            return Failure.WRONG_PIN, retry_counter
    if minor == "al/common#noPermission":
        if "deactivat" in text:
            return Failure.EID_DEACTIVATED, None
        if "blocked" in text:
            return Failure.PIN_BLOCKED, None
    return _MINOR_FAILURES.get(minor, Failure.CLIENT_ERROR), None
