"""Passive Authentication of EF.CardSecurity (BSI TR-03110-2 §2.3.3, ICAO Doc 9303 part 11 §5.1).

The security object's signature is checked with the Document Signer certificate it carries, that
certificate against one of the configured CSCA certificates (issuer name and signature), both for
validity at the given time, and finally against an optional blocklist hook (e.g. revoked Document
Signers or a sector-specific document blocklist). Only after this are the SecurityInfos — above all
the chip's Chip Authentication key — trustworthy.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from eid.card_security import CardSecurity, SignatureCheckFailed, certificate_public_key, verify_certificate_signature
from eid.errors import MalformedData, VerificationFailed
from eid.security_infos import SecurityInfos


class PassiveAuthenticationFailed(VerificationFailed):
    """EF.CardSecurity is not signed by a trusted, valid Document Signer."""


class DocumentBlocked(VerificationFailed):
    """The blocklist hook rejected the document."""


@dataclass(frozen=True)
class PassiveAuthenticationResult:
    card_security: CardSecurity
    document_signer: x509.Certificate
    csca: x509.Certificate

    @property
    def security_infos(self) -> SecurityInfos:
        return self.card_security.security_infos


Blocklist = Callable[[PassiveAuthenticationResult], str | None]
"""Returns a reason when the document must be refused, None when it may pass."""


def load_csca_list(pem: bytes) -> tuple[x509.Certificate, ...]:
    """CSCA certificates from a PEM bundle (the configured trust anchors)."""
    try:
        certificates = tuple(x509.load_pem_x509_certificates(pem))
    except ValueError as exc:
        raise MalformedData(f"CSCA list is not a PEM certificate bundle: {exc}") from None
    return certificates


def _check_validity(certificate: x509.Certificate, now: datetime.datetime, what: str) -> None:
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise PassiveAuthenticationFailed(
            f"{what} {certificate.subject.rfc4514_string()} is valid from {certificate.not_valid_before_utc:%Y-%m-%d} "
            f"to {certificate.not_valid_after_utc:%Y-%m-%d}, not at {now:%Y-%m-%d}"
        )


def _issuing_csca(document_signer: bytes, cscas: Sequence[x509.Certificate]) -> x509.Certificate:
    issuer = x509.load_der_x509_certificate(document_signer).issuer
    candidates = [c for c in cscas if c.subject == issuer]
    if not candidates:
        raise PassiveAuthenticationFailed(f"no configured CSCA named {issuer.rfc4514_string()}")
    for csca in candidates:
        try:
            verify_certificate_signature(document_signer, certificate_public_key(csca.public_bytes(serialization.Encoding.DER)))
        except SignatureCheckFailed:
            continue
        return csca
    raise PassiveAuthenticationFailed(f"the Document Signer certificate is not signed by CSCA {issuer.rfc4514_string()}")


def verify(
    card_security: bytes | CardSecurity,
    cscas: Sequence[x509.Certificate],
    now: datetime.datetime,
    blocklist: Blocklist | None = None,
) -> PassiveAuthenticationResult:
    """Passive Authentication; returns the verified SecurityInfos with the certificates used."""
    parsed = card_security if isinstance(card_security, CardSecurity) else CardSecurity.parse(card_security)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    document_signer = parsed.document_signer
    csca = _issuing_csca(parsed.signer_certificate, cscas)
    _check_validity(csca, now, "CSCA")
    _check_validity(document_signer, now, "Document Signer")
    try:
        parsed.verify_signature()
    except SignatureCheckFailed as exc:
        raise PassiveAuthenticationFailed(f"EF.CardSecurity signature: {exc}") from None
    result = PassiveAuthenticationResult(parsed, document_signer, csca)
    if blocklist is not None:
        reason = blocklist(result)
        if reason:
            raise DocumentBlocked(f"document refused by the blocklist: {reason}")
    return result

