"""eid/client/checks.py: the rules of TR-03124-1 §2.7 an eID client enforces, each one violated."""

import datetime
import ipaddress
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from eid import pki
from eid.client.checks import (
    BadTerminalCertificates, CertificateNotListed, CheckFailed, HostMismatch, NotHttps, NotSameOrigin, WeakTlsKey,
    check_eac1, check_server_certificate, origin, require_https, same_origin,
)
from eid.client.citizen import PreparedCitizen
from eid.client.states import AwaitEac1, ClientContext
from eid.paos import ConnectionHandle, DidAuthenticate, DidAuthenticateResponse, Eac1Input
from eid.terminal import CardSession
from eid.server.certificate import create_self_signed
from tests.support import eid_world
from tests.support.properties import corrupt

TODAY = eid_world.TODAY


@pytest.fixture(scope="module")
def tls():
    return create_self_signed(("localhost", "127.0.0.1"))


@pytest.fixture(scope="module")
def provider_pki(tls):
    return pki.create_test_pki(today=TODAY, subject_url="https://broker.example:8443",
                               comm_certificates=[tls.certificate_der])


def eac1(test_pki: pki.TestPki, **changes) -> Eac1Input:
    return replace(Eac1Input((test_pki.dv.encode(), test_pki.terminal.encode()), test_pki.certificate_description), **changes)


def test_origins_follow_rfc_6454():
    assert origin("https://Broker.example/x?y") == ("https", "broker.example", 443)
    assert same_origin("https://broker.example/a", "https://BROKER.example:443/b")
    assert not same_origin("https://broker.example", "https://broker.example:8443")
    assert not same_origin("https://broker.example", "http://broker.example")
    assert not same_origin("https://broker.example", "https://www.broker.example")
    with pytest.raises(NotSameOrigin):
        origin("/relative")


def test_only_https():
    require_https("https://x.example/", "RefreshAddress")
    with pytest.raises(NotHttps, match="RefreshAddress"):
        require_https("http://x.example/", "RefreshAddress")


def test_a_valid_eac1_passes(provider_pki, tls):
    provider = check_eac1(eac1(provider_pki), "https://broker.example:8443/eid/tctoken/1",
                          [("https://broker.example:8443/eid/tctoken/1", tls.certificate_der)])
    assert provider.terminal.chr == "DETESTAT00001" and provider.dv.chr == "DETESTDV00001"
    assert provider.description.subject_name == "eid-broker test service"


def test_a_tls_certificate_missing_from_comm_certificates(provider_pki):
    other = create_self_signed(("other.example",))
    with pytest.raises(CertificateNotListed, match="other.example"):
        check_eac1(eac1(provider_pki), "https://broker.example:8443/t", [("https://other.example/t", other.certificate_der)])


def test_subject_url_and_tc_token_url_of_different_origins(provider_pki):
    with pytest.raises(NotSameOrigin, match="same origin"):
        check_eac1(eac1(provider_pki), "https://broker.example/t", [])


def test_a_description_that_is_not_the_certificate_s(provider_pki):
    other = pki.create_test_pki(today=TODAY, subject_url="https://broker.example:8443")
    with pytest.raises(CheckFailed, match="does not match the terminal certificate"):
        check_eac1(eac1(provider_pki, certificate_description=other.certificate_description),
                   "https://broker.example:8443/t", [])


@pytest.mark.parametrize("certificates,message", [
    (lambda p: (p.dv.encode(),), "0 terminal certificates"),
    (lambda p: (p.terminal.encode(),), "lacks the DV certificate"),
    (lambda p: (p.dv.encode(), p.terminal.encode(), p.terminal.encode()), "2 terminal certificates"),
    (lambda p: (b"\x7f\x21\x00",), "certificate"),
])
def test_terminal_certificates_must_be_one_at_with_its_dv(provider_pki, certificates, message):
    with pytest.raises(BadTerminalCertificates, match=message):
        check_eac1(eac1(provider_pki, certificates=certificates(provider_pki)), "https://broker.example:8443/t", [])


def self_signed(key, names: list[x509.GeneralName] | None) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)))
    if names is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def test_server_certificates_name_the_host_and_have_strong_keys(tls):
    check_server_certificate(tls.certificate_der, "127.0.0.1")
    check_server_certificate(tls.certificate_der, "LOCALHOST")
    with pytest.raises(HostMismatch, match="127.0.0.2"):
        check_server_certificate(tls.certificate_der, "127.0.0.2")
    ec_key = ec.generate_private_key(ec.SECP256R1())
    wildcard = self_signed(ec_key, [x509.DNSName("*.example.org")])
    check_server_certificate(wildcard, "eid.example.org")
    with pytest.raises(HostMismatch):
        check_server_certificate(wildcard, "a.b.example.org")
    with pytest.raises(HostMismatch, match="no subjectAltName"):
        check_server_certificate(self_signed(ec_key, None), "127.0.0.1")
    weak = self_signed(rsa.generate_private_key(65537, 1024), [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    with pytest.raises(WeakTlsKey, match="1024 bits"):
        check_server_certificate(weak, "127.0.0.1")
    small = self_signed(ec.generate_private_key(ec.SECP192R1()), [x509.DNSName("x.example")])
    with pytest.raises(WeakTlsKey, match="192 bits"):
        check_server_certificate(small, "x.example")


@settings(max_examples=80, deadline=None)
@given(certificates=st.lists(st.binary(max_size=60), max_size=3), description=st.binary(max_size=60),
       chat=st.none() | st.binary(max_size=20), aux=st.none() | st.binary(max_size=30), position=st.integers(0, 500),
       value=st.integers(0, 255))
def test_any_eac1_input_is_answered_with_an_error_not_an_exception(certificates, description, chat, aux, position, value):
    """A hostile eID-Server: whatever EAC1InputType says, the client answers with an error result."""
    p = eid_world.shared_pki()
    corrupted = corrupt(p.terminal.encode(), position, value)
    for request in (Eac1Input(tuple(certificates), description, chat, None, aux),
                    Eac1Input((p.dv.encode(), corrupted), p.certificate_description, chat, None, aux)):
        citizen = PreparedCitizen.with_passwords([])
        context = ClientContext(open_card=lambda: CardSession(eid_world.card()), citizen=citizen, rng=eid_world.rng,
                                tc_token_url="https://localhost:8443/t")
        step = AwaitEac1().receive(DidAuthenticate(ConnectionHandle(slot_handle=b"\x00"), request), context)
        assert isinstance(step.reply, DidAuthenticateResponse)
        assert not step.reply.result.ok  # (an intact request ends at the PIN: none is given)
