"""Card Verifiable Certificates (BSI TR-03110-3 appendix C and D; ISO/IEC 7816-8): parse, create,
verify, and validate a chain the way the chip does (§2.5, §2.7).

A certificate is ``7F21 { 7F4E body, 5F37 signature }``; the signature (plain ECDSA, TR-03111) is over
the encoded body and made with the *issuer's* key, whose object identifier fixes the hash. DV and
terminal keys carry no domain parameters: they inherit the CVCA's.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec

from eid import ec, oid, signature
from eid.chat import Chat, ChatError, Role, effective_authorization
from eid.domain_parameters import Curve, by_explicit
from eid.errors import MalformedData, VerificationFailed
from eid.signature import Signer
from eid.tlv import Tlv, TlvError, decode_single, encode

TAG_CV_CERTIFICATE = 0x7F21
TAG_BODY = 0x7F4E
TAG_PROFILE_IDENTIFIER = 0x5F29
TAG_CAR = 0x42
TAG_PUBLIC_KEY = 0x7F49
TAG_CHR = 0x5F20
TAG_CHAT = 0x7F4C
TAG_EFFECTIVE_DATE = 0x5F25
TAG_EXPIRATION_DATE = 0x5F24
TAG_EXTENSIONS = 0x65
TAG_DISCRETIONARY_TEMPLATE = 0x73
TAG_SIGNATURE = 0x5F37

PROFILE_VERSION_1 = 0
# EC public key data objects: TA (ECDSA) keys in certificates, RI sector keys, CA keys (TR-03110-3 §D.3.3)
EC_KEY_FAMILIES = (oid.ID_TA_ECDSA + ".", oid.ID_RI_ECDH + ".", oid.ID_PK_ECDH, oid.ID_CA_ECDH)
MAX_REFERENCE_LENGTH = 16


class CvcError(MalformedData):
    """Bytes that are not a well-formed CV certificate (or part of one)."""


class CertificateRejected(VerificationFailed):
    """A CV certificate that does not verify or may not be used: signature, dates, roles, chain."""


class KeyNotFound(VerificationFailed):
    """No trust point or imported key with the requested reference."""


# -- value encodings (TR-03110-3 §D.2.1) ---------------------------------------------------------

def encode_date(value: datetime.date) -> bytes:
    """YYMMDD as six unpacked BCD digits; the year must be 2000–2099."""
    if not 2000 <= value.year <= 2099:
        raise ValueError(f"year {value.year} cannot be encoded in a CV certificate")
    return bytes(int(c) for c in value.strftime("%y%m%d"))


def decode_date(data: bytes) -> datetime.date:
    if len(data) != 6 or any(b > 9 for b in data):
        raise CvcError(f"date must be six unpacked BCD digits, got {data.hex()}")
    try:
        return datetime.date(2000 + data[0] * 10 + data[1], data[2] * 10 + data[3], data[4] * 10 + data[5])
    except ValueError as exc:
        raise CvcError(f"invalid date {data.hex()}: {exc}") from None


def decode_reference(data: bytes) -> str:
    """A CAR or CHR: ISO/IEC 8859-1 without the unassigned control ranges."""
    if not 1 <= len(data) <= MAX_REFERENCE_LENGTH:
        raise CvcError(f"certificate reference of {len(data)} bytes")
    if any(b < 0x20 or 0x7F <= b <= 0x9F for b in data):
        raise CvcError(f"certificate reference {data.hex()} contains unassigned characters")
    return data.decode("latin-1")


def encode_reference(reference: str) -> bytes:
    try:
        data = reference.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"certificate reference {reference!r} is not ISO/IEC 8859-1") from None
    decode_reference(data)
    return data


def _unsigned(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


# -- public keys (TR-03110-3 §D.3.3) ------------------------------------------------------------

@dataclass(frozen=True)
class CvPublicKey:
    """The ``7F49`` public key data object of an EC key.

    ``algorithm`` is the TA object identifier (id-TA-ECDSA-SHA-256, …); ``curve`` is set when the
    object carries domain parameters (self-signed CVCA, link certificates, requests).
    """

    algorithm: str
    point: bytes
    curve: Curve | None = None

    def encode(self) -> bytes:
        parts = [oid.encode(self.algorithm)]
        if self.curve is not None:
            c = self.curve
            parts += [
                encode(0x81, _unsigned(c.p)),
                encode(0x82, c.a.to_bytes(c.size, "big")),
                encode(0x83, c.b.to_bytes(c.size, "big")),
                encode(0x84, ec.encode_point(c, ec.generator(c))),
                encode(0x85, _unsigned(c.n)),
            ]
        parts.append(encode(0x86, self.point))
        if self.curve is not None:
            parts.append(encode(0x87, _unsigned(self.curve.h)))
        return encode(TAG_PUBLIC_KEY, parts)

    @classmethod
    def from_tlv(cls, tlv: Tlv) -> CvPublicKey:
        algorithm, children = oid.split_template(tlv, TAG_PUBLIC_KEY, "a public key (7F49)", CvcError)
        if not algorithm.startswith(EC_KEY_FAMILIES):
            raise signature.UnsupportedAlgorithm(f"public key algorithm {oid.name(algorithm)} is not supported")
        fields: dict[int, bytes] = {}
        for child in children:
            if child.tag not in range(0x81, 0x88) or child.tag in fields:
                raise CvcError(f"unexpected or repeated tag {child.tag:X} in an EC public key")
            fields[child.tag] = child.value
        if 0x86 not in fields:
            raise CvcError("EC public key without public point (86)")
        parameters = {0x81, 0x82, 0x83, 0x84, 0x85}
        present = parameters & fields.keys()
        curve = None
        if present:
            if present != parameters:
                raise CvcError("EC domain parameters must be all present or all absent")
            curve = _curve_from_fields(fields)
            ec.decode_point(curve, fields[0x86])
        elif 0x87 in fields:
            raise CvcError("cofactor without domain parameters")
        return cls(algorithm, fields[0x86], curve)

    @classmethod
    def parse(cls, data: bytes) -> CvPublicKey:
        return cls.from_tlv(decode_single(data))

    def verification_key(self, inherited: Curve | None = None) -> VerificationKey:
        """The key ready for use, with its own domain parameters or the inherited ones."""
        curve = self.curve or inherited
        if curve is None:
            raise CertificateRejected("public key has no domain parameters and none to inherit")
        ec.decode_point(curve, self.point)
        return VerificationKey(self.algorithm, curve, self.point)


def _curve_from_fields(fields: dict[int, bytes]) -> Curve:
    generator = fields[0x84]
    if len(generator) % 2 != 1 or generator[:1] != b"\x04":
        raise CvcError("base point must be uncompressed")
    half = len(generator) // 2
    curve = by_explicit(
        int.from_bytes(fields[0x81], "big"),
        int.from_bytes(fields[0x82], "big"),
        int.from_bytes(fields[0x83], "big"),
        int.from_bytes(generator[1 : 1 + half], "big"),
        int.from_bytes(generator[1 + half :], "big"),
        int.from_bytes(fields[0x85], "big"),
    )
    if 0x87 in fields and int.from_bytes(fields[0x87], "big") != curve.h:
        raise CvcError("cofactor does not match the domain parameters")
    return curve


@dataclass(frozen=True)
class VerificationKey:
    """A CV public key together with its (own or inherited) domain parameters."""

    algorithm: str
    curve: Curve
    point: bytes

    def public_key(self) -> crypto_ec.EllipticCurvePublicKey:
        return crypto_ec.EllipticCurvePublicKey.from_encoded_point(self.curve.curve(), self.point)

    def verify(self, sig: bytes, data: bytes) -> None:
        """Check a plain signature made with this key; raises signature.SignatureInvalid."""
        signature.verify(self.public_key(), self.algorithm, sig, data)


# -- extensions (TR-03110-3 §C.3, TR-03110-4 §2.2.6) ----------------------------------------------

@dataclass(frozen=True)
class CertificateExtension:
    """A discretionary data template ``73 { 06 oid, context-specific objects… }``."""

    oid: str
    objects: tuple[Tlv, ...]

    def value(self, tag: int) -> bytes | None:
        found = [o.value for o in self.objects if o.tag == tag]
        return found[0] if found else None

    def encode(self) -> bytes:
        return encode(TAG_DISCRETIONARY_TEMPLATE, [oid.encode(self.oid), *(o.encode() for o in self.objects)])

    @classmethod
    def from_tlv(cls, tlv: Tlv) -> CertificateExtension:
        extension_oid, objects = oid.split_template(tlv, TAG_DISCRETIONARY_TEMPLATE, "a certificate extension (73)", CvcError)
        return cls(extension_oid, tuple(objects))


def description_extension(description_hash: bytes) -> CertificateExtension:
    """id-description: the hash of the CertificateDescription (TR-03110-4 §2.2.6)."""
    return CertificateExtension(oid.ID_DESCRIPTION, (Tlv(0x80, description_hash),))


def sector_extension(first_sector_hash: bytes, second_sector_hash: bytes | None = None) -> CertificateExtension:
    """id-sector: hashes of the terminal's sector public keys for Restricted Identification (§C.3.2.1)."""
    objects = [Tlv(0x80, first_sector_hash)]
    if second_sector_hash is not None:
        objects.append(Tlv(0x81, second_sector_hash))
    return CertificateExtension(oid.ID_SECTOR, tuple(objects))


