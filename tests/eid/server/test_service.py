"""eid/server/service.py and session.py: TC token rules, channel binding, and the session store."""

import datetime
import os

import pytest

from eid import paos, tc_token
from eid.chat import AccessRight
from eid.paos import DidAuthenticateResponse, PaosEnvelope, Result, StartPaosResponse
from eid.server.request import EidRequest, InvalidRequest
from eid.server.result import Failure
from eid.server.service import EidService, UnknownReference
from eid.server.session import STEP_TIMEOUT, EidSession, MemorySessionStore, StaleSession
from eid.server.states import StateEac1, StateEac2
from eid.server.tls import ChannelFacts
from tests.eid.server.common import REQUEST, Clock, eac1_output, start_paos, terminal

ORIGIN = "https://127.0.0.1:8443"
PLAIN = ChannelFacts("ECDHE-RSA-AES256-GCM-SHA384", b"\x11" * 32, False)


def psk_channel(identity: str) -> ChannelFacts:
    return ChannelFacts("RSA-PSK-AES256-GCM-SHA384", b"\x22" * 32, False, identity)


@pytest.fixture
def clock():
    return Clock()


REFRESH = "https://broker.example/eid/refresh?ref="
ERROR = "https://broker.example/eid/error?ref="


@pytest.fixture
def service(clock):
    return EidService(store=MemorySessionStore(), terminal=terminal(), public_url=ORIGIN, now=clock, rng=os.urandom)


def start(service: EidService, use_psk: bool = True):
    return service.start_session(REQUEST, REFRESH, ERROR, use_psk)


def reference(url: str) -> str:
    return url.rsplit("/", 1)[1]


def fetch(service: EidService, psk: bool = True, channel: ChannelFacts = PLAIN) -> tuple[str, tc_token.TcToken]:
    started = start(service, psk)
    reply = service.tc_token(reference(started.tc_token_url), channel)
    assert reply.status == 200 and reply.content_type == "text/xml; charset=utf-8"
    return started.session_identifier, tc_token.parse(reply.body)


def test_tc_token_carries_the_session(service):
    started = start(service)
    assert started.tc_token_url.startswith(ORIGIN + "/tctoken/")
    assert len(reference(started.tc_token_url)) == 64
    token = tc_token.parse(service.tc_token(reference(started.tc_token_url), PLAIN).body)
    assert token.server_address == ORIGIN + "/paos"
    assert token.session_identifier == started.session_identifier and len(token.session_identifier) == 32
    assert token.refresh_address == REFRESH + started.reference and len(started.reference) == 64
    assert token.communication_error_address == ERROR + started.reference
    assert token.path_security_protocol == tc_token.PATH_SECURITY_PSK and len(token.psk) == 32


def test_sessions_get_unpredictable_values(service):
    a = start(service)
    b = start(service)
    assert a.session_identifier != b.session_identifier and a.tc_token_url != b.tc_token_url
    assert service.session(a.session_identifier).psk != service.session(b.session_identifier).psk


def test_tc_token_is_single_use(service):
    started = start(service)
    assert service.tc_token(reference(started.tc_token_url), PLAIN).status == 200
    second = service.tc_token(reference(started.tc_token_url), PLAIN)
    assert second.status == 410 and b"already been used" in second.body


def test_tc_token_expires(service, clock):
    started = start(service)
    clock.now += service.token_lifetime
    assert service.tc_token(reference(started.tc_token_url), PLAIN).status == 410


def test_unknown_tc_token(service):
    assert service.tc_token("00" * 32, PLAIN).status == 404


def test_no_psk_mode_token_has_no_psk_and_remembers_the_tls_session(service):
    session_identifier, token = fetch(service, psk=False)
    assert token.psk is None and token.path_security_protocol is None
    assert service.session(session_identifier).tls_session_id == PLAIN.session_id


def test_psk_is_given_to_tls_only_after_the_token_was_fetched(service, clock):
    started = start(service)
    assert service.psk_for(started.session_identifier) is None
    service.tc_token(reference(started.tc_token_url), PLAIN)
    assert service.psk_for(started.session_identifier) == service.session(started.session_identifier).psk
    assert service.psk_for("unknown") is None
    clock.now += service.lifetime
    assert service.psk_for(started.session_identifier) is None


