"""Restricted Identification with ECDH, both roles (TR-03110-2 §3.6, TR-03110-3 §A.5.4, §B.4).

The sector-specific identifier — the pseudonym a service provider sees — is
I = H(x(SK_ID · PK_Sector)): the same card and sector always give the same value, different sectors give
unlinkable ones. The terminal sends the sector public key(s) as public key data objects with full domain
parameters under tags A0 (and A2); the chip answers with the identifiers under 81 (and 83). The chip
accepts a sector key only if its hash is in the terminal certificate's sector extension (id-sector,
TR-03110-3 §C.3.2.1) — that check needs the certificate and is the card's business; this module gives
:meth:`SectorPublicKey.public_key_data_object`, the bytes to hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from eid import dynamic_authentication_data, ec, key_agreement, oid
from eid.apdu import SHORT_MAX_NE, CommandApdu, ResponseApdu
from eid.chip_authentication import ChipAuthenticationSelection
from eid.cvc import CvPublicKey
from eid.domain_parameters import Curve
from eid.errors import MalformedData
from eid.key_derivation import UnsupportedProtocol
from eid.status import raise_for_status
from eid.signature import UnsupportedAlgorithm
from eid.tlv import Tlv, decode_single, encode

INS_GENERAL_AUTHENTICATE = 0x86
TAG_FIRST_SECTOR_KEY = 0xA0
TAG_SECOND_SECTOR_KEY = 0xA2
TAG_FIRST_IDENTIFIER = 0x81
TAG_SECOND_IDENTIFIER = 0x83
TAG_PUBLIC_KEY = 0x7F49

_HASHES = {
    oid.ID_RI_ECDH_SHA_1: "sha1",
    oid.ID_RI_ECDH_SHA_224: "sha224",
    oid.ID_RI_ECDH_SHA_256: "sha256",
    oid.ID_RI_ECDH_SHA_384: "sha384",
    oid.ID_RI_ECDH_SHA_512: "sha512",
}


class RestrictedIdentificationError(MalformedData):
    """A Restricted Identification message that does not have the expected form."""


def hash_name(protocol: str) -> str:
    try:
        return _HASHES[protocol]
    except KeyError:
        raise UnsupportedProtocol(f"Restricted Identification protocol {oid.name(protocol)} is not supported") from None


@dataclass(frozen=True, slots=True)
class SectorPublicKey:
    """PK_Sector with its domain parameters, as RI and the id-sector extension need it."""

    protocol: str
    curve: Curve
    point: bytes

    def __post_init__(self) -> None:
        hash_name(self.protocol)
        ec.decode_point(self.curve, self.point)

    def public_key_data_object(self) -> bytes:
        """7F49{06, 81…87} (TR-03110-3 §D.3.3): what the id-sector extension holds the hash of."""
        return CvPublicKey(self.protocol, self.point, self.curve).encode()

    def encode(self, tag: int = TAG_FIRST_SECTOR_KEY) -> bytes:
        """The public key data object with 7F49 replaced by A0 or A2 (TR-03110-3 §B.4.1)."""
        return encode(tag, decode_single(self.public_key_data_object(), TAG_PUBLIC_KEY).value)

    @classmethod
    def parse(cls, value: bytes) -> SectorPublicKey:
        """From the content of an A0/A2 (or 7F49) object; the domain parameters must be a known curve."""
        try:
            key = CvPublicKey.from_tlv(Tlv(TAG_PUBLIC_KEY, value))
            if key.curve is None:
                raise RestrictedIdentificationError("sector public key lacks its domain parameters")
            return cls(key.algorithm, key.curve, key.point)
        except (UnsupportedProtocol, UnsupportedAlgorithm) as exc:
            raise RestrictedIdentificationError(f"sector public key: {exc}") from None


def sector_identifier(protocol: str, curve: Curve, private_key: int, sector_point: bytes) -> bytes:
    """I_ID^Sector = H(x(SK_ID · PK_Sector))."""
    point = ec.decode_point(curve, sector_point)
    return hashlib.new(hash_name(protocol), key_agreement.shared_secret(curve, private_key, point)).digest()


@dataclass(frozen=True, slots=True)
class RestrictedIdentificationResult:
    first: bytes
    second: bytes | None = None


@dataclass(frozen=True, slots=True)
class RestrictedIdentification:
    """The terminal's side: MSE:Set AT (80 RI-OID, 84 key id) and General Authenticate with one or two
    sector keys."""

    protocol: str
    key_id: int
    first_sector: SectorPublicKey
    second_sector: SectorPublicKey | None = None

    def __post_init__(self) -> None:
        hash_name(self.protocol)

    def request(self) -> list[CommandApdu]:
        keys = self.first_sector.encode(TAG_FIRST_SECTOR_KEY)
        if self.second_sector is not None:
            keys += self.second_sector.encode(TAG_SECOND_SECTOR_KEY)
        return [ChipAuthenticationSelection(self.protocol, self.key_id).command(),
                CommandApdu(0x00, INS_GENERAL_AUTHENTICATE, 0, 0, dynamic_authentication_data.build(keys),
                            SHORT_MAX_NE)]

    def evaluate(self, responses: Sequence[ResponseApdu]) -> RestrictedIdentificationResult:
        if len(responses) != 2:
            raise RestrictedIdentificationError(f"Restricted Identification needs 2 responses, got {len(responses)}")
        raise_for_status(responses[0].sw, "MSE:Set AT for Restricted Identification")
        raise_for_status(responses[1].sw, "General Authenticate for Restricted Identification")
        values = parse_identifiers(responses[1].data)
        if TAG_FIRST_IDENTIFIER not in values or (self.second_sector is not None) != (TAG_SECOND_IDENTIFIER in values):
            raise RestrictedIdentificationError("the chip did not return one identifier per sector key")
        return RestrictedIdentificationResult(values[TAG_FIRST_IDENTIFIER], values.get(TAG_SECOND_IDENTIFIER))


def parse_identifiers(data: bytes) -> dict[int, bytes]:
    return dynamic_authentication_data.parse(data, (), (TAG_FIRST_IDENTIFIER, TAG_SECOND_IDENTIFIER),
                                             RestrictedIdentificationError, at_least_one=True)


def parse_sector_keys(data: bytes) -> tuple[SectorPublicKey, SectorPublicKey | None]:
    """The chip's side: the sector keys of a General Authenticate command."""
    values = dynamic_authentication_data.parse(data, (TAG_FIRST_SECTOR_KEY,), (TAG_SECOND_SECTOR_KEY,),
                                               RestrictedIdentificationError)
    second = values.get(TAG_SECOND_SECTOR_KEY)
    return SectorPublicKey.parse(values[TAG_FIRST_SECTOR_KEY]), SectorPublicKey.parse(second) if second else None


def chip_respond(protocol: str, curve: Curve, private_key: int, first: SectorPublicKey,
                 second: SectorPublicKey | None = None) -> bytes:
    """The identifiers for already accepted sector keys, as General Authenticate response data."""
    parts = []
    for tag, sector in ((TAG_FIRST_IDENTIFIER, first), (TAG_SECOND_IDENTIFIER, second)):
        if sector is None:
            continue
        if sector.curve != curve:
            raise RestrictedIdentificationError("sector public key is on a different curve than the chip's RI key")
        parts.append(encode(tag, sector_identifier(protocol, curve, private_key, sector.point)))
    return dynamic_authentication_data.build(*parts)
