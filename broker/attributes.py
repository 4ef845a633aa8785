"""Citizen attributes with their provenance (see attributes.md).

Each attribute is kept once under the broker's own name; the frontends map the names to OIDC claims,
eIDAS and BundID-style SAML names. The account's e-mail address is self-declared (``verified_at``: its
confirmation link was opened). Attributes read from the ID card (:func:`from_eid`) carry
``source=Source.EID``, level high and the time of the reading; they are stored in ``account_attribute``
(:func:`store_eid_attributes`) beside the self-declared ones and replaced at every reading, so a value the
card no longer gives (a deselected optional field) is not kept from an older reading.

Values are strings as the card holds them (names in capitals); a date of birth is ``YYYY-MM-DD`` with
unknown parts as ``XX`` (``1984-XX-XX``); places join their parts with ", ".
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from broker.assurance import Level
from broker.models import AccountAttribute

if TYPE_CHECKING:
    from broker.models import Account
    from eid.server.result import EidResult

EMAIL = "email"
GIVEN_NAMES = "given_names"
FAMILY_NAMES = "family_names"
BIRTH_NAME = "birth_name"
DATE_OF_BIRTH = "date_of_birth"
PLACE_OF_BIRTH = "place_of_birth"
NATIONALITY = "nationality"
ACADEMIC_TITLE = "academic_title"
STREET = "address_street"
POSTAL_CODE = "address_postal_code"
LOCALITY = "address_locality"
COUNTRY = "address_country"
DOCUMENT_TYPE = "document_type"
ISSUING_STATE = "issuing_state"
PSEUDONYM = "pseudonym"

#: The data group each eID attribute is read from (TR-03127); the pseudonym comes from Restricted
#: Identification, not from a data group.
EID_DATA_GROUPS: Mapping[str, int] = MappingProxyType({
    DOCUMENT_TYPE: 1, ISSUING_STATE: 2, GIVEN_NAMES: 4, FAMILY_NAMES: 5, ACADEMIC_TITLE: 7, DATE_OF_BIRTH: 8,
    PLACE_OF_BIRTH: 9, NATIONALITY: 10, BIRTH_NAME: 13, STREET: 17, POSTAL_CODE: 17, LOCALITY: 17, COUNTRY: 17,
})


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


def account_attributes(account: Account, db: Session | None = None) -> Mapping[str, Attribute]:
    """The attributes the broker holds for ``account``, by name (with ``db``: the stored eID ones too)."""
    email = Attribute(
        name=EMAIL,
        value=account.email,
        source=Source.SELF_DECLARED,
        level=None,
        verified_at=account.email_verified_at,
    )
    found = {EMAIL: email}
    if db is not None:
        for row in db.scalars(select(AccountAttribute).where(AccountAttribute.account_id == account.id)):
            found[row.name] = Attribute(row.name, row.value, Source(row.source),
                                        None if row.level is None else Level(row.level), row.verified_at)
    return MappingProxyType(found)


def _date(value: Any) -> str:
    def part(number: int | None, width: int) -> str:
        return "X" * width if number is None else f"{number:0{width}d}"

    return f"{part(value.year, 4)}-{part(value.month, 2)}-{part(value.day, 2)}"


def _place(value: Any) -> str:
    from eid.data_groups import Place

    if isinstance(value, tuple):  # several places of residence: the first
        value = value[0]
    if isinstance(value, Place):
        return ", ".join(part for part in (value.street, value.zipcode, value.city, value.country) if part)
    return value.text  # free text, or "no place of residence in Germany"


def from_eid(result: EidResult, read_at: datetime) -> dict[str, Attribute]:
    """The attributes of a successful eID reading, by name (level high, read at ``read_at``)."""
    from eid.data_groups import Place

    values: dict[str, str] = {}
    simple = {DOCUMENT_TYPE: 1, GIVEN_NAMES: 4, FAMILY_NAMES: 5, ACADEMIC_TITLE: 7, NATIONALITY: 10, BIRTH_NAME: 13}
    for name, number in simple.items():
        if number in result.contents:
            values[name] = str(result.value(number))
    if 2 in result.contents:
        state = result.value(2)
        values[ISSUING_STATE] = state if isinstance(state, str) else _place(state)
    if 8 in result.contents:
        values[DATE_OF_BIRTH] = _date(result.value(8))
    if 9 in result.contents:
        values[PLACE_OF_BIRTH] = _place(result.value(9))
    if 17 in result.contents:
        residence = result.value(17)
        first = residence[0] if isinstance(residence, tuple) else residence
        if isinstance(first, Place):
            parts = {STREET: first.street, POSTAL_CODE: first.zipcode, LOCALITY: first.city, COUNTRY: first.country}
            values.update({name: part for name, part in parts.items() if part})
        else:
            values[LOCALITY] = _place(first)
    if result.pseudonym is not None:
        values[PSEUDONYM] = result.pseudonym.hex()
    return {name: Attribute(name, value, Source.EID, Level.HIGH, read_at) for name, value in values.items() if value}


def store_eid_attributes(db: Session, account_id: int, attributes: Mapping[str, Attribute]) -> None:
    """Replace the account's eID attributes by ``attributes`` (in ``db``; the caller commits)."""
    db.execute(delete(AccountAttribute).where(AccountAttribute.account_id == account_id,
                                              AccountAttribute.source == Source.EID.value)
               .execution_options(synchronize_session=False))
    db.add_all(AccountAttribute(account_id=account_id, name=a.name, value=a.value[:512], source=a.source.value,
                                level=None if a.level is None else int(a.level), verified_at=a.verified_at)
               for a in attributes.values())
