"""Authenticated auxiliary data (BSI TR-03110-3 §A.7.5) and the chip's VERIFY comparisons (§B.6, §B.14.10).

The terminal commits to auxiliary data during Terminal Authentication: ``67 { 73 { 06 oid, 53 data }… }``.
After TA (and CA), ``VERIFY`` with an OID makes the chip compare the committed value with what it
stores:

- age verification (id-DateOfBirth): the stored date of birth is *not after* the required one;
- document validity (id-DateOfExpiry): the stored date of expiry is *not before* the terminal's date;
- community ID (id-MunicipalityID): the stored community ID *starts with* the given bytes.

Dates are ``Date ::= NumericString (SIZE (8)) -- YYYYMMDD`` (TR-03110-4 §2.2.3.1).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from eid import oid
from eid.apdu import CommandApdu
from eid.errors import MalformedData
from eid.tlv import Tlv, TlvError, decode_single, encode

TAG_AUTHENTICATION = 0x67
TAG_DISCRETIONARY_TEMPLATE = 0x73
TAG_DISCRETIONARY_DATA = 0x53

CLA_PROPRIETARY = 0x80  # VERIFY uses the proprietary class; secure messaging makes it 0x8C
INS_VERIFY = 0x20
P1_P2_VERIFY_AUXILIARY_DATA = (0x80, 0x00)

VERIFIABLE = (oid.ID_DATE_OF_BIRTH, oid.ID_DATE_OF_EXPIRY, oid.ID_MUNICIPALITY_ID)


class AuxiliaryDataError(MalformedData):
    """Auxiliary data that does not have the structure of TR-03110-3 table 19."""


class NotCommitted(MalformedData):
    """VERIFY for something the terminal did not commit to during Terminal Authentication (6A88)."""


def encode_date(day: datetime.date) -> bytes:
    return day.strftime("%Y%m%d").encode("ascii")


def decode_date(data: bytes) -> datetime.date:
    if len(data) != 8 or not data.isdigit():
        raise AuxiliaryDataError(f"date must be 8 digits YYYYMMDD, got {data!r}")
    try:
        return datetime.datetime.strptime(data.decode("ascii"), "%Y%m%d").date()
    except ValueError as exc:
        raise AuxiliaryDataError(f"invalid date {data!r}: {exc}") from None


@dataclass(frozen=True)
class AuxiliaryData:
    """The discretionary data templates in the order sent; for a repeated OID the last one counts."""

    entries: tuple[tuple[str, bytes], ...]

    def value(self, entry_oid: str) -> bytes | None:
        found = [data for key, data in self.entries if key == entry_oid]
        return found[-1] if found else None

    @property
    def required_date_of_birth(self) -> datetime.date | None:
        data = self.value(oid.ID_DATE_OF_BIRTH)
        return None if data is None else decode_date(data)

    @property
    def validity_date(self) -> datetime.date | None:
        """The terminal's current date, for document validity verification."""
        data = self.value(oid.ID_DATE_OF_EXPIRY)
        return None if data is None else decode_date(data)

    @property
    def community_id(self) -> bytes | None:
        return self.value(oid.ID_MUNICIPALITY_ID)

    def encode(self) -> bytes:
        return encode(TAG_AUTHENTICATION, [
            encode(TAG_DISCRETIONARY_TEMPLATE, [oid.encode(key), encode(TAG_DISCRETIONARY_DATA, data)])
            for key, data in self.entries
        ])

    @classmethod
    def from_tlv(cls, tlv: Tlv) -> AuxiliaryData:
        if tlv.tag != TAG_AUTHENTICATION:
            raise AuxiliaryDataError(f"auxiliary data must be an authentication object (67), found {tlv.tag:X}")
        try:
            templates = tlv.children
        except TlvError as exc:
            raise AuxiliaryDataError(f"auxiliary data is not TLV: {exc}") from None
        entries = []
        for template in templates:
            entry_oid, rest = oid.split_template(template, TAG_DISCRETIONARY_TEMPLATE, "an auxiliary data template (73)", AuxiliaryDataError)
            if len(rest) != 1 or rest[0].tag != TAG_DISCRETIONARY_DATA:
                raise AuxiliaryDataError("an auxiliary data template holds an OID and one discretionary data object (53)")
            entries.append((entry_oid, rest[0].value))
        aux = cls(tuple(entries))
        for date_oid in (oid.ID_DATE_OF_BIRTH, oid.ID_DATE_OF_EXPIRY):
            committed = aux.value(date_oid)
            if committed is not None:
                decode_date(committed)  # reject a malformed date now, not at VERIFY time
        return aux

    @classmethod
    def parse(cls, data: bytes) -> AuxiliaryData:
        try:
            return cls.from_tlv(decode_single(data))
        except TlvError as exc:
            raise AuxiliaryDataError(f"auxiliary data is not TLV: {exc}") from None