def test_no_psk_session_has_no_psk_for_tls(service):
    session_identifier, _ = fetch(service, psk=False)
    assert service.psk_for(session_identifier) is None


def test_psk_mode_conversation(service):
    session_identifier, token = fetch(service)
    channel = psk_channel(session_identifier)
    reply = service.paos(paos.serialise(start_paos(session_identifier)), channel, request_id=session_identifier)
    assert reply.status == 200 and reply.content_type == "application/vnd.paos+xml; charset=utf-8"
    assert reply.session_identifier == session_identifier
    envelope = paos.parse(reply.body)
    assert isinstance(service.session(session_identifier).state, StateEac1)
    answer = PaosEnvelope(DidAuthenticateResponse(Result(), eac1_output()), "urn:uuid:c2", envelope.message_id)
    next_request = service.paos(paos.serialise(answer), channel, connection_session=session_identifier)
    assert next_request.status == 200 and isinstance(service.session(session_identifier).state, StateEac2)
    again = service.paos(paos.serialise(answer), channel, connection_session=session_identifier)
    assert again.status == 200 and isinstance(paos.parse(again.body).message, StartPaosResponse)  # a replay ends it
    assert service.paos(paos.serialise(answer), channel, connection_session=session_identifier).status == 410


def test_psk_mode_refuses_a_channel_without_psk(service):
    session_identifier, _ = fetch(service)
    reply = service.paos(paos.serialise(start_paos(session_identifier)), PLAIN, request_id=session_identifier)
    assert reply.status == 403
    assert service.session(session_identifier).version == 1  # only the token download changed it


def test_psk_mode_refuses_another_sessions_psk(service):
    mine, _ = fetch(service)
    other, _ = fetch(service)
    reply = service.paos(paos.serialise(start_paos(mine)), psk_channel(other))
    assert reply.status == 403 and b"several" in reply.body


def test_paos_before_the_token_was_fetched_is_refused(service):
    started = start(service, use_psk=False)
    reply = service.paos(paos.serialise(start_paos(started.session_identifier)), PLAIN)
    assert reply.status == 403


def test_no_psk_mode_needs_the_tls_session_of_the_download(service):
    session_identifier, _ = fetch(service, psk=False)
    other_tls = ChannelFacts("ECDHE-RSA-AES256-GCM-SHA384", b"\x33" * 32, False)
    assert service.paos(paos.serialise(start_paos(session_identifier)), other_tls).status == 403
    resumed = ChannelFacts("ECDHE-RSA-AES256-GCM-SHA384", PLAIN.session_id, True)
    assert service.paos(paos.serialise(start_paos(session_identifier)), resumed).status == 200


def test_session_sources_must_agree(service):
    session_identifier, _ = fetch(service, psk=False)
    reply = service.paos(paos.serialise(start_paos(session_identifier)), PLAIN, request_id="SOMEONE-ELSE")
    assert reply.status == 403
    nameless = PaosEnvelope(DidAuthenticateResponse(Result(), eac1_output()), "m1")
    assert service.paos(paos.serialise(nameless), PLAIN).status == 400
    assert service.paos(paos.serialise(start_paos("NO-SUCH-SESSION")), PLAIN).status == 404


def test_malformed_body_ends_a_known_session(service):
    session_identifier, _ = fetch(service)
    reply = service.paos(b"<not-paos/>", psk_channel(session_identifier))
    assert reply.status == 200
    assert paos.parse(reply.body).message.result.minor == paos.RESULT_MINOR_PARAMETER_ERROR
    assert service.session(session_identifier).finished


