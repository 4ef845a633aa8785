"""The certificate description of an authentication terminal (BSI TR-03110-4 §2.2.6, TR-03127 appendix C).

``CertificateDescription ::= SEQUENCE { descriptionType OID, issuerName [1], issuerURL [2] OPTIONAL,
subjectName [3], subjectURL [4] OPTIONAL, termsOfUsage [5], redirectURL [6] OPTIONAL,
commCertificates [7] SET OF OCTET STRING OPTIONAL }`` with explicit tags. The terminal certificate's
id-description extension holds its hash (hash function of the terminal certificate's key), and
``commCertificates`` the hashes of the TLS certificates the eID client may meet (hash function of the
DV certificate's key, as AusweisApp checks it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eid import der, oid, signature
from eid.cvc import CvCertificate
from eid.errors import MalformedData, VerificationFailed
from eid.tlv import Tlv, encode

TERMS_TYPES = {oid.ID_PLAIN_FORMAT: der.UTF8_STRING, oid.ID_HTML_FORMAT: der.IA5_STRING, oid.ID_PDF_FORMAT: der.OCTET_STRING}


class CertificateDescriptionError(MalformedData):
    """Bytes that are not a CertificateDescription."""


class DescriptionMismatch(VerificationFailed):
    """The description's hash differs from the terminal certificate's id-description extension."""


@dataclass(frozen=True)
class CertificateDescription:
    issuer_name: str
    subject_name: str
    terms_of_usage: str | bytes
    """Text for plain and HTML format, bytes for PDF."""
    description_type: str = oid.ID_PLAIN_FORMAT
    issuer_url: str | None = None
    subject_url: str | None = None
    redirect_url: str | None = None
    comm_certificates: tuple[bytes, ...] = ()

    def encode(self) -> bytes:
        if self.description_type not in TERMS_TYPES:
            raise ValueError(f"unknown description type {self.description_type}")
        terms_type = TERMS_TYPES[self.description_type]
        if terms_type == der.OCTET_STRING:
            if not isinstance(self.terms_of_usage, bytes):
                raise ValueError("PDF terms of usage are bytes")
            terms = der.encode_octet_string(self.terms_of_usage)
        else:
            if not isinstance(self.terms_of_usage, str):
                raise ValueError("plain or HTML terms of usage are text")
            terms = der.encode_string(terms_type, self.terms_of_usage)
        parts = [oid.encode(self.description_type), encode(0xA1, der.encode_string(der.UTF8_STRING, self.issuer_name))]
        if self.issuer_url is not None:
            parts.append(encode(0xA2, der.encode_string(der.PRINTABLE_STRING, self.issuer_url)))
        parts.append(encode(0xA3, der.encode_string(der.UTF8_STRING, self.subject_name)))
        if self.subject_url is not None:
            parts.append(encode(0xA4, der.encode_string(der.PRINTABLE_STRING, self.subject_url)))
        parts.append(encode(0xA5, terms))
        if self.redirect_url is not None:
            parts.append(encode(0xA6, der.encode_string(der.PRINTABLE_STRING, self.redirect_url)))
        if self.comm_certificates:
            parts.append(encode(0xA7, der.encode_set_of(der.encode_octet_string(h) for h in self.comm_certificates)))
        return der.encode_sequence(parts)

    @classmethod
    def parse(cls, data: bytes) -> CertificateDescription:
        outer = der.parse_single(data, "CertificateDescription")
        elements = der.children(der.expect(outer, der.SEQUENCE, "CertificateDescription"), "CertificateDescription")
        if not elements:
            raise CertificateDescriptionError("empty CertificateDescription")
        der.expect(elements[0], oid.TAG_OID, "descriptionType")
        description_type = oid.decode_value(elements[0].value)
        fields: dict[int, Tlv] = {}
        for element in elements[1:]:
            number = element.tag & 0x1F
            if element.tag & 0xC0 != 0x80 or not 1 <= number <= 7 or any(t >= number for t in fields):
                raise CertificateDescriptionError(f"unexpected or out-of-order tag {element.tag:X}")
            fields[number] = _untag(element, number, description_type)
        for required, name in ((1, "issuerName"), (3, "subjectName"), (5, "termsOfUsage")):
            if required not in fields:
                raise CertificateDescriptionError(f"{name} is missing")

        def text(tag: int, kind: int, name: str) -> str | None:
            return der.decode_string(fields[tag], kind, name) if tag in fields else None

        terms: str | bytes
        terms_type = TERMS_TYPES.get(description_type)
        if terms_type is None:
            raise CertificateDescriptionError(f"unknown descriptionType {description_type}")
        if terms_type == der.OCTET_STRING:
            terms = der.decode_octet_string(fields[5], "termsOfUsage")
        else:
            terms = der.decode_string(fields[5], terms_type, "termsOfUsage")
        comm: tuple[bytes, ...] = ()
        if 7 in fields:
            hashes = der.children(der.expect(fields[7], der.SET, "commCertificates"), "commCertificates")
            comm = tuple(der.decode_octet_string(h, "commCertificates entry") for h in hashes)
        return cls(
            issuer_name=text(1, der.UTF8_STRING, "issuerName") or "",
            subject_name=text(3, der.UTF8_STRING, "subjectName") or "",
            terms_of_usage=terms,
            description_type=description_type,
            issuer_url=text(2, der.PRINTABLE_STRING, "issuerURL"),
            subject_url=text(4, der.PRINTABLE_STRING, "subjectURL"),
            redirect_url=text(6, der.PRINTABLE_STRING, "redirectURL"),
            comm_certificates=comm,
        )

    def allows(self, tls_certificate: bytes, dv_certificate: CvCertificate) -> bool:
        """Whether the DER TLS certificate's hash is among commCertificates."""
        return comm_certificate_hash(tls_certificate, dv_certificate) in self.comm_certificates