# -- the certificate ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CvCertificate:
    car: str
    public_key: CvPublicKey
    chr: str
    chat: Chat
    effective_date: datetime.date
    expiration_date: datetime.date
    extensions: tuple[CertificateExtension, ...]
    signature: bytes
    body: bytes = field(repr=False)
    """The encoded ``7F4E`` certificate body exactly as signed."""
    profile_identifier: int = PROFILE_VERSION_1

    # parsing

    @classmethod
    def parse(cls, data: bytes) -> CvCertificate:
        """Parse a complete ``7F21`` certificate filling ``data``."""
        try:
            outer = decode_single(data, TAG_CV_CERTIFICATE)
            children = outer.children
        except TlvError as exc:
            raise CvcError(f"not a CV certificate: {exc}") from None
        if len(children) != 2 or children[0].tag != TAG_BODY or children[1].tag != TAG_SIGNATURE:
            raise CvcError("a CV certificate holds exactly a body (7F4E) and a signature (5F37)")
        return cls.from_body(children[0].encode(), children[1].value)

    @classmethod
    def from_body(cls, body: bytes, sig: bytes) -> CvCertificate:
        """Build from an encoded body and signature (as PSO:Verify Certificate delivers them)."""
        try:
            body_tlv = decode_single(body, TAG_BODY)
            elements = body_tlv.children
        except TlvError as exc:
            raise CvcError(f"certificate body is not TLV: {exc}") from None
        expected = [TAG_PROFILE_IDENTIFIER, TAG_CAR, TAG_PUBLIC_KEY, TAG_CHR, TAG_CHAT, TAG_EFFECTIVE_DATE, TAG_EXPIRATION_DATE]
        tags = [e.tag for e in elements]
        if tags not in (expected, expected + [TAG_EXTENSIONS]):
            raise CvcError(f"certificate body elements {[f'{t:X}' for t in tags]} are not in the profile's order")
        by_tag = {e.tag: e for e in elements}
        profile = by_tag[TAG_PROFILE_IDENTIFIER].value
        if profile != bytes([PROFILE_VERSION_1]):
            raise CvcError(f"unsupported certificate profile identifier {profile.hex()}")
        try:
            chat = Chat.from_tlv(by_tag[TAG_CHAT])
        except ChatError as exc:
            raise CvcError(f"bad CHAT: {exc}") from None
        extensions: tuple[CertificateExtension, ...] = ()
        if TAG_EXTENSIONS in by_tag:
            try:
                extensions = tuple(CertificateExtension.from_tlv(t) for t in by_tag[TAG_EXTENSIONS].children)
            except TlvError as exc:
                raise CvcError(f"certificate extensions are not TLV: {exc}") from None
        if not sig:
            raise CvcError("empty signature")
        return cls(
            car=decode_reference(by_tag[TAG_CAR].value),
            public_key=CvPublicKey.from_tlv(by_tag[TAG_PUBLIC_KEY]),
            chr=decode_reference(by_tag[TAG_CHR].value),
            chat=chat,
            effective_date=decode_date(by_tag[TAG_EFFECTIVE_DATE].value),
            expiration_date=decode_date(by_tag[TAG_EXPIRATION_DATE].value),
            extensions=extensions,
            signature=bytes(sig),
            body=bytes(body),
        )

    def encode(self) -> bytes:
        return encode(TAG_CV_CERTIFICATE, [self.body, encode(TAG_SIGNATURE, self.signature)])

    # properties

    @property
    def role(self) -> Role:
        return self.chat.role

    @property
    def is_self_signed(self) -> bool:
        return self.car == self.chr

    def extension(self, extension_oid: str) -> CertificateExtension | None:
        found = [e for e in self.extensions if e.oid == extension_oid]
        return found[-1] if found else None

    @property
    def description_hash(self) -> bytes | None:
        ext = self.extension(oid.ID_DESCRIPTION)
        return ext.value(0x80) if ext else None

    @property
    def sector_hashes(self) -> tuple[bytes | None, bytes | None]:
        """Hashes of the first and second sector public key (id-sector 80/81)."""
        ext = self.extension(oid.ID_SECTOR)
        if ext is None:
            return (None, None)
        return (ext.value(0x80), ext.value(0x81))

    def is_valid_on(self, day: datetime.date) -> bool:
        return self.effective_date <= day <= self.expiration_date

    def verify(self, issuer_key: VerificationKey) -> None:
        """Check the signature with the issuer's key; raises CertificateRejected."""
        try:
            issuer_key.verify(self.signature, self.body)
        except signature.SignatureInvalid as exc:
            raise CertificateRejected(f"signature of {self.chr} by {self.car} does not verify: {exc}") from None


