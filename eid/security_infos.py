"""SecurityInfos (BSI TR-03110-3 appendix A.1): the content of EF.CardAccess and of EF.CardSecurity's
security object.

``SecurityInfos ::= SET OF SecurityInfo``, each ``SEQUENCE { protocol OID, requiredData, optionalData }``.
Every kind the eID card uses is a frozen dataclass with ``encode()``; kinds this module does not know
(PasswordInfo, PSAInfo, …) are kept as :class:`UnknownSecurityInfo` so that nothing is lost. Domain
parameters (an AlgorithmIdentifier) are standardized (``bsi-de 1.2`` + id), explicit (id-ecPublicKey +
ECParameters) or, as some cards write them, a named curve.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from eid import der, ec, oid
from eid.domain_parameters import Curve, UnsupportedDomainParameters, by_explicit, by_name, by_standardized_id
from eid.errors import MalformedData
from eid.tlv import Tlv, encode


class SecurityInfoError(MalformedData):
    """A SecurityInfo that does not have the structure its protocol demands."""


# Named-curve OIDs (RFC 5639, RFC 5480) some cards use instead of explicit parameters.
NAMED_CURVES = {
    "1.2.840.10045.3.1.7": "prime256v1",
    "1.3.36.3.3.2.8.1.1.7": "brainpoolP256r1",
    "1.3.132.0.34": "secp384r1",
    "1.3.36.3.3.2.8.1.1.11": "brainpoolP384r1",
    "1.3.36.3.3.2.8.1.1.13": "brainpoolP512r1",
    "1.3.132.0.35": "secp521r1",
}


class ParameterForm(enum.Enum):
    STANDARDIZED = "standardized"
    EXPLICIT = "explicit"
    NAMED = "named"


@dataclass(frozen=True)
class DomainParameters:
    """An AlgorithmIdentifier naming elliptic-curve domain parameters (TR-03110-3 §A.2.1)."""

    curve: Curve
    form: ParameterForm = ParameterForm.STANDARDIZED

    def encode(self) -> bytes:
        if self.form is ParameterForm.STANDARDIZED:
            return der.encode_sequence([oid.encode(oid.STANDARDIZED_DOMAIN_PARAMETERS), der.encode_integer(self.curve.standardized_id)])
        if self.form is ParameterForm.NAMED:
            named = next(k for k, v in NAMED_CURVES.items() if v == self.curve.name)
            return der.encode_sequence([oid.encode(oid.ID_EC_PUBLIC_KEY), oid.encode(named)])
        return der.encode_sequence([oid.encode(oid.ID_EC_PUBLIC_KEY), encode_ec_parameters(self.curve)])

    @classmethod
    def from_tlv(cls, tlv: Tlv) -> DomainParameters:
        elements = der.children(der.expect(tlv, der.SEQUENCE, "AlgorithmIdentifier"), "AlgorithmIdentifier")
        if len(elements) != 2:
            raise SecurityInfoError("domain parameters must be an AlgorithmIdentifier with parameters")
        algorithm = _oid(elements[0], "AlgorithmIdentifier.algorithm")
        if algorithm == oid.STANDARDIZED_DOMAIN_PARAMETERS:
            return cls(by_standardized_id(der.decode_unsigned(elements[1], "standardized domain parameter id")))
        if algorithm != oid.ID_EC_PUBLIC_KEY:
            raise UnsupportedDomainParameters(f"domain parameters of type {oid.name(algorithm)} are not supported")
        if elements[1].tag == oid.TAG_OID:
            named = oid.decode_value(elements[1].value)
            if named not in NAMED_CURVES:
                raise UnsupportedDomainParameters(f"named curve {named} is not supported")
            return cls(by_name(NAMED_CURVES[named]), ParameterForm.NAMED)
        return cls(decode_ec_parameters(elements[1]), ParameterForm.EXPLICIT)


def encode_ec_parameters(curve: Curve) -> bytes:
    """Explicit ECParameters (RFC 3279 §2.3.5 / X9.62) with the cofactor."""
    return der.encode_sequence([
        der.encode_integer(1),
        der.encode_sequence([oid.encode(oid.ID_PRIME_FIELD), der.encode_integer(curve.p)]),
        der.encode_sequence([
            der.encode_octet_string(curve.a.to_bytes(curve.size, "big")),
            der.encode_octet_string(curve.b.to_bytes(curve.size, "big")),
        ]),
        der.encode_octet_string(ec.encode_point(curve, ec.generator(curve))),
        der.encode_integer(curve.n),
        der.encode_integer(curve.h),
    ])


def decode_ec_parameters(tlv: Tlv) -> Curve:
    """The supported curve described by explicit ECParameters."""
    what = "ECParameters"
    elements = der.children(der.expect(tlv, der.SEQUENCE, what), what)
    if not 5 <= len(elements) <= 6 or der.decode_integer(elements[0], "ECParameters.version") != 1:
        raise SecurityInfoError("ECParameters must be version 1 with field, curve, base, order [, cofactor]")
    field = der.children(der.expect(elements[1], der.SEQUENCE, "ECParameters.fieldID"), "fieldID")
    if len(field) != 2 or _oid(field[0], "fieldID.fieldType") != oid.ID_PRIME_FIELD:
        raise UnsupportedDomainParameters("only prime-field curves are supported")
    p = der.decode_unsigned(field[1], "prime")
    coefficients = der.children(der.expect(elements[2], der.SEQUENCE, "ECParameters.curve"), "curve")
    if len(coefficients) not in (2, 3):
        raise SecurityInfoError("ECParameters.curve must hold a, b [, seed]")
    a = int.from_bytes(der.decode_octet_string(coefficients[0], "curve.a"), "big")
    b = int.from_bytes(der.decode_octet_string(coefficients[1], "curve.b"), "big")
    base = der.decode_octet_string(elements[3], "ECParameters.base")
    if len(base) % 2 != 1 or base[:1] != b"\x04":
        raise SecurityInfoError("ECParameters.base must be an uncompressed point")
    half = len(base) // 2
    n = der.decode_unsigned(elements[4], "order")
    curve = by_explicit(p, a, b, int.from_bytes(base[1 : 1 + half], "big"), int.from_bytes(base[1 + half :], "big"), n)
    if len(elements) == 6 and der.decode_unsigned(elements[5], "cofactor") != curve.h:
        raise SecurityInfoError("ECParameters.cofactor does not match the curve")
    return curve


@dataclass(frozen=True)
class SubjectPublicKey:
    """A SubjectPublicKeyInfo of an EC key (the chip's static key for Chip Authentication)."""

    domain_parameters: DomainParameters
    point: bytes

    @property
    def curve(self) -> Curve:
        return self.domain_parameters.curve

    def encode(self) -> bytes:
        return der.encode_sequence([self.domain_parameters.encode(), der.encode_bit_string(self.point)])

    @classmethod
    def from_tlv(cls, tlv: Tlv) -> SubjectPublicKey:
        elements = der.children(der.expect(tlv, der.SEQUENCE, "SubjectPublicKeyInfo"), "SubjectPublicKeyInfo")
        if len(elements) != 2:
            raise SecurityInfoError("SubjectPublicKeyInfo must hold an algorithm and a key")
        parameters = DomainParameters.from_tlv(elements[0])
        point = der.decode_bit_string(elements[1], "subjectPublicKey")
        ec.decode_point(parameters.curve, point)
        return cls(parameters, point)


@dataclass(frozen=True)
class FileId:
    """``FileID ::= SEQUENCE { fid OCTET STRING (SIZE(2)), sfid OCTET STRING (SIZE(1)) OPTIONAL }``."""

    fid: bytes
    sfid: bytes | None = None

    def encode(self) -> bytes:
        parts = [der.encode_octet_string(self.fid)]
        if self.sfid is not None:
            parts.append(der.encode_octet_string(self.sfid))
        return der.encode_sequence(parts)

    @classmethod
    def from_tlv(cls, tlv: Tlv) -> FileId:
        elements = der.children(der.expect(tlv, der.SEQUENCE, "FileID"), "FileID")
        if not 1 <= len(elements) <= 2:
            raise SecurityInfoError("FileID must hold fid [, sfid]")
        fid = der.decode_octet_string(elements[0], "FileID.fid")
        sfid = der.decode_octet_string(elements[1], "FileID.sfid") if len(elements) == 2 else None
        if len(fid) != 2 or (sfid is not None and len(sfid) != 1):
            raise SecurityInfoError("FileID needs a 2-byte fid and a 1-byte sfid")
        return cls(fid, sfid)


def _oid(tlv: Tlv, what: str) -> str:
    der.expect(tlv, oid.TAG_OID, what)
    return oid.decode_value(tlv.value)


def _info(protocol: str, parts: Iterable[bytes]) -> bytes:
    return der.encode_sequence([oid.encode(protocol), *parts])


def _optional_integer(value: int | None) -> list[bytes]:
    return [] if value is None else [der.encode_integer(value)]


def _arity(elements: list[Tlv], low: int, high: int, what: str) -> None:
    if not low <= len(elements) <= high:
        raise SecurityInfoError(f"{what} has {len(elements)} elements after the protocol, expected {low}–{high}")


def _check_protocol(protocol: str, family: str, what: str) -> None:
    if not protocol.startswith(family + "."):
        raise SecurityInfoError(f"{oid.name(protocol)} is not a protocol of {what}")


# -- the SecurityInfo kinds ----------------------------------------------------------------------

@dataclass(frozen=True)
class PaceInfo:
    protocol: str
    version: int = 2
    parameter_id: int | None = None

    def encode(self) -> bytes:
        return _info(self.protocol, [der.encode_integer(self.version), *_optional_integer(self.parameter_id)])

    @classmethod
    def decode(cls, protocol: str, elements: list[Tlv]) -> PaceInfo:
        _arity(elements, 1, 2, "PACEInfo")
        parameter_id = der.decode_unsigned(elements[1], "PACEInfo.parameterId") if len(elements) == 2 else None
        return cls(protocol, der.decode_integer(elements[0], "PACEInfo.version"), parameter_id)


@dataclass(frozen=True)
class PaceDomainParameterInfo:
    protocol: str
    domain_parameters: DomainParameters
    parameter_id: int | None = None

    def encode(self) -> bytes:
        return _info(self.protocol, [self.domain_parameters.encode(), *_optional_integer(self.parameter_id)])

    @classmethod
    def decode(cls, protocol: str, elements: list[Tlv]) -> PaceDomainParameterInfo:
        _arity(elements, 1, 2, "PACEDomainParameterInfo")
        parameter_id = der.decode_unsigned(elements[1], "parameterId") if len(elements) == 2 else None
        return cls(protocol, DomainParameters.from_tlv(elements[0]), parameter_id)


@dataclass(frozen=True)
class ChipAuthenticationInfo:
    protocol: str
    version: int = 2
    key_id: int | None = None

    def encode(self) -> bytes:
        return _info(self.protocol, [der.encode_integer(self.version), *_optional_integer(self.key_id)])

    @classmethod
    def decode(cls, protocol: str, elements: list[Tlv]) -> ChipAuthenticationInfo:
        _arity(elements, 1, 2, "ChipAuthenticationInfo")
        key_id = der.decode_unsigned(elements[1], "ChipAuthenticationInfo.keyId") if len(elements) == 2 else None
        return cls(protocol, der.decode_integer(elements[0], "ChipAuthenticationInfo.version"), key_id)


@dataclass(frozen=True)
class ChipAuthenticationDomainParameterInfo:
    protocol: str
    domain_parameters: DomainParameters
    key_id: int | None = None

    def encode(self) -> bytes:
        return _info(self.protocol, [self.domain_parameters.encode(), *_optional_integer(self.key_id)])

    @classmethod
    def decode(cls, protocol: str, elements: list[Tlv]) -> ChipAuthenticationDomainParameterInfo:
        _arity(elements, 1, 2, "ChipAuthenticationDomainParameterInfo")
        key_id = der.decode_unsigned(elements[1], "keyId") if len(elements) == 2 else None
        return cls(protocol, DomainParameters.from_tlv(elements[0]), key_id)


@dataclass(frozen=True)
class ChipAuthenticationPublicKeyInfo:
    protocol: str
    public_key: SubjectPublicKey
    key_id: int | None = None

    def encode(self) -> bytes:
        return _info(self.protocol, [self.public_key.encode(), *_optional_integer(self.key_id)])

    @classmethod
    def decode(cls, protocol: str, elements: list[Tlv]) -> ChipAuthenticationPublicKeyInfo:
        _arity(elements, 1, 2, "ChipAuthenticationPublicKeyInfo")
        key_id = der.decode_unsigned(elements[1], "keyId") if len(elements) == 2 else None
        return cls(protocol, SubjectPublicKey.from_tlv(elements[0]), key_id)


@dataclass(frozen=True)
class TerminalAuthenticationInfo:
    protocol: str = oid.ID_TA
    version: int = 2
    ef_cvca: FileId | None = None

    def encode(self) -> bytes:
        parts = [der.encode_integer(self.version)]
        if self.ef_cvca is not None:
            parts.append(self.ef_cvca.encode())
        return _info(self.protocol, parts)

    @classmethod
    def decode(cls, protocol: str, elements: list[Tlv]) -> TerminalAuthenticationInfo:
        _arity(elements, 1, 2, "TerminalAuthenticationInfo")
        ef_cvca = FileId.from_tlv(elements[1]) if len(elements) == 2 else None
        return cls(protocol, der.decode_integer(elements[0], "TerminalAuthenticationInfo.version"), ef_cvca)


@dataclass(frozen=True)
class RestrictedIdentificationInfo:
    protocol: str
    key_id: int
    authorized_only: bool
    version: int = 1
    max_key_length: int | None = None

    def encode(self) -> bytes:
        params = der.encode_sequence([
            der.encode_integer(self.version), der.encode_integer(self.key_id), der.encode_boolean(self.authorized_only)
        ])
        return _info(self.protocol, [params, *_optional_integer(self.max_key_length)])

    @classmethod
    def decode(cls, protocol: str, elements: list[Tlv]) -> RestrictedIdentificationInfo:
        _arity(elements, 1, 2, "RestrictedIdentificationInfo")
        params = der.children(der.expect(elements[0], der.SEQUENCE, "ProtocolParams"), "ProtocolParams")
        if len(params) != 3:
            raise SecurityInfoError("ProtocolParams must hold version, keyId, authorizedOnly")
        max_key_length = der.decode_unsigned(elements[1], "maxKeyLen") if len(elements) == 2 else None
        return cls(
            protocol,
            key_id=der.decode_unsigned(params[1], "ProtocolParams.keyId"),
            authorized_only=der.decode_boolean(params[2], "ProtocolParams.authorizedOnly"),
            version=der.decode_integer(params[0], "ProtocolParams.version"),
            max_key_length=max_key_length,
        )


@dataclass(frozen=True)
class RestrictedIdentificationDomainParameterInfo:
    protocol: str
    domain_parameters: DomainParameters

    def encode(self) -> bytes:
        return _info(self.protocol, [self.domain_parameters.encode()])

    @classmethod
    def decode(cls, protocol: str, elements: list[Tlv]) -> RestrictedIdentificationDomainParameterInfo:
        _arity(elements, 1, 1, "RestrictedIdentificationDomainParameterInfo")
        return cls(protocol, DomainParameters.from_tlv(elements[0]))


@dataclass(frozen=True)
class CardInfoLocator:
    """CardInfo (id-CI): where the card's description lives; ``ef_card_info`` or raw extended data."""

    url: str
    ef_card_info: FileId | None = None
    extended: bytes | None = None
    protocol: str = oid.ID_CI

    def encode(self) -> bytes:
        parts = [der.encode_string(der.IA5_STRING, self.url)]
        if self.ef_card_info is not None:
            parts.append(self.ef_card_info.encode())
        elif self.extended is not None:
            parts.append(encode(0xA0, self.extended))
        return _info(self.protocol, parts)

    @classmethod
    def decode(cls, protocol: str, elements: list[Tlv]) -> CardInfoLocator:
        _arity(elements, 1, 2, "CardInfo")
        url = der.decode_string(elements[0], der.IA5_STRING, "CardInfo.urlCardInfo")
        if len(elements) == 1:
            return cls(url, protocol=protocol)
        if elements[1].tag == 0xA0:
            return cls(url, extended=elements[1].value, protocol=protocol)
        return cls(url, FileId.from_tlv(elements[1]), protocol=protocol)


@dataclass(frozen=True)
class EidSecurityInfo:
    """EIDSecurityInfo (id-eIDSecurity): hashes of data groups of the eID application."""

    hash_algorithm: str
    data_group_hashes: tuple[tuple[int, bytes], ...]
    version_info: bytes | None = None
    protocol: str = oid.ID_EID_SECURITY

    def encode(self) -> bytes:
        hashes = der.encode_sequence(
            der.encode_sequence([der.encode_integer(number), der.encode_octet_string(value)])
            for number, value in self.data_group_hashes
        )
        security_object = der.encode_sequence([der.encode_sequence([oid.encode(self.hash_algorithm)]), hashes])
        return _info(self.protocol, [security_object, *([self.version_info] if self.version_info else [])])

    @classmethod
    def decode(cls, protocol: str, elements: list[Tlv]) -> EidSecurityInfo:
        _arity(elements, 1, 2, "EIDSecurityInfo")
        security_object = der.children(der.expect(elements[0], der.SEQUENCE, "EIDSecurityObject"), "EIDSecurityObject")
        if len(security_object) != 2:
            raise SecurityInfoError("EIDSecurityObject must hold hashAlgorithm and dataGroupHashValues")
        algorithm = der.children(der.expect(security_object[0], der.SEQUENCE, "hashAlgorithm"), "hashAlgorithm")
        if not 1 <= len(algorithm) <= 2:
            raise SecurityInfoError("hashAlgorithm must be an AlgorithmIdentifier")
        hashes = []
        for entry in der.children(der.expect(security_object[1], der.SEQUENCE, "dataGroupHashValues"), "dataGroupHashValues"):
            pair = der.children(der.expect(entry, der.SEQUENCE, "DataGroupHash"), "DataGroupHash")
            if len(pair) != 2:
                raise SecurityInfoError("DataGroupHash must hold a number and a hash")
            hashes.append((der.decode_unsigned(pair[0], "dataGroupNumber"), der.decode_octet_string(pair[1], "dataGroupHashValue")))
        version_info = elements[1].encode() if len(elements) == 2 else None
        return cls(_oid(algorithm[0], "hashAlgorithm.algorithm"), tuple(hashes), version_info, protocol)


@dataclass(frozen=True)
class PrivilegedTerminalInfo:
    """PrivilegedTerminalInfo (id-PT): SecurityInfos of chip keys only privileged terminals may use."""

    security_infos: SecurityInfos
    protocol: str = oid.ID_PT

    def encode(self) -> bytes:
        return _info(self.protocol, [self.security_infos.encode()])

    @classmethod
    def decode(cls, protocol: str, elements: list[Tlv]) -> PrivilegedTerminalInfo:
        _arity(elements, 1, 1, "PrivilegedTerminalInfo")
        return cls(SecurityInfos.from_tlv(elements[0]), protocol)


@dataclass(frozen=True)
class UnknownSecurityInfo:
    """A SecurityInfo this module does not interpret; ``content`` is everything after the protocol OID."""

    protocol: str
    content: bytes

    def encode(self) -> bytes:
        return _info(self.protocol, [self.content])


SecurityInfo = (
    PaceInfo | PaceDomainParameterInfo | ChipAuthenticationInfo | ChipAuthenticationDomainParameterInfo
    | ChipAuthenticationPublicKeyInfo | TerminalAuthenticationInfo | RestrictedIdentificationInfo
    | RestrictedIdentificationDomainParameterInfo | CardInfoLocator | EidSecurityInfo | PrivilegedTerminalInfo
    | UnknownSecurityInfo
)
T = TypeVar("T")


PACE_FAMILIES = (oid.ID_PACE_DH_GM, oid.ID_PACE_ECDH_GM, oid.ID_PACE_DH_IM, oid.ID_PACE_ECDH_IM, oid.ID_PACE_ECDH_CAM)


def _kind(protocol: str) -> type | None:
    parent = protocol.rpartition(".")[0]
    if parent in PACE_FAMILIES:
        return PaceInfo
    if protocol in PACE_FAMILIES:
        return PaceDomainParameterInfo
    if parent in (oid.ID_CA_DH, oid.ID_CA_ECDH):
        return ChipAuthenticationInfo
    if protocol in (oid.ID_CA_DH, oid.ID_CA_ECDH):
        return ChipAuthenticationDomainParameterInfo
    if protocol in (oid.ID_PK_DH, oid.ID_PK_ECDH):
        return ChipAuthenticationPublicKeyInfo
    if protocol == oid.ID_TA:
        return TerminalAuthenticationInfo
    if parent in (oid.ID_RI_DH, oid.ID_RI_ECDH):
        return RestrictedIdentificationInfo
    if protocol in (oid.ID_RI_DH, oid.ID_RI_ECDH):
        return RestrictedIdentificationDomainParameterInfo
    if protocol == oid.ID_CI:
        return CardInfoLocator
    if protocol == oid.ID_EID_SECURITY:
        return EidSecurityInfo
    if protocol == oid.ID_PT:
        return PrivilegedTerminalInfo
    return None


def decode_security_info(tlv: Tlv) -> SecurityInfo:
    elements = der.children(der.expect(tlv, der.SEQUENCE, "SecurityInfo"), "SecurityInfo")
    if len(elements) < 2:
        raise SecurityInfoError("SecurityInfo needs a protocol and required data")
    protocol = _oid(elements[0], "SecurityInfo.protocol")
    kind = _kind(protocol)
    if kind is None:
        return UnknownSecurityInfo(protocol, b"".join(e.encode() for e in elements[1:]))
    try:
        return kind.decode(protocol, elements[1:])
    except UnsupportedDomainParameters:
        # e.g. DH domain parameters: keep the structure, it is not for us
        return UnknownSecurityInfo(protocol, b"".join(e.encode() for e in elements[1:]))


@dataclass(frozen=True)
class SecurityInfos:
    """An ordered collection of SecurityInfo (the order they were read in; encoding sorts as DER wants)."""

    infos: tuple[SecurityInfo, ...]

    def __iter__(self) -> Iterator[SecurityInfo]:
        return iter(self.infos)

    def __len__(self) -> int:
        return len(self.infos)

    def of_type(self, kind: type[T]) -> list[T]:
        return [info for info in self.infos if isinstance(info, kind)]

    def encode(self) -> bytes:
        return der.encode_set_of(info.encode() for info in self.infos)

    @classmethod
    def from_tlv(cls, tlv: Tlv) -> SecurityInfos:
        elements = der.children(der.expect(tlv, der.SET, "SecurityInfos"), "SecurityInfos")
        return cls(tuple(decode_security_info(e) for e in elements))

    # conveniences for the protocols

    def pace_infos(self) -> list[PaceInfo]:
        return self.of_type(PaceInfo)

    def chip_authentication_info(self, key_id: int | None = None) -> ChipAuthenticationInfo:
        return _one(self.of_type(ChipAuthenticationInfo), key_id, "ChipAuthenticationInfo")

    def chip_authentication_public_key(self, key_id: int | None = None) -> ChipAuthenticationPublicKeyInfo:
        return _one(self.of_type(ChipAuthenticationPublicKeyInfo), key_id, "ChipAuthenticationPublicKeyInfo")

    def restricted_identification_infos(self) -> list[RestrictedIdentificationInfo]:
        return self.of_type(RestrictedIdentificationInfo)


def _one(candidates: list, key_id: int | None, what: str):
    if key_id is not None:
        candidates = [c for c in candidates if c.key_id == key_id]
    if len(candidates) != 1:
        qualifier = f" with keyId {key_id}" if key_id is not None else ""
        raise SecurityInfoError(f"expected exactly one {what}{qualifier}, found {len(candidates)}")
    return candidates[0]


def parse_security_infos(data: bytes) -> SecurityInfos:
    """Parse DER SecurityInfos (the content of EF.CardAccess or of a CardSecurity security object)."""
    return SecurityInfos.from_tlv(der.parse_single(data, "SecurityInfos"))


def encode_security_infos(infos: Iterable[SecurityInfo]) -> bytes:
    return SecurityInfos(tuple(infos)).encode()
