"""eid/client/authentication.py and transport.py: our eID client against our eID-Server over loopback TLS.

The deployment (tests/eid/server/deployment.py) is the real thing: the eID-Server's listener, and an HTTPS
origin standing in for the broker that redirects the tcTokenURL and serves the RefreshAddress. The card is
the virtual card in this process (the real PC/SC stack is in test_pcsc.py).
"""

import dataclasses
import os
import threading
from urllib.parse import parse_qs, urlsplit

import pytest

from cardreader.errors import NoCard
from eid.chat import AccessRight
from eid.client.authentication import authenticate, refresh_url
from eid.client.checks import CertificateNotListed, NotSameOrigin
from eid.client.citizen import PreparedCitizen
from eid.data_groups import PartialDate
from eid.server.certificate import create_self_signed
from eid.server.result import Failure
from eid.tc_token import TcToken
from eid.terminal import CardSession
from tests.eid.server.common import REQUEST
from tests.eid.server.deployment import BOUNCE_PATH, REFRESH_PATH, BrokerOrigin, deploy
from tests.support import eid_world


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    deployed = deploy(tmp_path_factory.mktemp("eid"))
    yield deployed
    deployed.stop()


def run(deployment, url: str, pins=(eid_world.PIN,), card=None, **citizen):
    card = card or deployment.card()
    citizen = PreparedCitizen.with_passwords(pins, **citizen)
    return authenticate(url, citizen, lambda: CardSession(card), os.urandom), citizen, card


def result_minor(location: str) -> tuple[str, str | None]:
    query = parse_qs(urlsplit(location).query)
    return query["ResultMajor"][0], query.get("ResultMinor", [None])[0]


@pytest.mark.parametrize("use_psk", [True, False], ids=["psk", "no-psk"])
def test_our_client_completes_an_authentication(deployment, use_psk):
    started, url = deployment.start(REQUEST, use_psk)
    outcome, citizen, _ = run(deployment, url)
    assert outcome.ok and outcome.status == 303
    assert outcome.location == f"{deployment.broker.url}{REFRESH_PATH}?ref={started.reference}&ResultMajor=ok"
    result = deployment.service.result(started.reference)
    assert result.ok and result.given_names == "ERIKA" and result.date_of_birth == PartialDate(1984, 8, 12)
    assert result.checks.passive_authentication and result.checks.chip_authentication
    assert result.checks.response_macs == 8 and len(result.pseudonym) == 32
    assert citizen.consents[0].provider_url == deployment.broker.url


def test_the_signature_in_its_own_round(deployment):
    service = deployment.service
    service.context = dataclasses.replace(service.context, separate_signature=True)
    try:
        started, url = deployment.start(REQUEST)
        outcome, _, _ = run(deployment, url)
    finally:
        service.context = dataclasses.replace(service.context, separate_signature=False)
    assert outcome.ok and deployment.service.result(started.reference).given_names == "ERIKA"


def test_a_deselected_optional_right(deployment):
    started, url = deployment.start(REQUEST)
    outcome, _, _ = run(deployment, url, deselect={AccessRight.READ_DG8, AccessRight.AGE_VERIFICATION})
    result = deployment.service.result(started.reference)
    assert outcome.ok and result.date_of_birth is None and result.age_verified is None and result.given_names == "ERIKA"


def test_wrong_pin_reports_tries_left(deployment):
    started, url = deployment.start(REQUEST)
    outcome, citizen, card = run(deployment, url, pins=("999999",))
    assert outcome.status == 303 and result_minor(outcome.location) == ("error", "cancellationByUser")
    result = deployment.service.result(started.reference)
    assert result.failure is Failure.WRONG_PIN and result.tries_left == 2 and card.passwords.pin_retries == 2
    assert [prompt.tries_left for prompt in citizen.prompts] == [None, 2]


def test_cancel(deployment):
    started, url = deployment.start(REQUEST)
    outcome, citizen, _ = run(deployment, url, cancel=True)
    assert result_minor(outcome.location) == ("error", "cancellationByUser") and citizen.prompts == []
    assert deployment.service.result(started.reference).failure is Failure.CANCELLED


def test_the_tc_token_url_must_be_same_origin_with_the_subject_url(deployment):
    """Given the listener's own tcTokenURL, the client sees a subjectURL of another origin (the broker's)."""
    started, _ = deployment.start(REQUEST)
    outcome, citizen, _ = run(deployment, started.tc_token_url)
    assert citizen.consents == []
    result = deployment.service.result(started.reference)
    assert result.failure is Failure.CLIENT_ERROR and "subjectURL" in result.message
    # without a trusted provider the tcTokenURL's origin stands in for the subjectURL (TR-03124-1 §2.7.4.1): the
    # RefreshAddress on the broker's origin does not redirect there, so the browser gets the error address
    assert "error=1" in outcome.location and result_minor(outcome.location) == ("error", "communicationError")