def build(
    *,
    required_date_of_birth: datetime.date | None = None,
    validity_date: datetime.date | None = None,
    community_id: bytes | None = None,
    extra: Iterable[tuple[str, bytes]] = (),
) -> AuxiliaryData:
    """What a terminal commits to for age, document validity and community ID verification."""
    entries: list[tuple[str, bytes]] = []
    if required_date_of_birth is not None:
        entries.append((oid.ID_DATE_OF_BIRTH, encode_date(required_date_of_birth)))
    if validity_date is not None:
        entries.append((oid.ID_DATE_OF_EXPIRY, encode_date(validity_date)))
    if community_id is not None:
        entries.append((oid.ID_MUNICIPALITY_ID, bytes(community_id)))
    entries += list(extra)
    return AuxiliaryData(tuple(entries))


def required_birth_date_for_age(age: int, today: datetime.date) -> datetime.date:
    """The latest date of birth of someone who is at least ``age`` years old on ``today``."""
    try:
        return today.replace(year=today.year - age)
    except ValueError:  # 29 February
        return today.replace(year=today.year - age, day=28)


def verify_command(verification_oid: str) -> CommandApdu:
    """VERIFY for auxiliary data (TR-03110-3 §B.14.10); the data field is the complete OID object."""
    return CommandApdu(CLA_PROPRIETARY, INS_VERIFY, *P1_P2_VERIFY_AUXILIARY_DATA, oid.encode(verification_oid))


def parse_verify_command(data: bytes) -> str:
    """The OID a VERIFY command asks about (chip side)."""
    try:
        tlv = decode_single(data)
    except TlvError as exc:
        raise AuxiliaryDataError(f"VERIFY data is not an OID: {exc}") from None
    if tlv.tag != oid.TAG_OID:
        raise AuxiliaryDataError(f"VERIFY data must be an OID (06), found tag {tlv.tag:X}")
    return oid.decode_value(tlv.value)


def verify(aux: AuxiliaryData, verification_oid: str, *, latest_date_of_birth: datetime.date | None,
           date_of_expiry: datetime.date | None, community_id: bytes | None) -> bool:
    """The chip's comparison for VERIFY; NotCommitted when the terminal did not send that datum.

    ``latest_date_of_birth`` is the latest possible date for a partly unknown date of birth
    (TR-03127 §DG8), so that an incomplete date never makes someone older than they surely are.
    """
    if verification_oid == oid.ID_DATE_OF_BIRTH:
        required = aux.required_date_of_birth
        if required is None or latest_date_of_birth is None:
            raise NotCommitted("no required date of birth for age verification")
        return latest_date_of_birth <= required
    if verification_oid == oid.ID_DATE_OF_EXPIRY:
        today = aux.validity_date
        if today is None or date_of_expiry is None:
            raise NotCommitted("no current date for document validity verification")
        return date_of_expiry >= today
    if verification_oid == oid.ID_MUNICIPALITY_ID:
        prefix = aux.community_id
        if prefix is None or community_id is None:
            raise NotCommitted("no community ID for community ID verification")
        return community_id.startswith(prefix)
    raise NotCommitted(f"{oid.name(verification_oid)} is not a verification the chip supports")
