"""eid/client/listener.py: the local eID-Client URL a browser opens, answered with a redirect."""

import http.client
import json
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


def request(port: int, method: str, path: str, headers: dict[str, str] | None = None) -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    return response, response.read()


def test_the_status_action_says_what_the_client_is(client):
    listener, _ = client
    response, body = request(listener.port, "GET", "/eID-Client?Status")
    assert response.status == 200 and response.getheader("Content-Type") == "text/plain; charset=utf-8"
    lines = dict(line.split(": ", 1) for line in body.decode().splitlines())
    assert lines["Name"] == "eid-broker eID client" and lines["Specification-Title"] == "TR-03124-1"
    assert lines["Specification-Version"] == "1.4" and lines["Implementation-Version"] == "1.0.0"
    assert response.getheader("Server") == "eid-broker-eID-client/1.0.0 (TR-03124-1/1.4)"
    assert response.getheader("Access-Control-Allow-Origin") == "*"  # TR-03124-1 §2.2.2.1: the Status action MAY
    answer, body = request(listener.port, "GET", "/eID-Client?Status=json")
    assert answer.getheader("Content-Type") == "application/json; charset=utf-8"
    assert json.loads(body) == lines


def test_only_the_status_action_carries_cors_headers(client):
    listener, _ = client
    for path in ("/eID-Client", "/elsewhere", f"/eID-Client?tcTokenURL={quote('https://127.0.0.1:9/t', safe='')}"):
        response, _ = request(listener.port, "GET", path)
        assert response.getheader("Access-Control-Allow-Origin") is None, path
        assert response.getheader("Server").endswith("(TR-03124-1/1.4)")
    preflight, _ = request(listener.port, "OPTIONS", "/eID-Client?Status", {
        "Origin": "https://konto.example-stadt.de", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Private-Network": "true"})
    assert preflight.status == 204 and preflight.getheader("Access-Control-Allow-Private-Network") == "true"
    assert preflight.getheader("Access-Control-Allow-Origin") == "*"
    refused, _ = request(listener.port, "OPTIONS", "/eID-Client?tcTokenURL=x", {"Origin": "https://evil.example"})
    assert refused.status == 405 and refused.getheader("Access-Control-Allow-Origin") is None


def test_the_status_is_answered_while_an_authentication_runs(deployment, client):
    listener, outcomes = client
    started, url = deployment.start(REQUEST)
    consenting = threading.Event()
    go_on = threading.Event()
    card = deployment.card()

    class SlowCitizen(PreparedCitizen):
        def consent(self, consent):
            consenting.set()
            go_on.wait(30)
            return super().consent(consent)

    listener.authenticate = lambda u: authenticate(u, SlowCitizen(iter([eid_world.PIN])), lambda: CardSession(card),
                                                   os.urandom)
    browser = threading.Thread(target=lambda: get(listener.port, f"/eID-Client?tcTokenURL={quote(url, safe='')}"))
    browser.start()
    try:
        assert consenting.wait(30)
        response, _ = request(listener.port, "GET", "/eID-Client?Status")
        assert response.status == 200
    finally:
        go_on.set()
        browser.join()
    assert outcomes[-1].ok