def encode_body(
    car: str,
    public_key: CvPublicKey,
    chr: str,
    chat: Chat,
    effective_date: datetime.date,
    expiration_date: datetime.date,
    extensions: Sequence[CertificateExtension] = (),
) -> bytes:
    parts = [
        encode(TAG_PROFILE_IDENTIFIER, bytes([PROFILE_VERSION_1])),
        encode(TAG_CAR, encode_reference(car)),
        public_key.encode(),
        encode(TAG_CHR, encode_reference(chr)),
        chat.encode(),
        encode(TAG_EFFECTIVE_DATE, encode_date(effective_date)),
        encode(TAG_EXPIRATION_DATE, encode_date(expiration_date)),
    ]
    if extensions:
        parts.append(encode(TAG_EXTENSIONS, [e.encode() for e in extensions]))
    return encode(TAG_BODY, parts)


def create_certificate(
    *,
    car: str,
    public_key: CvPublicKey,
    chr: str,
    chat: Chat,
    effective_date: datetime.date,
    expiration_date: datetime.date,
    signer: Signer,
    extensions: Sequence[CertificateExtension] = (),
) -> CvCertificate:
    """Issue a certificate: the body is signed by ``signer`` (the issuer's key, plain ECDSA)."""
    if expiration_date < effective_date:
        raise ValueError("expiration date before effective date")
    body = encode_body(car, public_key, chr, chat, effective_date, expiration_date, extensions)
    return CvCertificate.from_body(body, signer.sign(body))


