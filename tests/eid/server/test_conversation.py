"""eid/server/conversation.py and states.py: the PAOS conversation as a pure state machine."""

import datetime
from dataclasses import replace
from pathlib import Path

import pytest

from eid import paos
from eid.chat import AccessRight, authentication_terminal
from eid.paos import (
    ConnectionHandle, DidAuthenticate, DidAuthenticateResponse, Eac1Input, Eac2Output, PaosEnvelope, Result,
    StartPaosResponse, TransmitResponse,
)
from eid.server import conversation, session
from eid.server.conversation import ConversationOver
from eid.server.session import EidSession
from eid.server.states import StateEac1, StateFailed, StateStartPaos, StepContext, state_from_dict, state_to_dict
from tests.eid.server.common import T0, TERMINAL, Clock, counter_rng, eac1_output, start_paos

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "paos"


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def context(clock):
    return StepContext(TERMINAL, clock, counter_rng())


@pytest.fixture
def fresh(context):
    return session.begin(refresh_address="https://broker.example/refresh/1", communication_error_address=None,
                         use_psk=True, now=T0, rng=context.rng, token_lifetime=datetime.timedelta(minutes=5),
                         lifetime=datetime.timedelta(minutes=15))


def answer(reply: PaosEnvelope, message, message_id: str = "urn:uuid:c2") -> PaosEnvelope:
    return PaosEnvelope(message, message_id, reply.message_id)


def test_start_paos_is_answered_with_eac1_input(fresh, context):
    after, reply = conversation.step(fresh, start_paos(fresh.session_identifier), context)
    assert reply.relates_to == "urn:uuid:c1"
    assert reply.message_id.startswith("urn:uuid:") and after.last_message_id == reply.message_id
    assert reply.message == DidAuthenticate(
        ConnectionHandle(slot_handle=b"\x00"),
        Eac1Input(TERMINAL.certificates, b"\x30\x00", TERMINAL.required_chat.encode(),
                  TERMINAL.optional_chat.encode(), None, "Bürgerkonto Musterstadt"),
    )
    assert after.state == StateEac1(slot_handle=b"\x00")
    assert after.version == fresh.version + 1 and after.received == ("StartPAOS",)
    assert fresh.state == StateStartPaos()  # sessions are immutable


def test_the_real_start_paos_of_ausweisapp_is_accepted(fresh, context):
    envelope = paos.parse((VECTORS / "01-in.xml").read_bytes())
    own = replace(fresh, session_identifier="1A2BB129")
    after, reply = conversation.step(own, envelope, context)
    assert isinstance(reply.message, DidAuthenticate) and isinstance(after.state, StateEac1)


def test_eac1_output_ends_this_server_stage_with_a_clear_result(fresh, context):
    after, reply = conversation.step(fresh, start_paos(fresh.session_identifier), context)
    chat = authentication_terminal([AccessRight.READ_DG4, AccessRight.READ_DG5]).encode()
    done, final = conversation.step(after, answer(reply, DidAuthenticateResponse(Result(), eac1_output(chat))), context)
    assert final.relates_to == "urn:uuid:c2"
    assert isinstance(final.message, StartPaosResponse)
    assert final.message.result.minor == paos.RESULT_MINOR_INTERNAL_ERROR
    assert "Terminal Authentication" in final.message.result.message
    assert isinstance(done.state, StateFailed) and "PACE completed" in done.state.reason
    assert "DETESTeID00005" in done.state.reason
    assert done.received == ("StartPAOS", "DIDAuthenticateResponse/EAC1OutputType") and done.finished


def test_a_client_error_is_echoed_and_ends_the_session(fresh, context):
    after, reply = conversation.step(fresh, start_paos(fresh.session_identifier), context)
    cancelled = Result.error(paos.RESULT_MINOR_CANCELLATION_BY_USER, "The process has been cancelled.")
    done, final = conversation.step(after, answer(reply, DidAuthenticateResponse(cancelled, eac1_output())), context)
    assert final.message == StartPaosResponse(cancelled)
    assert done.state.result_minor == paos.RESULT_MINOR_CANCELLATION_BY_USER


@pytest.mark.parametrize("message,reason", [
    (DidAuthenticateResponse(Result(), eac1_output(
        authentication_terminal([AccessRight.READ_DG4, AccessRight.READ_DG17]).encode())), "not requested"),
    (DidAuthenticateResponse(Result(), eac1_output(b"\x7f\x4c\x00")), "CHAT"),
    (DidAuthenticateResponse(Result(), eac1_output(challenge=b"\x01" * 7)), "challenge of 7 bytes"),
    (DidAuthenticateResponse(Result(), Eac2Output(b"\x30", b"\x01", b"\x02")), "EAC1OutputType was expected"),
    (TransmitResponse(Result()), "TransmitResponse received where DIDAuthenticateResponse"),
])
def test_bad_eac1_answers_end_the_session(fresh, context, message, reason):
    after, reply = conversation.step(fresh, start_paos(fresh.session_identifier), context)
    done, final = conversation.step(after, answer(reply, message), context)
    assert isinstance(done.state, StateFailed) and reason in done.state.reason
    assert isinstance(final.message, StartPaosResponse) and not final.message.result.ok
    assert final.message.result.minor == paos.RESULT_MINOR_PARAMETER_ERROR


