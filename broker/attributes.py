"""Citizen attributes with their provenance (see attributes.md).

Each attribute is kept once under the broker's own name; the frontends map the names to OIDC claims,
eIDAS and BundID-style SAML names. Today an account has only a self-declared e-mail address; attributes
read from the eID will carry ``source=Source.EID`` with the level and time of the reading.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from broker.assurance import Level

if TYPE_CHECKING:
    from broker.models import Account

EMAIL = "email"


class Source(enum.StrEnum):
    SELF_DECLARED = "self-declared"
    EID = "eid"


@dataclass(frozen=True)
class Attribute:
    """One value and where it came from. ``verified_at`` is when it was last proven (for an e-mail
    address: its confirmation link was opened; for eID data: the card was read)."""

    name: str
    value: str
    source: Source
    level: Level | None
    verified_at: datetime | None


def account_attributes(account: Account) -> Mapping[str, Attribute]:
    """The attributes the broker holds for ``account``, by name."""
    email = Attribute(
        name=EMAIL,
        value=account.email,
        source=Source.SELF_DECLARED,
        level=None,
        verified_at=account.email_verified_at,
    )
    return MappingProxyType({EMAIL: email})