# -- certificate validation as the chip does it (TR-03110-3 §2.5, §2.7, §A.7.2) ------------------

@dataclass(frozen=True)
class ImportedKey:
    """A public key the chip has imported, with the metadata of §A.7.2.3.

    ``chats`` holds the relative authorizations from the trust point down to this key, so that the
    effective authorization is their AND. ``permanent`` marks trust points (CVCA keys).
    """

    chr: str
    key: VerificationKey
    chats: tuple[Chat, ...]
    effective_date: datetime.date
    expiration_date: datetime.date
    permanent: bool
    certificate: CvCertificate | None = None

    @property
    def role(self) -> Role:
        return self.chats[-1].role

    @property
    def effective_chat(self) -> Chat:
        return effective_authorization(self.chats)

    @classmethod
    def trust_point(cls, cvca: CvCertificate, *, check_self_signature: bool = True) -> ImportedKey:
        """A trust point from a CVCA certificate carrying its domain parameters."""
        if cvca.role is not Role.CVCA:
            raise CertificateRejected(f"{cvca.chr} is not a CVCA certificate")
        if cvca.public_key.curve is None:
            raise CertificateRejected(f"CVCA certificate {cvca.chr} lacks domain parameters")
        key = cvca.public_key.verification_key()
        if check_self_signature and cvca.is_self_signed:
            cvca.verify(key)
        return cls(cvca.chr, key, (cvca.chat,), cvca.effective_date, cvca.expiration_date, True, cvca)


