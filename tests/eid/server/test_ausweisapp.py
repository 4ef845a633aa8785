"""Interop: Debian's AusweisApp2 1.26.2 with its Simulator card against our eID-Server transport.

What this proves, in the PSK and the no-PSK mode: AusweisApp fetches our TC token over HTTPS, accepts our
TLS certificate (self-signed, but listed in commCertificates) and opens the PAOS channel — with an RSA-PSK
suite and the SessionIdentifier as identity, or on the TLS session of the download — sends StartPAOS,
accepts our DIDAuthenticate(EAC1InputType) (certificate chain from a CVCA DETESTeID00005, description,
CHATs), runs PACE with the Simulator and returns EAC1OutputType, which the server parses and checks. The
server then ends the conversation (this stage has no Terminal Authentication yet) and AusweisApp reports
exactly that error to the SDK.
"""

import datetime
import logging
import os
import re

import pytest

from eid import paos
from eid.server.certificate import create_self_signed
from eid.server.listener import EidListener
from eid.server.service import EidService
from eid.server.session import MemorySessionStore
from eid.server.states import StateFailed
from tests.eid.server import terminal_pki
from tests.support.ausweisapp import authenticate_with_retries
from tests.support.network import free_port

pytestmark = pytest.mark.ausweisapp


@pytest.fixture(scope="module")
def eid_server(tmp_path_factory):
    port = free_port()
    origin = f"https://127.0.0.1:{port}"
    credentials = create_self_signed()
    certificate_path, key_path = credentials.write(tmp_path_factory.mktemp("eid-server"))
    pki = terminal_pki.create(credentials.certificate_der, subject_url=origin)
    service = EidService(store=MemorySessionStore(), terminal=pki.terminal, public_url=origin,
                         now=lambda: datetime.datetime.now(datetime.UTC), rng=os.urandom)
    listener = EidListener(service, ("127.0.0.1", port), certificate_path, key_path)
    listener.start()
    yield listener
    listener.stop()


def served_ciphers(records: list[logging.LogRecord]) -> set[str]:
    """The TLS cipher of every PAOS post, from the listener's debug log."""
    found = set()
    for record in records:
        match = re.fullmatch(r"POST /paos -> 200 \((.*)\)", record.getMessage())
        if record.name == "eid.server.listener" and match:
            found.add(match.group(1))
    return found


@pytest.mark.parametrize("use_psk", [True, False], ids=["psk", "no-psk"])
def test_ausweisapp_runs_pace_against_our_server(ausweisapp, eid_server, use_psk, caplog):
    caplog.set_level(logging.DEBUG, logger="eid.server")
    service = eid_server.service
    refresh = f"{service.public_url}/refresh?ref=test"
    started = []

    def new_session() -> str:
        started.append(service.start_session(refresh, f"{service.public_url}/error?ref=test", use_psk))
        return started[-1].tc_token_url

    runs = authenticate_with_retries(ausweisapp, new_session)
    run = runs[-1]
    assert not run.card_race, f"every one of {len(runs)} runs hit the Simulator's card-connect race"

    # What the server saw and checked.
    session = service.session(started[-1].session_identifier)
    assert session.token_fetched
    assert session.received == ("StartPAOS", "DIDAuthenticateResponse/EAC1OutputType")
    assert isinstance(session.state, StateFailed) and session.state.reason.startswith("PACE completed")
    ciphers = served_ciphers(caplog.records)
    if use_psk:
        assert ciphers == {"RSA-PSK-AES256-GCM-SHA384"}
    else:
        assert ciphers and not any("PSK" in cipher for cipher in ciphers)

    # What AusweisApp told its SDK user.
    (access,) = run.named("ACCESS_RIGHTS")
    assert sorted(access["chat"]["required"]) == ["DateOfBirth", "FamilyName", "GivenNames"]
    assert run.named("ENTER_PIN"), "AusweisApp never asked for the PIN, so PACE did not start"
    result = run.result["result"]
    assert result["major"] == paos.RESULT_MAJOR_ERROR and result["minor"] == paos.RESULT_MINOR_INTERNAL_ERROR
    assert "Terminal Authentication is not available on this eID-Server" in result["message"]
    assert run.result["url"] == refresh

    # And its own debug log, which the harness exposes.
    log = ausweisapp.log_text()
    assert "StateDidAuthenticateEac1" in log and started[-1].session_identifier in log
    if use_psk:
        assert "RSA-PSK-AES256-GCM-SHA384" in log


def test_ausweisapp_refuses_a_server_certificate_missing_from_comm_certificates(ausweisapp, tmp_path):
    """The commCertificates check is real: with the hash of another certificate AusweisApp stops before PACE."""
    port = free_port()
    origin = f"https://127.0.0.1:{port}"
    served, other = create_self_signed(), create_self_signed()
    certificate_path, key_path = served.write(tmp_path)
    pki = terminal_pki.create(other.certificate_der, subject_url=origin)
    service = EidService(store=MemorySessionStore(), terminal=pki.terminal, public_url=origin,
                         now=lambda: datetime.datetime.now(datetime.UTC), rng=os.urandom)
    listener = EidListener(service, ("127.0.0.1", port), certificate_path, key_path)
    listener.start()
    try:
        started = service.start_session(f"{origin}/refresh?ref=x")
        run = ausweisapp.authenticate(started.tc_token_url)
    finally:
        listener.stop()
    assert run.result["result"]["major"] == paos.RESULT_MAJOR_ERROR
    assert not run.named("ENTER_PIN")
    session = service.session(started.session_identifier)
    assert session.received == ("StartPAOS", "DIDAuthenticateResponse/EAC1OutputType")  # an error response
    assert session.state.result_minor.endswith("dp#trustedChannelEstablishmentFailed")
    assert "Hash of TLS certificate not in certificate description" in run.result["result"]["message"]
