import dataclasses
import datetime
import functools

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from eid import oid
from eid.card_security import (
    CardSecurity,
    CardSecurityError,
    SignatureCheckFailed,
    build_card_security,
    certificate_public_key,
    verify_certificate_signature,
)
from eid.pki import create_card_profile, create_test_pki
from eid.security_infos import PaceInfo, encode_security_infos
from tests.support.properties import corrupt, result_or_our_error
from tests.support.vectors import hex_value

WE = "bsi-worked-example-card-files"
SIM = "ausweisapp-simulator-card-files"
TODAY = datetime.date(2025, 3, 1)


def test_worked_example_rsa_pss_signature_verifies():
    security = CardSecurity.parse(hex_value(WE, "ef_card_security"))
    assert security.digest_algorithm == "sha256"
    assert security.document_signer.subject.rfc4514_string() == "CN=HJP PB DS,OU=Document Signer,O=HJP Consulting,C=DE"
    assert isinstance(certificate_public_key(security.signer_certificate), rsa.RSAPublicKey)
    security.verify_signature()


def test_simulator_signature_with_explicit_brainpool_key_verifies():
    security = CardSecurity.parse(hex_value(SIM, "ef_card_security"))
    assert security.digest_algorithm == "sha512"
    key = certificate_public_key(security.signer_certificate)
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "brainpoolP384r1"
    security.verify_signature()


def test_build_and_parse_our_own():
    pki = create_test_pki(today=TODAY)
    content = encode_security_infos([PaceInfo(oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_128, 2, 13)])
    raw = build_card_security(content, pki.document_signer, pki.document_signer_key)
    security = CardSecurity.parse(raw)
    assert security.content == content
    assert security.document_signer == pki.document_signer
    security.verify_signature()
    verify_certificate_signature(security.signer_certificate, pki.csca.public_key())
    with pytest.raises(SignatureCheckFailed):
        verify_certificate_signature(security.signer_certificate, pki.document_signer.public_key())


def test_tampering_is_detected():
    pki = create_test_pki(today=TODAY)
    content = encode_security_infos([PaceInfo(oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_128, 2, 13)])
    security = CardSecurity.parse(build_card_security(content, pki.document_signer, pki.document_signer_key))
    forged_content = encode_security_infos([PaceInfo(oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_256, 2, 13)])
    with pytest.raises(SignatureCheckFailed, match="digest"):
        dataclasses.replace(security, content=forged_content).verify_signature()
    with pytest.raises(SignatureCheckFailed):
        dataclasses.replace(security, signature=security.signature[:-2] + b"\x00\x00").verify_signature()
    other = create_test_pki(today=TODAY)
    with pytest.raises(SignatureCheckFailed):
        security.verify_signature(other.document_signer.public_key())


def test_rsa_document_signer():
    pki = create_test_pki(today=TODAY)
    rsa_key = rsa.generate_private_key(65537, 2048)
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    certificate = (x509.CertificateBuilder().subject_name(pki.document_signer.subject).issuer_name(pki.csca.subject)
                   .public_key(rsa_key.public_key()).serial_number(7)
                   .not_valid_before(pki.document_signer.not_valid_before_utc)
                   .not_valid_after(pki.document_signer.not_valid_after_utc).sign(pki.csca_key, hashes.SHA256()))
    raw = build_card_security(b"\x31\x00", certificate, rsa_key, "sha384")
    CardSecurity.parse(raw).verify_signature()


@pytest.mark.parametrize("raw", ["3000", "300B06092A864886F70D010701", "0400"])
def test_rejects_non_signed_data(raw):
    with pytest.raises(CardSecurityError):
        CardSecurity.parse(bytes.fromhex(raw))


def test_rejects_other_content_type():
    pki = create_test_pki(today=TODAY)
    raw = build_card_security(b"\x31\x00", pki.document_signer, pki.document_signer_key)
    security_object = bytes.fromhex("060804007F0007030201")
    wrong = raw.replace(security_object, bytes.fromhex("060804007F0007030209"))
    with pytest.raises(CardSecurityError, match="id-SecurityObject"):
        CardSecurity.parse(wrong)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_parse_or_raise_our_error(data):
    result_or_our_error(CardSecurity.parse, data)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_corrupted_card_security_parses_or_raises_our_error(position, value):
    raw = corrupt(hex_value(SIM, "ef_card_security"), position, value)
    result_or_our_error(lambda data: CardSecurity.parse(data).verify_signature(), raw)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_a_corrupted_document_signer_certificate_is_our_error(position, value):
    """asn1crypto may accept a certificate that cryptography cannot load: parse must refuse it then."""
    raw = _own_card_security()
    start = raw.find(b"\x30\x82", raw.find(b"\xa0\x82", 40))  # SignedData.certificates → the certificate
    result_or_our_error(lambda data: CardSecurity.parse(data).document_signer, corrupt(raw, start + position % 600, value))


@functools.cache
def _own_card_security() -> bytes:
    return create_card_profile(create_test_pki(today=TODAY), today=TODAY).card_security


def test_certificate_public_key_of_garbage():
    with pytest.raises(CardSecurityError):
        certificate_public_key(b"\x30\x03\x02\x01\x01")
    pki = create_test_pki(today=TODAY)
    der = pki.csca.public_bytes(serialization.Encoding.DER)
    assert certificate_public_key(der).public_numbers() == pki.csca.public_key().public_numbers()