_FIELD_TYPES = {1: der.UTF8_STRING, 2: der.PRINTABLE_STRING, 3: der.UTF8_STRING, 4: der.PRINTABLE_STRING,
                6: der.PRINTABLE_STRING, 7: der.SET}


def _untag(element: Tlv, number: int, description_type: str) -> Tlv:
    """The value of field [number]: explicitly tagged as TR-03110-4 and AusweisApp have it (A1 { 0C … }),
    or implicitly as OpenPACE writes it (81 …, A7 { 04 … })."""
    inner = der.children(element, f"field [{number}]") if element.constructed else None
    if inner is not None and len(inner) == 1 and (number != 7 or inner[0].tag == der.SET):
        return inner[0]
    if number == 7:
        return Tlv(der.SET, element.value)
    if element.constructed:
        raise CertificateDescriptionError(f"field [{number}] must hold exactly one value")
    kind = TERMS_TYPES.get(description_type, der.OCTET_STRING) if number == 5 else _FIELD_TYPES[number]
    return Tlv(kind, element.value)


def comm_certificate_hash(tls_certificate: bytes, dv_certificate: CvCertificate) -> bytes:
    """Hash of a DER X.509 certificate with the hash function of the DV certificate's key."""
    return signature.digest(dv_certificate.public_key.algorithm, tls_certificate)


def comm_certificate_hashes(tls_certificates: Iterable[bytes], algorithm: str) -> tuple[bytes, ...]:
    """commCertificates for these DER certificates, hashed with the TA algorithm's hash function."""
    return tuple(signature.digest(algorithm, c) for c in tls_certificates)


def description_hash(description: bytes, algorithm: str) -> bytes:
    """The id-description extension value for an encoded description (terminal key's hash function)."""
    return signature.digest(algorithm, description)


def verify_binding(description: bytes, terminal_certificate: CvCertificate) -> None:
    """Check that ``description`` (as encoded) is the one the terminal certificate names."""
    expected = terminal_certificate.description_hash
    if expected is None:
        raise DescriptionMismatch(f"terminal certificate {terminal_certificate.chr} has no id-description extension")
    if description_hash(description, terminal_certificate.public_key.algorithm) != expected:
        raise DescriptionMismatch("the certificate description does not match the terminal certificate")
