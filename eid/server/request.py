"""What a service asks of one eID authentication: which data groups, which verifications, the pseudonym.

The broker builds an :class:`EidRequest` from what the requesting service may see (admin policy) and what
it wants now. The eID-Server turns it into the CHATs of DIDAuthenticate(EAC1InputType) — limited to the
rights of the terminal certificate, see :meth:`eid.server.terminal.EidTerminal.chats_for` — and into the
auxiliary data the card's VERIFY compares against (TR-03110-3 §A.7.5):

- reading data groups: ``AccessRight.READ_DG1`` … ``READ_DG22`` (names, date of birth, address …);
- ``AGE_VERIFICATION`` with ``minimum_age`` ("at least N years old", no birth date released);
- ``COMMUNITY_ID_VERIFICATION`` with ``community_id`` (digits of the community ID prefix, e.g.
  ``"02760503150000"`` or a shorter prefix such as ``"027605"``);
- ``RESTRICTED_IDENTIFICATION``: the card's sector-specific pseudonym for this terminal's sector;
- ``verify_validity``: the card checks it is not expired (needs no right, so it is on by default).

Required rights cannot be deselected by the citizen; optional ones can.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from eid import auxiliary_data, data_groups
from eid.auxiliary_data import AuxiliaryData
from eid.chat import AccessRight

READ_RIGHTS = frozenset(AccessRight.read(n) for n in data_groups.NUMBERS)
FUNCTION_RIGHTS = frozenset({AccessRight.AGE_VERIFICATION, AccessRight.COMMUNITY_ID_VERIFICATION,
                             AccessRight.RESTRICTED_IDENTIFICATION})
SUPPORTED_RIGHTS = READ_RIGHTS | FUNCTION_RIGHTS


class InvalidRequest(ValueError):
    """A request the eID-Server cannot carry out (unsupported right, missing parameter)."""


@dataclass(frozen=True)
class EidRequest:
    required: frozenset[AccessRight]
    optional: frozenset[AccessRight] = field(default_factory=frozenset)
    minimum_age: int | None = None
    community_id: str | None = None
    verify_validity: bool = True
    transaction_info: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "required", frozenset(AccessRight(r) for r in self.required))
        object.__setattr__(self, "optional", frozenset(AccessRight(r) for r in self.optional))
        unsupported = self.rights - SUPPORTED_RIGHTS
        if unsupported:
            raise InvalidRequest(f"the eID-Server does not perform {', '.join(sorted(r.name for r in unsupported))}")
        if self.required & self.optional:
            raise InvalidRequest("a right cannot be both required and optional")
        if not self.rights and not self.verify_validity:
            raise InvalidRequest("the request asks for nothing")
        if (AccessRight.AGE_VERIFICATION in self.rights) != (self.minimum_age is not None):
            raise InvalidRequest("age verification needs both the right and minimum_age")
        if self.minimum_age is not None and not 0 < self.minimum_age < 150:
            raise InvalidRequest(f"minimum age {self.minimum_age} is out of range")
        if (AccessRight.COMMUNITY_ID_VERIFICATION in self.rights) != (self.community_id is not None):
            raise InvalidRequest("community ID verification needs both the right and community_id")
        if self.community_id is not None:
            self.community_id_prefix  # raises for anything but digits

    @property
    def rights(self) -> frozenset[AccessRight]:
        return self.required | self.optional

    @property
    def community_id_prefix(self) -> bytes | None:
        """The community ID digits as the card stores them (BCD), for VERIFY."""
        if self.community_id is None:
            return None
        digits = self.community_id
        if not digits.isdigit() or not digits.isascii() or not 1 <= len(digits) <= 14:
            raise InvalidRequest("community_id must be 1 to 14 digits")
        try:
            return data_groups.community_id_from_digits(digits)
        except data_groups.DataGroupError as error:
            raise InvalidRequest(f"community_id: {error}") from None

    def auxiliary_data(self, today: datetime.date) -> AuxiliaryData | None:
        """What the terminal commits to in Terminal Authentication, for the VERIFY commands."""
        if self.minimum_age is None and self.community_id is None and not self.verify_validity:
            return None
        return auxiliary_data.build(
            required_date_of_birth=None if self.minimum_age is None
            else auxiliary_data.required_birth_date_for_age(self.minimum_age, today),
            validity_date=today if self.verify_validity else None,
            community_id=self.community_id_prefix,
        )


def read_rights(chat_rights: frozenset[AccessRight]) -> tuple[int, ...]:
    """The numbers of the data groups among ``chat_rights``, in order."""
    return tuple(n for n in data_groups.NUMBERS if AccessRight.read(n) in chat_rights)