def import_certificate(issuer: ImportedKey, certificate: CvCertificate, current_date: datetime.date) -> tuple[ImportedKey, datetime.date]:
    """Verify one certificate with the selected issuer key (PSO:Verify Certificate).

    Returns the imported key and the chip's updated current date. Expired CVCA link certificates are
    accepted; expired DV and terminal certificates are not, and DV certificates are not accepted from
    an expired trust point.
    """
    if certificate.car != issuer.chr:
        raise CertificateRejected(f"{certificate.chr} is issued by {certificate.car}, not by the selected key {issuer.chr}")
    role = certificate.role
    if issuer.role is Role.CVCA:
        if role is Role.TERMINAL:
            raise CertificateRejected(f"a CVCA may not issue the terminal certificate {certificate.chr}")
    elif issuer.role in (Role.DV_OFFICIAL, Role.DV_NON_OFFICIAL):
        if role is not Role.TERMINAL:
            raise CertificateRejected(f"a DV may only issue terminal certificates, not {role.name} {certificate.chr}")
    else:
        raise CertificateRejected(f"terminal key {issuer.chr} cannot issue certificates")
    certificate.verify(issuer.key)
    link = role is Role.CVCA
    if not link:
        if certificate.expiration_date < current_date:
            raise CertificateRejected(f"{certificate.chr} expired on {certificate.expiration_date}, current date {current_date}")
        if issuer.permanent and issuer.expiration_date < current_date:
            raise CertificateRejected(f"trust point {issuer.chr} expired on {issuer.expiration_date}")
    if certificate.chat.terminal_type is not issuer.chats[-1].terminal_type and not issuer.permanent:
        raise CertificateRejected(f"{certificate.chr} has another terminal type than its issuer {issuer.chr}")
    key = certificate.public_key.verification_key(issuer.key.curve)
    imported = ImportedKey(
        chr=certificate.chr,
        key=key,
        chats=(certificate.chat,) if link else (*issuer.chats, certificate.chat),
        effective_date=certificate.effective_date,
        expiration_date=certificate.expiration_date,
        permanent=link,
        certificate=certificate,
    )
    accurate = role is not Role.TERMINAL or issuer.role is Role.DV_OFFICIAL
    if accurate and certificate.effective_date > current_date:
        current_date = certificate.effective_date
    return imported, current_date


@dataclass(frozen=True)
class ValidatedChain:
    terminal: ImportedKey
    current_date: datetime.date
    trust_points: tuple[ImportedKey, ...]
    """All trust points after the chain, including ones enabled by link certificates."""


def find_key(keys: Sequence[ImportedKey], reference: str) -> ImportedKey:
    for key in keys:
        if key.chr == reference:
            return key
    raise KeyNotFound(f"no key with reference {reference}")


def validate_chain(certificates: Sequence[CvCertificate], trust_points: Sequence[ImportedKey], current_date: datetime.date) -> ValidatedChain:
    """Validate link, DV and terminal certificates (in that order) starting at a trust point."""
    if not certificates:
        raise CertificateRejected("empty certificate chain")
    points = list(trust_points)
    issuer = find_key(points, certificates[0].car)
    for certificate in certificates:
        if certificate.car != issuer.chr:
            issuer = find_key(points, certificate.car)
        issuer, current_date = import_certificate(issuer, certificate, current_date)
        if issuer.permanent:
            points = [p for p in points if p.chr != issuer.chr] + [issuer]
    if issuer.role is not Role.TERMINAL:
        raise CertificateRejected(f"the chain ends with {issuer.role.name} {issuer.chr}, not a terminal certificate")
    return ValidatedChain(issuer, current_date, tuple(points))