def test_start_paos_for_another_session_is_refused(fresh, context):
    done, reply = conversation.step(fresh, start_paos("SOMEBODY-ELSE"), context)
    assert done.state.reason == "StartPAOS names another SessionIdentifier"
    assert reply.message.result.minor == paos.RESULT_MINOR_PARAMETER_ERROR


def test_start_paos_without_a_slot_is_refused(fresh, context):
    envelope = start_paos(fresh.session_identifier)
    envelope = replace(envelope, message=replace(envelope.message, connection_handles=(ConnectionHandle(),)))
    done, _ = conversation.step(fresh, envelope, context)
    assert "no card slot" in done.state.reason


def test_first_message_must_be_start_paos(fresh, context):
    done, reply = conversation.step(fresh, PaosEnvelope(DidAuthenticateResponse(Result(), eac1_output()), "m"), context)
    assert "where StartPAOS was expected" in done.state.reason and done.finished


def test_replayed_start_paos_ends_the_session(fresh, context):
    first = start_paos(fresh.session_identifier)
    after, _ = conversation.step(fresh, first, context)
    done, reply = conversation.step(after, first, context)
    assert "replayed or out of order" in done.state.reason
    assert isinstance(reply.message, StartPaosResponse) and reply.relates_to == first.message_id


def test_message_relating_to_an_older_message_ends_the_session(fresh, context):
    after, reply = conversation.step(fresh, start_paos(fresh.session_identifier), context)
    stale = PaosEnvelope(DidAuthenticateResponse(Result(), eac1_output()), "urn:uuid:c2", "urn:uuid:not-ours")
    done, _ = conversation.step(after, stale, context)
    assert "replayed or out of order" in done.state.reason


def test_expired_session_ends_with_timeout(fresh, context, clock):
    after, reply = conversation.step(fresh, start_paos(fresh.session_identifier), context)
    clock.now = fresh.expires_at
    done, final = conversation.step(after, answer(reply, DidAuthenticateResponse(Result(), eac1_output())), context)
    assert done.state == StateFailed("the session expired", paos.RESULT_MINOR_TIMEOUT)
    assert final.message.result.minor == paos.RESULT_MINOR_TIMEOUT


def test_finished_session_accepts_nothing(fresh, context):
    done, _ = conversation.step(fresh, start_paos("other"), context)
    with pytest.raises(ConversationOver):
        conversation.step(done, start_paos(fresh.session_identifier), context)
    with pytest.raises(ConversationOver):
        conversation.reject_malformed(done, paos.XmlRejected("x"), context)


def test_malformed_message_ends_the_session(fresh, context):
    done, reply = conversation.reject_malformed(fresh, paos.MissingElement("IDPICC missing"), context)
    assert done.state.reason == "malformed PAOS message: IDPICC missing"
    assert reply.relates_to is None and reply.message.result.message == "malformed PAOS message"
    assert done.received == ("malformed (MissingElement)",)


def test_every_reply_has_a_new_message_id(fresh, context):
    after, first = conversation.step(fresh, start_paos(fresh.session_identifier), context)
    _, second = conversation.step(after, answer(first, DidAuthenticateResponse(Result(), eac1_output())), context)
    assert first.message_id != second.message_id


# --- persistence ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [StateStartPaos(), StateEac1(b"\x00\x01"), StateFailed("why", "minor")])
def test_states_round_trip_through_dicts(state):
    assert state_from_dict(state_to_dict(state)) == state


def test_unknown_state_is_refused():
    with pytest.raises(ValueError, match="unknown conversation state"):
        state_from_dict({"state": "StateEvil"})


def test_session_continues_from_its_json_in_another_worker(fresh, context):
    after, reply = conversation.step(fresh, start_paos(fresh.session_identifier), context)
    restored = EidSession.from_json(after.to_json())
    assert restored == after
    done, _ = conversation.step(restored, answer(reply, DidAuthenticateResponse(Result(), eac1_output())), context)
    assert "PACE completed" in done.state.reason


def test_secrets_stay_out_of_repr(fresh):
    text = repr(fresh)
    assert fresh.psk.hex() not in text and fresh.token_reference not in text
