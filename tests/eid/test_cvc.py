import dataclasses
import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec
from hypothesis import given, settings
from hypothesis import strategies as st

from eid import oid
from eid.chat import AccessRight, Chat, Role
from eid.cvc import (
    CertificateRejected,
    CvcError,
    CvCertificate,
    ImportedKey,
    KeyNotFound,
    decode_date,
    encode_date,
    import_certificate,
    validate_chain,
)
from eid.domain_parameters import CURVES, by_name
from eid.errors import EidError
from tests.support.cv_pki import DAY, Pki
from tests.support.properties import corrupt, result_or_our_error
from tests.support.vectors import hex_value

WE = "bsi-worked-example-ta"
AA = "ausweisapp-eac1-input"


def test_worked_example_certificates_round_trip():
    for name in ("cvca_certificate", "dv_certificate", "terminal_certificate"):
        raw = hex_value(WE, name)
        assert CvCertificate.parse(raw).encode() == raw
    cvca = CvCertificate.parse(hex_value(WE, "cvca_certificate"))
    assert cvca.car == cvca.chr == "DECVCAAT00001"
    assert cvca.public_key.algorithm == oid.ID_TA_ECDSA_SHA_512
    assert cvca.public_key.curve is by_name("brainpoolP512r1")
    assert cvca.role is Role.CVCA
    assert (cvca.effective_date, cvca.expiration_date) == (datetime.date(2010, 9, 30), datetime.date(2011, 9, 25))
    # the public key object re-encodes byte for byte, domain parameters included
    assert cvca.public_key.encode() in cvca.body
    terminal = CvCertificate.parse(hex_value(WE, "terminal_certificate"))
    assert terminal.chat.encode() == hex_value(WE, "terminal_chat")
    assert terminal.chat.rights == {AccessRight.CAN_ALLOWED, AccessRight.READ_DG1}


def test_worked_example_chain_validates_like_a_chip():
    cvca = CvCertificate.parse(hex_value(WE, "cvca_certificate"))
    dv = CvCertificate.parse(hex_value(WE, "dv_certificate"))
    terminal = CvCertificate.parse(hex_value(WE, "terminal_certificate"))
    chain = validate_chain([dv, terminal], [ImportedKey.trust_point(cvca)], datetime.date(2010, 9, 1))
    assert chain.terminal.chr == "DETESTATDE019"
    assert chain.terminal.key.curve is by_name("brainpoolP512r1")  # inherited from the CVCA
    assert chain.current_date.isoformat() == "2010-09-30"
    # The worked example's CVCA is an Inspection System template: the AT gets no rights through it.
    assert chain.terminal.effective_chat == Chat(Role.TERMINAL)
    with pytest.raises(CertificateRejected):
        validate_chain([dv, terminal], [ImportedKey.trust_point(cvca)], datetime.date(2010, 11, 1))


def test_ausweisapp_fixture_certificates():
    dv = CvCertificate.parse(hex_value(AA, "dv_certificate"))
    terminal = CvCertificate.parse(hex_value(AA, "terminal_certificate"))
    assert dv.car == "DETESTeID00005" and dv.chr == "DEOWNDV0000001" and dv.role is Role.DV_NON_OFFICIAL
    assert terminal.car == dv.chr and terminal.chr == "DEOWNAT0000001"
    assert terminal.public_key.algorithm == oid.ID_TA_ECDSA_SHA_256 and terminal.public_key.curve is None
    assert terminal.description_hash.hex() == "5db890eda27ecb8b25243387c9e5061e792be557546f8633a82af88ffcdbfcae"
    assert terminal.sector_hashes == (None, None)
    assert terminal.encode() == hex_value(AA, "terminal_certificate")


@pytest.mark.parametrize("day", [datetime.date(2000, 1, 1), datetime.date(2099, 12, 31), datetime.date(2024, 2, 29)])
def test_dates(day):
    assert decode_date(encode_date(day)) == day


@pytest.mark.parametrize("raw", ["010203040506", "0100000000", "010001030000", "0A0000010101"])
def test_bad_dates(raw):
    with pytest.raises(CvcError):
        decode_date(bytes.fromhex(raw))


@pytest.mark.parametrize(
    "curve_name,algorithm",
    [(c.name, alg) for c, alg in zip(CURVES, [oid.ID_TA_ECDSA_SHA_256, oid.ID_TA_ECDSA_SHA_256, oid.ID_TA_ECDSA_SHA_384,
                                                oid.ID_TA_ECDSA_SHA_384, oid.ID_TA_ECDSA_SHA_512, oid.ID_TA_ECDSA_SHA_512])],
)
def test_created_chain_validates_on_every_curve(curve_name, algorithm):
    pki = Pki(curve_name, algorithm)
    for cert in (pki.cvca, pki.dv, pki.terminal):
        assert CvCertificate.parse(cert.encode()) == cert
    chain = validate_chain([pki.dv, pki.terminal], [pki.trust_point()], DAY + datetime.timedelta(days=5))
    assert chain.terminal.effective_chat.rights == {AccessRight.READ_DG4, AccessRight.AGE_VERIFICATION}
    assert chain.current_date == DAY + datetime.timedelta(days=5)
    assert chain.terminal.certificate.description_hash == b"\x11" * 32
    assert chain.terminal.certificate.sector_hashes == (b"\x22" * 32, b"\x33" * 32)


