"""Our eID client with the card on a real PC/SC stack: pyscard → a private pcscd → the vpcd driver → the
virtual card, against our eID-Server; and the ``eid-broker eid-client`` command doing the same."""

import http.client
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from cardreader.pcsc import Pcsc
from cardreader.virtual import VirtualCard
from eid.card_profile import dump
from eid.client.authentication import authenticate
from eid.client.citizen import PreparedCitizen
from eid.server.result import Failure
from eid.terminal import CardSession
from tests.eid.server.common import REQUEST
from tests.eid.server.deployment import REFRESH_PATH, deploy
from tests.support import eid_world
from tests.support.network import free_port, wait_for_port

EID_BROKER = Path(sys.executable).with_name("eid-broker")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    deployed = deploy(tmp_path_factory.mktemp("eid"))
    yield deployed
    deployed.stop()


@pytest.mark.pcscd
@pytest.mark.parametrize("use_psk", [True, False], ids=["psk", "no-psk"])
def test_through_pcscd(deployment, pcscd, vpcd, use_psk):
    vpcd(VirtualCard(deployment.profile))
    started, url = deployment.start(REQUEST, use_psk)
    with Pcsc() as pcsc, pcsc.connect(pcscd.reader_names[0]) as card:
        outcome = authenticate(url, PreparedCitizen.with_passwords([eid_world.PIN]), lambda: CardSession(card),
                               os.urandom)
    assert outcome.ok
    result = deployment.service.result(started.reference)
    assert result.ok and result.given_names == "ERIKA" and result.family_names == "MUSTERMANN"
    assert result.checks.passive_authentication and result.checks.chip_authentication
    assert result.checks.response_macs == 8


@pytest.mark.pcscd
def test_a_card_pulled_during_the_transmit(deployment, pcscd, vpcd):
    """The card leaves the reader at the first command of the server's batch: the client reports no card."""
    def pull_at_batch(command: bytes) -> bool:
        return command[:3] == b"\x0c\xa4\x04"  # the protected SELECT of the eID application opens the batch

    vpcd(VirtualCard(deployment.profile), remove_when=pull_at_batch)
    started, url = deployment.start(REQUEST)
    with Pcsc() as pcsc, pcsc.connect(pcscd.reader_names[0]) as card:
        authenticate(url, PreparedCitizen.with_passwords([eid_world.PIN]), lambda: CardSession(card), os.urandom)
    result = deployment.service.result(started.reference)
    assert result.failure is Failure.NO_CARD, result
    assert result.contents == {}
    assert result.checks.chip_authentication  # it got that far


def run_command(arguments: list[str], pins: str, url: str) -> tuple[http.client.HTTPResponse, str]:
    port = free_port()
    process = subprocess.Popen([str(EID_BROKER), "eid-client", "--port", str(port), "--pin-stdin", "--once", *arguments],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        process.stdin.write(pins.encode())
        process.stdin.close()
        wait_for_port(port, 30, alive=lambda: process.poll() is None)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", f"/eID-Client?tcTokenURL={quote(url, safe='')}")
        response = connection.getresponse()
        response.read()
        process.wait(timeout=30)
        output = process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return response, output.decode()


def test_the_command_with_a_virtual_card(deployment, tmp_path):
    card_json = tmp_path / "card.json"
    card_json.write_text(dump(deployment.profile))
    started, url = deployment.start(REQUEST)
    response, output = run_command(["--virtual-card", str(card_json), "--deselect", "READ_DG8"], "123456\n", url)
    assert response.status == 303
    assert response.getheader("Location") == f"{deployment.broker.url}{REFRESH_PATH}?ref={started.reference}&ResultMajor=ok"
    assert "authenticated" in output and "123456" not in output
    result = deployment.service.result(started.reference)
    assert result.ok and result.date_of_birth is None and result.given_names == "ERIKA"


def test_the_command_with_a_wrong_pin(deployment, tmp_path):
    card_json = tmp_path / "card.json"
    card_json.write_text(dump(deployment.profile))
    started, url = deployment.start(REQUEST)
    response, output = run_command(["--virtual-card", str(card_json)], "111111\n", url)
    assert response.status == 303 and response.getheader("Location").endswith("ResultMinor=cancellationByUser")
    assert "authentication failed" in output and "111111" not in output
    result = deployment.service.result(started.reference)
    assert result.failure is Failure.WRONG_PIN and result.tries_left == 2


@pytest.mark.pcscd
def test_the_command_with_a_reader(deployment, pcscd, vpcd):
    vpcd(VirtualCard(deployment.profile), slot=1)
    started, url = deployment.start(REQUEST, use_psk=False)
    response, output = run_command(["--reader", pcscd.reader_names[1]], "123456\n", url)
    assert response.status == 303 and response.getheader("Location").endswith("ResultMajor=ok"), output
    assert deployment.service.result(started.reference).given_names == "ERIKA"
