"""Interop: Debian's AusweisApp2 1.26.2 with its Simulator card against our eID-Server, the whole way.

AusweisApp follows the broker's tcTokenURL redirect to our listener, accepts our TLS certificates (self-signed,
listed in commCertificates), opens the PAOS channel — RSA-PSK with the SessionIdentifier as identity, or the
resumed TLS session of the download — runs PACE with the Simulator, relays Terminal and Chip Authentication
and the secure-messaging Transmit, and reports success with the RefreshAddress on the broker's origin.

The Simulator does not check the TA signature and swallows some bad MACs, so an "ok" from it proves little:
the tests assert what the server verified itself — passive authentication of the Simulator's EF.CardSecurity
against the BSI test CSCA "TEST csca-germany" (tests/vectors/ausweisapp-simulator-csca.json), the CA token,
every response MAC — and the data it decrypted: the Simulator's person.
"""

import dataclasses
import logging
import re

import pytest
from cryptography import x509

from eid import paos
from eid.chat import AccessRight
from eid.data_groups import PartialDate
from eid.server.certificate import create_self_signed
from eid.server.request import EidRequest
from eid.server.result import Failure
from tests.eid.server.deployment import deploy
from tests.support.ausweisapp import authenticate_with_retries
from tests.support.vectors import hex_value

pytestmark = pytest.mark.ausweisapp

REQUEST = EidRequest(
    required=frozenset({AccessRight.READ_DG4, AccessRight.READ_DG5, AccessRight.READ_DG8}),
    optional=frozenset({AccessRight.RESTRICTED_IDENTIFICATION, AccessRight.AGE_VERIFICATION}),
    minimum_age=18,
)
TEST_CSCA = x509.load_der_x509_certificate(hex_value("ausweisapp-simulator-csca", "csca"))


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    deployed = deploy(tmp_path_factory.mktemp("eid"), cscas=[TEST_CSCA])
    yield deployed
    deployed.stop()


def served_ciphers(records: list[logging.LogRecord]) -> set[str]:
    """The TLS cipher of every PAOS post, from the listener's debug log."""
    found = set()
    for record in records:
        match = re.fullmatch(r"POST /paos -> 200 \((.*)\)", record.getMessage())
        if record.name == "eid.server.listener" and match:
            found.add(match.group(1))
    return found


def run_until_no_race(ausweisapp, deployment, use_psk: bool):
    started = []

    def new_session() -> str:
        session, url = deployment.start(REQUEST, use_psk)
        started.append(session)
        return url

    runs = authenticate_with_retries(ausweisapp, new_session)
    assert not runs[-1].card_race, f"every one of {len(runs)} runs hit the Simulator's card-connect race"
    return runs[-1], started[-1]


@pytest.mark.parametrize("use_psk", [True, False], ids=["psk", "no-psk"])
def test_ausweisapp_completes_an_authentication(ausweisapp, deployment, use_psk, caplog):
    caplog.set_level(logging.DEBUG, logger="eid.server")
    run, started = run_until_no_race(ausweisapp, deployment, use_psk)
    service = deployment.service

    # AusweisApp's view
    assert run.ok, run.result
    session = service.session(started.session_identifier)
    assert run.result["url"] == session.refresh_address == f"{deployment.broker.url}/eid/refresh?ref={started.reference}"
    (access,) = run.named("ACCESS_RIGHTS")
    assert sorted(access["chat"]["required"]) == ["DateOfBirth", "FamilyName", "GivenNames"]
    assert access["aux"]["requiredAge"] == "18"

    # what the server read and decrypted
    result = service.result(started.reference)
    assert result.ok and result.given_names == "ERIKA" and result.family_names == "MUSTERMANN"
    assert result.date_of_birth == PartialDate(1964, 8, 12)
    assert result.age_verified is True and result.document_valid is True and len(result.pseudonym) == 32

    # what the server verified itself
    checks = result.checks
    assert checks.passive_authentication and checks.csca == "CN=TEST csca-germany,OU=bsi,O=bund,C=DE"
    assert "TEST Document Signer Identity Documents" in checks.document_signer
    assert checks.chip_authentication
    # SELECT + 3 READ BINARY + VERIFY age + VERIFY validity + RI (MSE:Set AT, GENERAL AUTHENTICATE): every MAC
    assert checks.response_macs == 8
    assert session.received == ("StartPAOS", "DIDAuthenticateResponse/EAC1OutputType",
                                "DIDAuthenticateResponse/EAC2OutputType", "TransmitResponse")

    ciphers = served_ciphers(caplog.records)
    if use_psk:
        assert ciphers == {"RSA-PSK-AES256-GCM-SHA384"}
    else:
        assert ciphers and not any("PSK" in cipher for cipher in ciphers)
    log = run.log
    assert "StateTransmit" in log and started.session_identifier in log


def test_ausweisapp_with_the_signature_in_its_own_round(ausweisapp, deployment):
    service = deployment.service
    service.context = dataclasses.replace(service.context, separate_signature=True)
    try:
        run, started = run_until_no_race(ausweisapp, deployment, use_psk=True)
    finally:
        service.context = dataclasses.replace(service.context, separate_signature=False)
    assert run.ok
    result = service.result(started.reference)
    assert result.ok and result.given_names == "ERIKA" and result.checks.chip_authentication
    assert service.session(started.session_identifier).received[2:4] == (
        "DIDAuthenticateResponse/EAC2OutputType", "DIDAuthenticateResponse/EAC2OutputType")


def test_ausweisapp_and_a_card_that_fails_passive_authentication(ausweisapp, tmp_path):
    """Our own CSCA only: the Simulator's EF.CardSecurity does not verify, and no data is read."""
    deployed = deploy(tmp_path)
    try:
        run, started = run_until_no_race(ausweisapp, deployed, use_psk=True)
        result = deployed.service.result(started.reference)
    finally:
        deployed.stop()
    assert not run.ok
    assert result.failure is Failure.CARD_NOT_GENUINE and "no configured CSCA named CN=TEST csca-germany" in result.message
    assert result.contents == {} and not result.checks.chip_authentication


def test_ausweisapp_refuses_a_server_certificate_missing_from_comm_certificates(ausweisapp, tmp_path):
    """The commCertificates check is real: with the hash of another certificate AusweisApp stops before PACE."""
    deployed = deploy(tmp_path, comm_certificates=[create_self_signed().certificate_der])
    try:
        started, url = deployed.start(REQUEST)
        run = ausweisapp.authenticate(url)
    finally:
        deployed.stop()
    assert run.result["result"]["major"] == paos.RESULT_MAJOR_ERROR
    assert not run.named("ENTER_PIN")
    result = deployed.service.result(started.reference)
    assert result.failure is Failure.COMMUNICATION_ERROR
    assert "Hash of TLS certificate not in certificate description" in run.result["result"]["message"]