def test_current_date_advances_to_the_dv_effective_date():
    pki = Pki()
    chain = validate_chain([pki.dv, pki.terminal], [pki.trust_point()], DAY - datetime.timedelta(days=30))
    assert chain.current_date == DAY


def test_negative_chains():
    pki = Pki()
    trust = [pki.trust_point()]
    tampered = dataclasses.replace(pki.terminal, signature=bytes([pki.terminal.signature[0] ^ 1]) + pki.terminal.signature[1:])
    with pytest.raises(CertificateRejected, match="does not verify"):
        validate_chain([pki.dv, tampered], trust, DAY)
    with pytest.raises(CertificateRejected, match="expired"):
        validate_chain([pki.dv, pki.terminal], trust, DAY + datetime.timedelta(days=200))
    foreign = Pki(cvca_chr="DEFOREIGN00001")
    with pytest.raises(KeyNotFound):
        validate_chain([foreign.dv, foreign.terminal], trust, DAY)
    # same CAR, other key: the signature gives it away
    impostor = Pki()
    with pytest.raises(CertificateRejected):
        validate_chain([impostor.dv, impostor.terminal], trust, DAY)
    # a CVCA may not certify a terminal directly, a DV may not certify a DV, a chain must end in a terminal
    direct = pki.issue(pki.cvca_key, pki.cvca.chr, pki.terminal_key, "DETERMTEST00002", Chat(Role.TERMINAL))
    with pytest.raises(CertificateRejected, match="may not issue"):
        validate_chain([direct], trust, DAY)
    dv2 = pki.issue(pki.dv_key, pki.dv.chr, pki.terminal_key, "DEDVTEST00002", Chat(Role.DV_OFFICIAL))
    with pytest.raises(CertificateRejected, match="only issue terminal"):
        validate_chain([pki.dv, dv2], trust, DAY)
    with pytest.raises(CertificateRejected, match="not a terminal"):
        validate_chain([pki.dv], trust, DAY)
    with pytest.raises(CertificateRejected):
        validate_chain([], trust, DAY)


def test_link_certificates_add_trust_points_and_may_be_expired():
    pki = Pki()
    key2 = crypto_ec.generate_private_key(pki.curve.curve())
    key3 = crypto_ec.generate_private_key(pki.curve.curve())
    cvca_chat = Chat(Role.CVCA, set(AccessRight))
    expired_link = pki.issue(pki.cvca_key, pki.cvca.chr, key2, "DETESTeID00006", cvca_chat, effective=DAY, days=10)
    link = pki.issue(key2, "DETESTeID00006", key3, "DETESTeID00007", cvca_chat, effective=DAY + datetime.timedelta(days=5))
    later = DAY + datetime.timedelta(days=20)
    dv = pki.issue(key3, "DETESTeID00007", pki.dv_key, "DEDVTEST00003", Chat(Role.DV_OFFICIAL, set(AccessRight)), effective=later)
    terminal = pki.issue(pki.dv_key, "DEDVTEST00003", pki.terminal_key, "DETERMTEST00003",
                         Chat(Role.TERMINAL, {AccessRight.READ_DG5}), effective=later)
    chain = validate_chain([expired_link, link, dv, terminal], [pki.trust_point()], later)
    assert [p.chr for p in chain.trust_points] == ["DETESTeID00005", "DETESTeID00006", "DETESTeID00007"]
    assert chain.terminal.effective_chat.rights == {AccessRight.READ_DG5}
    # but a DV certificate is not accepted from an expired trust point
    dv_from_expired = pki.issue(key2, "DETESTeID00006", pki.dv_key, "DEDVTEST00004", Chat(Role.DV_OFFICIAL), effective=later)
    with pytest.raises(CertificateRejected, match="trust point DETESTeID00006 expired"):
        validate_chain([expired_link, dv_from_expired], [pki.trust_point()], later)


def test_import_certificate_needs_the_right_issuer():
    pki = Pki()
    dv_key, _ = import_certificate(pki.trust_point(), pki.dv, DAY)
    with pytest.raises(CertificateRejected, match="not by the selected key"):
        import_certificate(pki.trust_point(), pki.terminal, DAY)
    terminal_key, _ = import_certificate(dv_key, pki.terminal, DAY)
    with pytest.raises(CertificateRejected, match="cannot issue"):
        import_certificate(terminal_key, dataclasses.replace(pki.terminal, car=terminal_key.chr), DAY)


def test_trust_point_needs_domain_parameters():
    pki = Pki()
    with pytest.raises(CertificateRejected):
        ImportedKey.trust_point(pki.dv)


@pytest.mark.parametrize(
    "mutation",
    [
        lambda b: b[:-1],
        lambda b: b.replace(bytes.fromhex("5F290100"), bytes.fromhex("5F290101")),
        lambda b: b.replace(bytes.fromhex("5F2506"), bytes.fromhex("5F2406"), 1),
        lambda b: b + b"\x00",
    ],
)
def test_rejects_malformed_certificates(mutation):
    raw = hex_value(AA, "terminal_certificate")
    with pytest.raises(EidError):
        CvCertificate.parse(mutation(raw))


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_any_bytes_parse_or_raise_our_error(data):
    result_or_our_error(CvCertificate.parse, data)


@settings(max_examples=300)
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=255))
def test_corrupted_certificates_parse_or_raise_our_error(position, value):
    raw = corrupt(hex_value(WE, "cvca_certificate"), position, value)
    result_or_our_error(CvCertificate.parse, raw)