def test_a_server_certificate_missing_from_comm_certificates(tmp_path):
    deployed = deploy(tmp_path, comm_certificates=[create_self_signed().certificate_der])
    try:
        started, url = deployed.start(REQUEST)
        outcome, citizen, _ = run(deployed, url)
        result = deployed.service.result(started.reference)
    finally:
        deployed.stop()
    assert citizen.consents == [] and result.failure is Failure.COMMUNICATION_ERROR
    assert "commCertificates" in result.message
    # the provider is unknown, so the RefreshAddress (same-origin with the tcTokenURL) is used unchecked
    assert outcome.location.startswith(f"{deployed.broker.url}{REFRESH_PATH}?ref={started.reference}&")
    assert result_minor(outcome.location) == ("error", "trustedChannelEstablishmentFailed")


@pytest.mark.parametrize("url,reason", [
    ("http://127.0.0.1:9/eid/tctoken/x", "not an https URL"),
    ("https://127.0.0.1:9/eid/tctoken/x", "cannot connect"),
])
def test_an_unreachable_or_plain_tc_token_url_is_not_found(deployment, url, reason):
    outcome, _, _ = run(deployment, url)
    assert outcome.status == 404 and outcome.location is None and reason in outcome.message


def test_tc_tokens_with_plain_addresses_are_refused(deployment):
    started, _ = deployment.start(REQUEST)
    token = TcToken(server_address=f"{deployment.service.public_url}/paos", session_identifier=started.session_identifier,
                    refresh_address="https://127.0.0.1/x").serialise()
    deployment.broker.pages["/eid/plain-refresh"] = (200, {"Content-Type": "text/xml"},
                                                     token.replace(b"https://127.0.0.1/x", b"http://127.0.0.1/x"))
    outcome, _, _ = run(deployment, deployment.broker.url + "/eid/plain-refresh")
    assert outcome.status == 404 and "RefreshAddress must be an https URL" in outcome.message
    deployment.broker.pages["/eid/plain-hop"] = (303, {"Location": "http://127.0.0.1:9/eid/tctoken/x"}, b"")
    outcome, _, _ = run(deployment, deployment.broker.url + "/eid/plain-hop")
    assert outcome.status == 404 and "redirect" in outcome.message and "not an https URL" in outcome.message


def test_refresh_url_follows_redirects_to_the_provider_s_origin(deployment, tmp_path):
    """TR-03124-1 §2.7.4.1 with a RefreshAddress on another origin (whose certificate is listed)."""
    started, url = deployment.start(REQUEST)
    _, citizen, _ = run(deployment, url)
    provider = citizen.consents[0].provider
    elsewhere = BrokerOrigin(deployment.listener_tls, tmp_path, deployment.service.public_url)
    elsewhere.start()
    try:
        target = f"{deployment.broker.url}{REFRESH_PATH}?ref=abc"
        assert refresh_url(f"{elsewhere.url}{BOUNCE_PATH}?to={target}", provider, url) == target
        with pytest.raises(NotSameOrigin, match="not a redirect"):
            refresh_url(f"{elsewhere.url}{REFRESH_PATH}?ref=abc", provider, url)
    finally:
        elsewhere.stop()
    stranger = BrokerOrigin(create_self_signed(), tmp_path / "stranger", deployment.service.public_url)
    stranger.start()
    try:
        with pytest.raises(CertificateNotListed):
            refresh_url(f"{stranger.url}{BOUNCE_PATH}?to={target}", provider, url)
    finally:
        stranger.stop()


def test_the_card_is_removed(deployment):
    def gone():
        raise NoCard("the reader")

    started, url = deployment.start(REQUEST)
    outcome = authenticate(url, PreparedCitizen.with_passwords([eid_world.PIN]), gone, os.urandom)
    assert result_minor(outcome.location) == ("error", "cancellationByUser")
    assert deployment.service.result(started.reference).failure is Failure.NO_CARD


def test_two_conversations_at_once(deployment):
    """Both citizens are at the consent step before either enters the PIN: the server holds two live sessions."""
    both_at_consent = threading.Barrier(2, timeout=30)

    class Waiting(PreparedCitizen):
        def consent(self, consent):
            both_at_consent.wait()
            return super().consent(consent)

    sessions = [deployment.start(REQUEST, use_psk) for use_psk in (True, False)]
    outcomes = {}

    def one(index: int, url: str) -> None:
        card = deployment.card()
        citizen = Waiting(iter([eid_world.PIN]))
        outcomes[index] = authenticate(url, citizen, lambda: CardSession(card), os.urandom)

    threads = [threading.Thread(target=one, args=(i, url)) for i, (_, url) in enumerate(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(outcome.ok for outcome in outcomes.values())
    results = [deployment.service.result(started.reference) for started, _ in sessions]
    assert all(r.ok and r.given_names == "ERIKA" and r.checks.response_macs == 8 for r in results)
    assert results[0].pseudonym == results[1].pseudonym  # the same card profile, the same sector
