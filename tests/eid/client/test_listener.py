"""eid/client/listener.py: the local eID-Client URL a browser opens, answered with a redirect."""

import http.client
import os
import threading
from urllib.parse import quote

import pytest

from eid.client.authentication import authenticate
from eid.client.citizen import PreparedCitizen
from eid.client.listener import EidClientListener
from eid.server.result import Failure
from eid.terminal import CardSession
from tests.eid.server.common import REQUEST
from tests.eid.server.deployment import REFRESH_PATH, deploy
from tests.support import eid_world
from tests.support.network import free_port


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    deployed = deploy(tmp_path_factory.mktemp("eid"))
    yield deployed
    deployed.stop()


@pytest.fixture
def client(deployment):
    card = deployment.card()
    outcomes = []

    def run(url):
        return authenticate(url, PreparedCitizen.with_passwords([eid_world.PIN]), lambda: CardSession(card), os.urandom)

    listener = EidClientListener(run, free_port(), on_outcome=outcomes.append)
    listener.start()
    yield listener, outcomes
    listener.stop()


def get(port: int, path: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    return response


def test_the_browser_is_sent_to_the_refresh_address(deployment, client):
    listener, outcomes = client
    started, url = deployment.start(REQUEST)
    response = get(listener.port, f"/eID-Client?tcTokenURL={quote(url, safe='')}")
    assert response.status == 303
    assert response.getheader("Location") == f"{deployment.broker.url}{REFRESH_PATH}?ref={started.reference}&ResultMajor=ok"
    assert outcomes[-1].ok and deployment.service.result(started.reference).given_names == "ERIKA"


def test_wrong_requests(client):
    listener, _ = client
    assert get(listener.port, "/eID-Client").status == 400
    assert get(listener.port, "/eID-Client?tcTokenURL=a&tcTokenURL=b").status == 400
    assert get(listener.port, "/elsewhere").status == 404
    assert get(listener.port, f"/eID-Client?tcTokenURL={quote('https://127.0.0.1:9/t', safe='')}").status == 404


def test_two_browsers_one_card_one_after_the_other(deployment, client):
    listener, outcomes = client
    sessions = [deployment.start(REQUEST) for _ in range(2)]
    responses = []
    threads = [threading.Thread(target=lambda u=url: responses.append(
        get(listener.port, f"/eID-Client?tcTokenURL={quote(u, safe='')}"))) for _, url in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status for r in responses] == [303, 303]
    assert all(deployment.service.result(s.reference).ok for s, _ in sessions)


def test_failures_reach_the_browser_too(deployment, client):
    listener, outcomes = client
    started, url = deployment.start(REQUEST)
    card = deployment.card()
    listener.authenticate = lambda u: authenticate(u, PreparedCitizen.with_passwords(["000000"]),
                                                   lambda: CardSession(card), os.urandom)
    response = get(listener.port, f"/eID-Client?tcTokenURL={quote(url, safe='')}")
    assert response.status == 303 and response.getheader("Location").endswith(
        "&ResultMajor=error&ResultMinor=cancellationByUser")
    assert deployment.service.result(started.reference).failure is Failure.WRONG_PIN
