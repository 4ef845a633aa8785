"""Assurance levels and the protocol-neutral request/result between frontends and methods.

Levels follow eIDAS (Implementing Regulation 2015/1502): low, substantial, high. Their names in the other
vocabularies (design.md, "Assurance levels"):

- eIDAS LoA URIs ``http://eidas.europa.eu/LoA/{low,substantial,high}`` (OIDC ``acr``, SAML
  ``AuthnContextClassRef``),
- BSI TR-03107-1 names ``normal``, ``substantiell``, ``hoch`` and the TR-03130 URIs
  ``http://bsi.bund.de/eID/LoA/{normal,substantiell,hoch}``,
- STORK QAA levels used by BundID-style SAML: ``STORK-QAA-Level-1``, ``-3``, ``-4``.

A session keeps every :class:`AuthenticationEvent`; an event of level L stands for every level l <= L while
its age is at most the configured maximum age of l. So a fresh eID login counts as *high* for minutes and
as *low* for the whole session. This module does no I/O; ``now`` is always a parameter.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from broker.attributes import Attribute


class Level(enum.IntEnum):
    LOW = 1
    SUBSTANTIAL = 2
    HIGH = 3

    @property
    def eidas_uri(self) -> str:
        return f"http://eidas.europa.eu/LoA/{self.name.lower()}"

    @property
    def tr03107_name(self) -> str:
        return _TR03107[self]

    @property
    def bsi_uri(self) -> str:
        return f"http://bsi.bund.de/eID/LoA/{self.tr03107_name}"

    @property
    def stork_qaa(self) -> str:
        return _STORK[self]

    @property
    def label(self) -> str:
        """The broker's own name: ``low``, ``substantial``, ``high``."""
        return self.name.lower()

    @classmethod
    def from_name(cls, name: str) -> Level:
        """``low``/``substantial``/``high`` (case-insensitive); ValueError otherwise."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown assurance level {name!r}") from None

    @classmethod
    def from_uri(cls, value: str) -> Level:
        """Any of the level names of the four vocabularies; :class:`UnknownLevel` otherwise."""
        try:
            return _BY_URI[value]
        except KeyError:
            raise UnknownLevel(value) from None


_TR03107 = {Level.LOW: "normal", Level.SUBSTANTIAL: "substantiell", Level.HIGH: "hoch"}
_STORK = {Level.LOW: "STORK-QAA-Level-1", Level.SUBSTANTIAL: "STORK-QAA-Level-3",
          Level.HIGH: "STORK-QAA-Level-4"}
_BY_URI = {name: level for level in Level
           for name in (level.eidas_uri, level.bsi_uri, level.stork_qaa, level.tr03107_name)}


class UnknownLevel(ValueError):
    """A requested level (acr value, AuthnContextClassRef) that names no known level."""

    def __init__(self, value: str) -> None:
        super().__init__(f"unknown assurance level identifier {value!r}")
        self.value = value


@dataclass(frozen=True)
class AuthenticationEvent:
    """One successful authentication within a session.

    ``method`` is the broker's method name ("password", later "eid"); ``amr`` holds RFC 8176 values
    ("pwd"; the eID will add "hwk" and "pin").
    """

    method: str
    level: Level
    amr: tuple[str, ...]
    at: datetime


def _supports(event: AuthenticationEvent, level: Level, now: datetime,
              max_age: Mapping[Level, timedelta]) -> bool:
    return event.level >= level and now - event.at <= max_age[level]


def current_level(events: Iterable[AuthenticationEvent], now: datetime,
                  max_age: Mapping[Level, timedelta]) -> Level | None:
    """The highest level some event still stands for, or None when none is fresh enough."""
    events = tuple(events)
    for level in sorted(Level, reverse=True):
        if any(_supports(event, level, now, max_age) for event in events):
            return level
    return None


@dataclass(frozen=True)
class AuthRequest:
    """What a frontend (OIDC, SAML) asks of the broker on behalf of one service.

    ``service_minimum`` is the admin-set level of the service; ``requested_level`` comes from the
    request (acr_values, an essential acr claim, RequestedAuthnContext). The request can raise the level
    but never lower it. ``max_age`` asks for an authentication no older than that (OIDC max_age, SAML
    ForceAuthn as zero).
    """

    service_id: str
    service_minimum: Level = Level.LOW
    requested_level: Level | None = None
    requested_attributes: frozenset[str] = frozenset()
    max_age: timedelta | None = None

    @property
    def required_level(self) -> Level:
        if self.requested_level is None:
            return self.service_minimum
        return max(self.service_minimum, self.requested_level)


@dataclass(frozen=True)
class AuthResult:
    """What the broker hands back to the frontend for one service."""

    service_id: str
    account_id: int
    level: Level
    auth_time: datetime
    amr: tuple[str, ...]
    methods: tuple[str, ...]
    attributes: Mapping[str, Attribute] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def acr(self) -> str:
        return self.level.eidas_uri


@dataclass(frozen=True)
class StepUpRequired:
    """The session does not satisfy the request: authenticate at ``level`` (or more) first."""

    level: Level


def evaluate(request: AuthRequest, account_id: int | None, events: Iterable[AuthenticationEvent],
             now: datetime, max_age: Mapping[Level, timedelta],
             attributes: Mapping[str, Attribute]) -> AuthResult | StepUpRequired:
    """Decide whether a session satisfies ``request``.

    The result carries the session's current level (which may exceed the requirement), the events that
    stand for the required level (their amr values and methods), the latest of their times as
    ``auth_time``, and only the requested attributes the account has.
    """
    required = request.required_level
    if account_id is None:
        return StepUpRequired(required)
    events = tuple(events)
    supporting = [event for event in events if _supports(event, required, now, max_age)]
    if request.max_age is not None:
        supporting = [event for event in supporting if now - event.at <= request.max_age]
    if not supporting:
        return StepUpRequired(required)
    level = current_level(supporting, now, max_age)
    assert level is not None and level >= required
    amr = tuple(dict.fromkeys(value for event in supporting for value in event.amr))
    methods = tuple(dict.fromkeys(event.method for event in supporting))
    released = {name: attributes[name] for name in sorted(request.requested_attributes) if name in attributes}
    return AuthResult(
        service_id=request.service_id,
        account_id=account_id,
        level=level,
        auth_time=max(event.at for event in supporting),
        amr=amr,
        methods=methods,
        attributes=MappingProxyType(released),
    )
