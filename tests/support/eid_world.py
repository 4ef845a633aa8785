"""A test PKI, virtual cards personalised under it, and the terminal that holds its credentials.

Everything is made by the project's own ``eid.pki`` on a fixed day, so certificate validity and the
card's current date are the same in every run.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import os

from cardreader.virtual import VirtualCard
from eid import oid, pki
from eid.card_profile import CardProfile
from eid.chat import Chat, Role
from eid.restricted_identification import SectorPublicKey
from eid.terminal import AuthenticationTerminal, CardSession, PassiveAuthenticationPolicy

TODAY = datetime.date(2026, 3, 2)
NOW = datetime.datetime.combine(TODAY, datetime.time(12), tzinfo=datetime.UTC)
PIN, CAN, PUK = "123456", "500540", "9876543210"


@functools.cache
def shared_pki() -> pki.TestPki:
    return pki.create_test_pki(today=TODAY)


@functools.cache
def _base_profile() -> CardProfile:
    return pki.create_card_profile(shared_pki(), today=TODAY)


def profile(**password_changes: object) -> CardProfile:
    """Erika Mustermann's card; keyword arguments change its password state (pin, pin_retries, …)."""
    base = _base_profile()
    if not password_changes:
        return base
    return dataclasses.replace(base, passwords=dataclasses.replace(base.passwords, **password_changes))


def card(source: CardProfile | None = None) -> VirtualCard:
    virtual = VirtualCard(source or profile())
    virtual.power_on()
    return virtual


def session(source: CardProfile | VirtualCard | None = None) -> CardSession:
    return CardSession(source if isinstance(source, VirtualCard) else card(source))


def terminal(the_pki: pki.TestPki | None = None) -> AuthenticationTerminal:
    p = the_pki or shared_pki()
    return AuthenticationTerminal((p.cvca, p.dv, p.terminal), p.terminal, p.terminal_signer())


def passive_policy() -> PassiveAuthenticationPolicy:
    return PassiveAuthenticationPolicy((shared_pki().csca,), lambda: NOW)


def terminal_chat() -> Chat:
    return Chat(Role.TERMINAL, pki.TERMINAL_RIGHTS)


def sectors() -> tuple[SectorPublicKey, SectorPublicKey]:
    p = shared_pki()
    first, second = (SectorPublicKey(oid.ID_RI_ECDH_SHA_256, p.curve, pki.public_point(k)) for k in p.sector_keys)
    return first, second


rng = os.urandom