def test_malformed_body_without_session_is_a_bad_request(service):
    assert service.paos(b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", PLAIN).status == 400


def test_public_url_must_be_an_https_origin():
    with pytest.raises(ValueError):
        EidService(store=MemorySessionStore(), terminal=terminal(), public_url="http://x", now=Clock(), rng=os.urandom)


# --- the store -------------------------------------------------------------------------------------------


def test_store_refuses_a_stale_update(service):
    started = start(service)
    store = service.store
    first = store.get(started.session_identifier)
    store.update(first, first.next_version(token_fetched=True))
    with pytest.raises(StaleSession):
        store.update(first, first.next_version(last_message_id="x"))
    with pytest.raises(ValueError):
        store.update(first, first)


def test_store_refuses_duplicates_and_finds_by_token(service):
    started = start(service)
    stored = service.store.get(started.session_identifier)
    with pytest.raises(ValueError):
        service.store.add(stored)
    assert service.store.find_by_token(stored.token_reference) == stored
    assert service.store.find_by_token("nope") is None


def test_store_removes_expired_sessions(service, clock):
    started = start(service)
    assert service.store.remove_expired(clock.now) == 0
    assert service.store.remove_expired(clock.now + service.lifetime) == 1
    assert service.session(started.session_identifier) is None
    assert service.store.find_by_token(reference(started.tc_token_url)) is None
    assert service.store.find_by_reference(started.reference) is None
    with pytest.raises(UnknownReference):
        service.result(started.reference)


def test_session_json_keeps_every_field(service):
    session_identifier, _ = fetch(service, psk=False)
    stored = service.session(session_identifier)
    assert EidSession.from_json(stored.to_json()) == stored
    assert stored.created_at.tzinfo is not None and stored.expires_at - stored.created_at == datetime.timedelta(minutes=15)


# --- for the broker ------------------------------------------------------------------------------------------


def test_result_is_pending_until_the_conversation_ends(service, clock):
    started = start(service)
    assert service.result(started.reference) is None
    with pytest.raises(UnknownReference):
        service.result("00" * 32)
    assert service.store.find_by_reference(started.reference).session_identifier == started.session_identifier


def test_result_of_a_session_whose_token_was_never_fetched(service, clock):
    started = start(service)
    clock.now += service.token_lifetime
    result = service.result(started.reference)
    assert result.failure is Failure.TIMEOUT and "never fetched" in result.message


def test_result_of_a_client_that_disappeared_after_start_paos(service, clock):
    session_identifier, _ = fetch(service)
    service.paos(paos.serialise(start_paos(session_identifier)), psk_channel(session_identifier))
    started = service.session(session_identifier)
    assert service.result(started.reference) is None
    clock.now = started.deadline
    result = service.result(started.reference)
    assert result.failure is Failure.TIMEOUT and "after StartPAOS" in result.message
    assert service.psk_for(session_identifier) is None  # and it cannot come back
    clock.now += datetime.timedelta(minutes=1)
    assert service.result(started.reference) == result  # recorded once, not made up anew
    ended = service.session(session_identifier)
    assert ended.finished and ended.state.result_minor == paos.RESULT_MINOR_TIMEOUT


def test_token_download_starts_the_step_clock(service, clock):
    session_identifier, _ = fetch(service)
    assert service.session(session_identifier).deadline == clock.now + STEP_TIMEOUT


def test_request_the_terminal_cannot_serve_is_refused_at_start(service):
    with pytest.raises(InvalidRequest, match="does not grant"):
        service.start_session(EidRequest(required=frozenset({AccessRight.READ_DG22})), REFRESH)
    with pytest.raises(InvalidRequest, match="https"):
        service.start_session(REQUEST, "http://broker.example/eid/refresh?ref=")
    assert service.store.remove_expired(datetime.datetime.max.replace(tzinfo=datetime.UTC)) == 0


def test_finished_sessions_stay_for_the_broker(service, clock):
    session_identifier, _ = fetch(service)
    reply = service.paos(paos.serialise(start_paos("SOMEONE-ELSE")), psk_channel(session_identifier),
                         request_id=session_identifier)
    assert reply.status == 403  # sources disagree: nothing happens
    reply = service.paos(b"<not-paos/>", psk_channel(session_identifier))
    finished = service.session(session_identifier)
    assert finished.finished and finished.expires_at >= clock.now + datetime.timedelta(minutes=10)
    assert service.result(finished.reference).failure is Failure.CLIENT_ERROR
