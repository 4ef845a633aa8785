import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eid import oid
from eid.certificate_description import (
    CertificateDescription,
    DescriptionMismatch,
    comm_certificate_hash,
    comm_certificate_hashes,
    description_hash,
    verify_binding,
)
from eid.cvc import CvCertificate
from eid.errors import EidError
from tests.support.properties import result_or_our_error
from tests.support.vectors import hex_value

AA = "ausweisapp-eac1-input"


def test_ausweisapp_description():
    raw = hex_value(AA, "certificate_description")
    description = CertificateDescription.parse(raw)
    assert description.description_type == oid.ID_PLAIN_FORMAT
    assert description.issuer_name == "Own Test DV"
    assert description.subject_name == "Own Test eService"
    assert description.subject_url == "https://127.0.0.1:8443"
    assert description.terms_of_usage == "test terms of usage"
    assert description.comm_certificates == (bytes.fromhex("a5306815c2484c8bd84fb8593b10a1741404db99035b2304fc96ac5a58f9d5b2"),)
    assert description.encode() == raw
    terminal = CvCertificate.parse(hex_value(AA, "terminal_certificate"))
    verify_binding(raw, terminal)
    with pytest.raises(DescriptionMismatch):
        verify_binding(dataclasses.replace(description, subject_name="Someone Else").encode(), terminal)


def test_comm_certificates_use_the_dv_hash():
    dv = CvCertificate.parse(hex_value(AA, "dv_certificate"))
    tls = b"0\x82\x01\x00 pretend DER"
    hashes = comm_certificate_hashes([tls], dv.public_key.algorithm)
    description = CertificateDescription("DV", "Service", "terms", comm_certificates=hashes)
    assert description.allows(tls, dv)
    assert not description.allows(tls + b"x", dv)
    assert comm_certificate_hash(tls, dv) == hashes[0]


def test_html_and_pdf_terms_and_all_urls():
    for kind, terms in ((oid.ID_HTML_FORMAT, "<p>Nutzungsbedingungen</p>"), (oid.ID_PDF_FORMAT, b"%PDF-1.4")):
        description = CertificateDescription("Issuer", "Subject", terms, kind, "https://issuer.example",
                                             "https://subject.example", "https://redirect.example", (b"\x01" * 32, b"\x02" * 32))
        assert CertificateDescription.parse(description.encode()) == description
    with pytest.raises(ValueError):
        CertificateDescription("I", "S", b"bytes", oid.ID_PLAIN_FORMAT).encode()


def test_binding_needs_the_extension():
    dv = CvCertificate.parse(hex_value(AA, "dv_certificate"))
    with pytest.raises(DescriptionMismatch):
        verify_binding(hex_value(AA, "certificate_description"), dv)
    assert len(description_hash(b"x", oid.ID_TA_ECDSA_SHA_384)) == 48


@pytest.mark.parametrize("raw", [
    "3000",
    "300C060A04007F00070301030101",  # no names
    "3017060A04007F00070301030101A3030C0153A1030C0149A5020C00",  # out of order
    "3013060A04007F00070301030109A1030C0149A3030C0153",  # unknown type
])
def test_rejects_malformed(raw):
    with pytest.raises(EidError):
        CertificateDescription.parse(bytes.fromhex(raw))


@given(st.binary(max_size=120))
def test_any_bytes_parse_or_raise_our_error(data):
    result_or_our_error(CertificateDescription.parse, data)
