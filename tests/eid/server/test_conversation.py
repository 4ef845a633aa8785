"""eid/server/conversation.py and states.py: the whole EAC conversation, against our own eID client and the
virtual card in-process (every message serialised, the session continued from its JSON after every step)."""

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from cryptography.hazmat.primitives.asymmetric import ec

from cardreader.errors import NoCard
from eid import paos, pki, restricted_identification
from eid import terminal_authentication as ta
from eid.auxiliary_data import AuxiliaryData
from eid.chat import AccessRight, Chat, Role
from eid.data_groups import PartialDate
from eid.paos import (
    DidAuthenticate, DidAuthenticateResponse, Eac1Input, Eac1Output, Eac2Input, Eac2Output, EacAdditionalInput, PaosEnvelope,
    Result, StartPaosResponse, TransmitResponse,
)
from eid.server import conversation
from eid.server.blocklist import DocumentBlocklist
from eid.server.conversation import ConversationOver
from eid.server.request import EidRequest, InvalidRequest
from eid.server.result import Failure
from eid.server.session import CONSENT_TIMEOUT, STEP_TIMEOUT, EidSession
from eid.server.states import (
    StateDone, StateEac1, StateEac2, StateEac2Challenge, StateFailed, StateStartPaos, StateTransmit, StepContext,
    state_from_dict, state_to_dict,
)
from eid.signature import PrivateKeySigner
from tests.eid.server.common import (
    REQUEST, Clock, converse, eac1_output, new_session, start_paos, terminal,
)
from tests.support import eid_world
from tests.support.properties import corrupt

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "paos"


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def context(clock):
    return StepContext(terminal(), clock, eid_world.rng)


def answer(reply: PaosEnvelope, message, message_id: str = "urn:uuid:c2") -> PaosEnvelope:
    return PaosEnvelope(message, message_id, reply.message_id)


# --- the whole conversation -------------------------------------------------------------------------------


def test_complete_authentication(context):
    run = converse(context)
    assert run.client.result.ok and isinstance(run.session.state, StateDone)
    result = run.session.state.result
    assert result.ok and result.given_names == "ERIKA" and result.family_names == "MUSTERMANN"
    assert result.date_of_birth == PartialDate(1984, 8, 12)
    assert result.age_verified is True and result.document_valid is True and result.community_id_verified is None
    person = eid_world.profile()
    key = next(k for k in person.restricted_identification if k.authorized_only)
    sector = eid_world.shared_pki().sector_public_keys()[0]
    assert result.pseudonym == restricted_identification.sector_identifier(
        key.protocol, eid_world.shared_pki().curve, key.private_key, sector.point)
    # what the server verified itself
    assert result.checks.passive_authentication and result.checks.chip_authentication
    assert result.checks.document_signer == eid_world.shared_pki().document_signer.subject.rfc4514_string()
    # SELECT, 3 READ BINARY, VERIFY age, VERIFY validity, MSE:Set AT + GENERAL AUTHENTICATE for RI
    assert result.checks.response_macs == 8
    assert run.session.received == ("StartPAOS", "DIDAuthenticateResponse/EAC1OutputType",
                                    "DIDAuthenticateResponse/EAC2OutputType", "TransmitResponse")
    assert set(result.contents) == {4, 5, 8} and result.not_read == ()


def test_the_request_reaches_the_citizen_as_asked(context):
    run = converse(context)
    (consent,) = run.citizen.consents
    assert consent.required == {AccessRight.READ_DG4, AccessRight.READ_DG5}
    assert consent.optional == {AccessRight.READ_DG8, AccessRight.RESTRICTED_IDENTIFICATION, AccessRight.AGE_VERIFICATION}
    assert consent.transaction_info == "Bürgerkonto Musterstadt"
    assert consent.auxiliary_data.required_date_of_birth == eid_world.TODAY.replace(year=eid_world.TODAY.year - 18)
    assert consent.auxiliary_data.validity_date == eid_world.TODAY
    assert consent.provider_name == "eid-broker test service"


def test_signature_in_its_own_round(context):
    run = converse(replace(context, separate_signature=True))
    assert run.session.state.result.ok and run.session.state.result.given_names == "ERIKA"
    kinds = [type(e.message.data).__name__ for e in run.sent if isinstance(e.message, DidAuthenticateResponse)]
    assert kinds == ["Eac1Output", "Eac2Output", "Eac2Output"]
    assert run.sent[2].message.data.challenge is not None  # the challenge to sign


def test_deselected_optional_data_is_not_read(context):
    run = converse(context, deselect=frozenset({AccessRight.READ_DG8, AccessRight.RESTRICTED_IDENTIFICATION}))
    result = run.session.state.result
    assert result.ok and set(result.contents) == {4, 5} and result.pseudonym is None
    assert not Chat.parse(result.released).allows_read(8)
    assert result.checks.response_macs == 5


def test_community_id_verification(context):
    request = EidRequest(required=frozenset({AccessRight.COMMUNITY_ID_VERIFICATION}), community_id="027605")
    result = converse(context, request=request).session.state.result
    assert result.ok and result.community_id_verified is True and result.contents == {}
    other = EidRequest(required=frozenset({AccessRight.COMMUNITY_ID_VERIFICATION}), community_id="0276")
    assert converse(context, request=other).session.state.result.community_id_verified is True
    with pytest.raises(InvalidRequest, match="even number"):
        EidRequest(required=frozenset({AccessRight.COMMUNITY_ID_VERIFICATION}), community_id="02761")
    elsewhere = EidRequest(required=frozenset({AccessRight.COMMUNITY_ID_VERIFICATION}), community_id="05315000")
    assert converse(context, request=elsewhere).session.state.result.community_id_verified is False


def test_expired_card_fails_validity_verification(context):
    person = replace(eid_world.profile().person, date_of_expiry=eid_world.TODAY.replace(year=eid_world.TODAY.year - 1))
    run = converse(context, profile=replace(eid_world.profile(), person=person))
    assert isinstance(run.session.state, StateFailed)
    result = run.session.state.result
    assert result.failure is Failure.CARD_EXPIRED and result.contents == {}
    assert run.client.result.minor == paos.RESULT_MINOR_NO_PERMISSION


# --- what the server checks itself -----------------------------------------------------------------------


def test_card_of_a_foreign_csca_fails_passive_authentication(context):
    foreign = pki.create_test_pki(today=eid_world.TODAY)
    run = converse(replace(context, terminal=terminal(cscas=(foreign.csca,))))
    result = run.session.state.result
    assert result.failure is Failure.CARD_NOT_GENUINE and "passive authentication" in result.message
    assert not result.checks.passive_authentication and result.contents == {}
    assert run.client.result.minor == paos.RESULT_MINOR_NO_PERMISSION


def _sector_identifier(authorized_only: bool) -> bytes:
    key = next(k for k in eid_world.profile().restricted_identification if k.authorized_only is authorized_only)
    sector = eid_world.shared_pki().sector_public_keys()[0]
    return restricted_identification.sector_identifier(key.protocol, eid_world.shared_pki().curve, key.private_key,
                                                       sector.point)


def test_a_card_of_a_revoked_document_signer_is_refused(context):
    serial = eid_world.shared_pki().document_signer.serial_number
    blocked = terminal(blocklist=DocumentBlocklist(document_signers=frozenset({serial})))
    run = converse(replace(context, terminal=blocked))
    result = run.session.state.result
    assert result.failure is Failure.CARD_REVOKED and f"Document Signer certificate {serial:x}" in result.message
    assert result.contents == {} and result.pseudonym is None
    assert run.client.result.minor == paos.RESULT_MINOR_NO_PERMISSION
    assert run.session.received[-1] == "DIDAuthenticateResponse/EAC2OutputType"  # nothing read from the card


@pytest.mark.parametrize("listed", ["revocation identifier", "pseudonym"])
def test_a_card_on_the_blocklist_is_refused_without_data(context, listed):
    identifier = _sector_identifier(authorized_only=listed == "pseudonym")
    blocked = terminal(blocklist=DocumentBlocklist(frozenset({b"\x01" * 32, identifier})))
    run = converse(replace(context, terminal=blocked))
    result = run.session.state.result
    assert isinstance(run.session.state, StateFailed)
    assert result.failure is Failure.CARD_REVOKED and "blocklist" in result.message
    assert result.contents == {} and result.pseudonym is None and result.age_verified is None
    assert result.checks.passive_authentication and result.checks.chip_authentication
    assert result.checks.revocation_checked and result.checks.response_macs == 10
    assert run.client.result.minor == paos.RESULT_MINOR_NO_PERMISSION


def test_a_card_not_on_the_blocklist_passes_and_its_revocation_identifier_stays_on_the_server(context):
    listed = terminal(blocklist=DocumentBlocklist(frozenset({b"\x01" * 32})))
    request = EidRequest(required=frozenset({AccessRight.READ_DG4}))  # no pseudonym asked: the revocation key needs no right
    run = converse(replace(context, terminal=listed), request=request)
    result = run.session.state.result
    assert result.ok and result.given_names == "ERIKA" and result.pseudonym is None
    # SELECT, READ DG4, VERIFY validity, MSE:Set AT + GENERAL AUTHENTICATE with the revocation key
    assert result.checks.revocation_checked and result.checks.response_macs == 5
    revocation = _sector_identifier(authorized_only=False)
    assert revocation.hex() not in run.session.to_json()


def test_without_card_identifiers_on_the_blocklist_no_revocation_identifier_is_read(context):
    only_signers = terminal(blocklist=DocumentBlocklist(document_signers=frozenset({1})))
    result = converse(replace(context, terminal=only_signers)).session.state.result
    assert result.ok and not result.checks.revocation_checked and result.checks.response_macs == 8


def test_a_card_that_withholds_its_revocation_identifier_is_refused(context):
    profile = eid_world.profile()
    without = replace(profile, restricted_identification=tuple(k for k in profile.restricted_identification
                                                               if k.authorized_only))
    listed = terminal(blocklist=DocumentBlocklist(frozenset({b"\x01" * 32})))
    result = converse(replace(context, terminal=listed), profile=without).session.state.result
    assert result.failure is Failure.CARD_NOT_GENUINE and "could not be checked" in result.message
    assert result.contents == {} and not result.checks.revocation_checked


def test_a_wrong_ca_token_is_refused(context):
    def forge(direction, envelope):
        data = getattr(envelope.message, "data", None)
        if direction == "client" and isinstance(data, Eac2Output) and data.authentication_token:
            token = bytes([data.authentication_token[0] ^ 1]) + data.authentication_token[1:]
            return replace(envelope, message=replace(envelope.message, data=replace(data, authentication_token=token)))
        return envelope

    result = converse(context, tamper=forge).session.state.result
    assert result.failure is Failure.CARD_NOT_GENUINE and "T_PICC" in result.message
    assert result.checks.passive_authentication and not result.checks.chip_authentication


@pytest.mark.parametrize("position", [0, 3, -1])
def test_a_tampered_transmit_response_ends_the_session_without_data(context, position):
    def flip(direction, envelope):
        if direction == "client" and isinstance(envelope.message, TransmitResponse):
            outputs = list(envelope.message.output_apdus)
            apdu = outputs[position]
            outputs[position] = apdu[:2] + bytes([apdu[2] ^ 0x01]) + apdu[3:]
            return replace(envelope, message=replace(envelope.message, output_apdus=tuple(outputs)))
        return envelope

    run = converse(context, tamper=flip)
    assert isinstance(run.session.state, StateFailed)
    result = run.session.state.result
    assert result.failure is Failure.COMMUNICATION_ERROR and "MAC" in result.message
    assert result.contents == {} and result.pseudonym is None and result.checks.response_macs == 0
    with pytest.raises(ConversationOver):
        conversation.step(run.session, run.sent[-1], context)


def test_a_missing_response_apdu_is_noticed(context):
    def drop(direction, envelope):
        if direction == "client" and isinstance(envelope.message, TransmitResponse):
            outputs = envelope.message.output_apdus
            return replace(envelope, message=replace(envelope.message, output_apdus=outputs[:2] + outputs[3:]))
        return envelope

    result = converse(context, tamper=drop).session.state.result
    assert result.failure is Failure.COMMUNICATION_ERROR


def test_terminal_authentication_with_the_wrong_key_is_refused_by_the_card(context):
    impostor = PrivateKeySigner(ec.generate_private_key(ec.BrainpoolP256R1()), eid_world.shared_pki().terminal_signer().algorithm)
    run = converse(replace(context, terminal=terminal(signer=impostor)))
    assert isinstance(run.session.state, StateFailed)
    result = run.session.state.result
    assert result.failure is Failure.CLIENT_ERROR and "signature" in result.message
    assert run.client.own_error is not None and not result.checks.chip_authentication
    assert run.session.received[-1] == "DIDAuthenticateResponse"  # the client's error, no EAC2OutputType


# --- the client's errors ---------------------------------------------------------------------------------


def test_citizen_cancels(context):
    run = converse(context, cancel=True)
    assert run.session.state.result.failure is Failure.CANCELLED
    assert run.session.state.result_minor == paos.RESULT_MINOR_CANCELLATION_BY_USER


def test_wrong_pin_reports_the_tries_left(context):
    run = converse(context, pins=("111111",))
    result = run.session.state.result
    assert result.failure is Failure.WRONG_PIN and result.tries_left == 2
    assert [p.tries_left for p in run.citizen.prompts] == [None, 2]
    assert run.card.passwords.pin_retries == 2


def test_wrong_pin_then_the_right_one(context):
    run = converse(context, pins=("111111", eid_world.PIN))
    assert run.session.state.result.ok


def test_a_suspended_pin_asks_for_the_can_first_and_cancelling_there_says_the_can_is_needed(context):
    run = converse(context, pins=(), profile=eid_world.profile(pin_retries=1))  # cancelled at the CAN prompt
    result = run.session.state.result
    assert result.failure is Failure.CAN_REQUIRED and result.tries_left == 1
    assert [p.kind.name for p in run.citizen.prompts] == ["CAN"]  # the PIN was not asked for in vain
    assert run.sent[1].message.data.retry_counter == 1  # EAC1OutputType's RetryCounter with sal#cancellationByUser
    resumed = converse(context, pins=(eid_world.CAN, eid_world.PIN), profile=eid_world.profile(pin_retries=1))
    assert resumed.session.state.result.ok
    assert [(p.kind.name, p.tries_left) for p in resumed.citizen.prompts] == [("CAN", None), ("PIN", 1)]


def test_the_second_wrong_pin_leads_to_the_can(context):
    run = converse(context, pins=("111111", "222222"))  # and then no CAN
    assert run.session.state.result.failure is Failure.CAN_REQUIRED
    assert [(p.kind.name, p.tries_left) for p in run.citizen.prompts] == [("PIN", None), ("PIN", 2), ("CAN", None)]
    resumed = converse(context, pins=("111111", eid_world.CAN, eid_world.PIN), profile=eid_world.profile(pin_retries=2))
    assert resumed.session.state.result.ok
    assert [(p.kind.name, p.tries_left) for p in resumed.citizen.prompts] == [("PIN", 2), ("CAN", None), ("PIN", 1)]


def test_the_last_wrong_pin_blocks_it_without_asking_again(context):
    run = converse(context, pins=(eid_world.CAN, "111111", eid_world.PIN), profile=eid_world.profile(pin_retries=1))
    result = run.session.state.result
    assert result.failure is Failure.PIN_BLOCKED and result.tries_left == 0
    assert [p.kind.name for p in run.citizen.prompts] == ["CAN", "PIN"] and run.card.passwords.pin_retries == 0


def test_blocked_pin(context):
    result = converse(context, profile=eid_world.profile(pin_retries=0)).session.state.result
    assert result.failure is Failure.PIN_BLOCKED and result.tries_left == 0


def test_deactivated_eid_function(context):
    result = converse(context, profile=eid_world.profile(eid_activated=False)).session.state.result
    assert result.failure is Failure.EID_DEACTIVATED


def test_no_card(context):
    def absent(card):
        raise NoCard("eID-Broker Test Reader")

    result = converse(context, open_card=absent).session.state.result
    assert result.failure is Failure.NO_CARD


def test_client_error_with_unexpected_message_type(context, clock):
    fresh = new_session(context)
    after, reply = conversation.step(fresh, start_paos(fresh.session_identifier), context)
    done, final = conversation.step(after, answer(reply, TransmitResponse(Result())), context)
    assert "TransmitResponse received where DIDAuthenticateResponse" in done.state.reason
    assert done.state.result.failure is Failure.CLIENT_ERROR
    assert final.message.result.minor == paos.RESULT_MINOR_PARAMETER_ERROR


# --- EAC1 details ------------------------------------------------------------------------------------------


def started(context) -> tuple[EidSession, PaosEnvelope]:
    fresh = new_session(context)
    return conversation.step(fresh, start_paos(fresh.session_identifier), context)


def test_start_paos_is_answered_with_eac1_input(context):
    after, reply = started(context)
    message = reply.message
    assert isinstance(message, DidAuthenticate) and isinstance(message.data, Eac1Input)
    assert message.data.certificates == context.terminal.certificates
    assert Chat.parse(message.data.required_chat) == Chat(Role.TERMINAL, REQUEST.required)
    assert Chat.parse(message.data.optional_chat) == Chat(Role.TERMINAL, REQUEST.optional)
    assert message.data.authenticated_auxiliary_data is not None
    assert isinstance(after.state, StateEac1) and after.deadline == context.now() + CONSENT_TIMEOUT


def test_the_real_start_paos_of_ausweisapp_is_accepted(context):
    envelope = paos.parse((VECTORS / "01-in.xml").read_bytes())
    own = replace(new_session(context), session_identifier="1A2BB129")
    after, reply = conversation.step(own, envelope, context)
    assert isinstance(reply.message, DidAuthenticate) and isinstance(after.state, StateEac1)


def test_optional_rights_beyond_the_terminal_are_left_out(context):
    narrow = pki.create_test_pki(today=eid_world.TODAY, chat=Chat(Role.TERMINAL, {AccessRight.READ_DG4, AccessRight.READ_DG5}))
    context = replace(context, terminal=terminal(narrow))
    fresh = new_session(context)
    _, reply = conversation.step(fresh, start_paos(fresh.session_identifier), context)
    assert reply.message.data.optional_chat is None


@pytest.mark.parametrize("chat,reason", [
    (Chat(Role.TERMINAL, {AccessRight.READ_DG4, AccessRight.READ_DG5, AccessRight.READ_DG17}), "not requested"),
    (Chat(Role.TERMINAL, {AccessRight.READ_DG4}), "lacks required rights"),
])
def test_a_chat_beyond_the_request_or_without_the_required_rights_ends_the_session(context, chat, reason):
    after, reply = started(context)
    done, _ = conversation.step(after, answer(reply, DidAuthenticateResponse(Result(), eac1_output(chat.encode()))),
                                context)
    assert reason in done.state.reason and done.state.result.failure is Failure.CLIENT_ERROR


def test_can_allowed_added_by_ausweisapp_is_tolerated(context):
    after, reply = started(context)
    chat = Chat(Role.TERMINAL, REQUEST.required | {AccessRight.CAN_ALLOWED})
    done, request = conversation.step(after, answer(reply, DidAuthenticateResponse(Result(), eac1_output(chat.encode()))),
                                      context)
    assert isinstance(done.state, StateEac2) and isinstance(request.message.data, Eac2Input)


@pytest.mark.parametrize("output,reason", [
    (eac1_output(challenge=b"\x01" * 7), "challenge of 7 bytes"),
    (eac1_output(card_access=b"\x31\x00"), "Chip Authentication domain parameters"),
    (eac1_output(b"\x7f\x4c\x00"), "CHAT"),
])
def test_bad_eac1_answers_end_the_session(context, output, reason):
    after, reply = started(context)
    done, final = conversation.step(after, answer(reply, DidAuthenticateResponse(Result(), output)), context)
    assert isinstance(done.state, StateFailed) and reason in done.state.reason
    assert isinstance(final.message, StartPaosResponse) and final.message.result.minor == paos.RESULT_MINOR_PARAMETER_ERROR


def test_eac2_input_signs_id_picc_challenge_and_ephemeral_key(context):
    after, reply = started(context)
    _, request = conversation.step(after, answer(reply, DidAuthenticateResponse(Result(), eac1_output())), context)
    data = request.message.data
    assert isinstance(data, Eac2Input) and data.ephemeral_public_key[:1] == b"\x04" and len(data.signature) == 64
    aux = after.state.auxiliary_data
    signed = ta.signed_data(b"\x01" * 32, b"\xc0" * 8, ta.compress(data.ephemeral_public_key), AuxiliaryData.parse(aux))
    eid_world.shared_pki().terminal.public_key.verification_key(eid_world.shared_pki().curve).verify(data.signature, signed)


def test_additional_round_needs_the_challenge(context):
    context = replace(context, separate_signature=True)
    after, reply = started(context)
    waiting, request = conversation.step(after, answer(reply, DidAuthenticateResponse(Result(), eac1_output())), context)
    assert isinstance(waiting.state, StateEac2Challenge) and request.message.data.signature is None
    done, _ = conversation.step(waiting, answer(request, DidAuthenticateResponse(Result(), Eac2Output(b"\x30", b"\x01", b"\x02")),
                                                "urn:uuid:c3"), context)
    assert "8-byte challenge" in done.state.reason
    waiting, request = conversation.step(after, answer(reply, DidAuthenticateResponse(Result(), eac1_output()), "urn:uuid:c4"),
                                         context)
    signed, additional = conversation.step(waiting, answer(request, DidAuthenticateResponse(Result(), Eac2Output(challenge=b"\x07" * 8)),
                                                           "urn:uuid:c5"), context)
    assert isinstance(additional.message.data, EacAdditionalInput) and isinstance(signed.state, StateEac2)


# --- order, replay, time ---------------------------------------------------------------------------------


def test_replayed_start_paos_ends_the_session(context):
    fresh = new_session(context)
    first = start_paos(fresh.session_identifier)
    after, _ = conversation.step(fresh, first, context)
    done, reply = conversation.step(after, first, context)
    assert "replayed or out of order" in done.state.reason
    assert isinstance(reply.message, StartPaosResponse) and reply.relates_to == first.message_id


def test_replaying_an_earlier_message_of_a_complete_run_ends_it(context):
    """Replay every client message of a finished run into a copy of the session after EAC2: all refused."""
    run = converse(context)
    assert run.session.finished
    for envelope in run.sent:
        with pytest.raises(ConversationOver):
            conversation.step(run.session, envelope, context)


def test_messages_out_of_order_end_the_session(context):
    after, reply = started(context)
    stale = PaosEnvelope(DidAuthenticateResponse(Result(), eac1_output()), "urn:uuid:c2", "urn:uuid:not-ours")
    done, _ = conversation.step(after, stale, context)
    assert "replayed or out of order" in done.state.reason and done.state.result.failure is Failure.CLIENT_ERROR


def test_first_message_must_be_start_paos(context):
    fresh = new_session(context)
    done, _ = conversation.step(fresh, PaosEnvelope(DidAuthenticateResponse(Result(), eac1_output()), "m"), context)
    assert "where StartPAOS was expected" in done.state.reason and done.finished


def test_start_paos_for_another_session_is_refused(context):
    fresh = new_session(context)
    done, reply = conversation.step(fresh, start_paos("SOMEBODY-ELSE"), context)
    assert done.state.reason == "StartPAOS names another SessionIdentifier"
    assert reply.message.result.minor == paos.RESULT_MINOR_PARAMETER_ERROR


def test_a_client_that_disappears_after_pace(context, clock):
    after, reply = started(context)
    waiting, _ = conversation.step(after, answer(reply, DidAuthenticateResponse(Result(), eac1_output())), context)
    assert waiting.deadline == clock.now + STEP_TIMEOUT and waiting.outcome(clock.now) is None
    clock.now += STEP_TIMEOUT
    result = waiting.outcome(clock.now)
    assert result.failure is Failure.TIMEOUT and "after DIDAuthenticateResponse/EAC1OutputType" in result.message
    done, final = conversation.step(waiting, answer(reply, DidAuthenticateResponse(Result(), Eac2Output())), context)
    assert final.message.result.minor == paos.RESULT_MINOR_TIMEOUT and done.state.result.failure is Failure.TIMEOUT


def test_the_citizen_may_take_time_for_the_pin(context, clock):
    after, reply = started(context)
    clock.now += CONSENT_TIMEOUT - STEP_TIMEOUT
    waiting, request = conversation.step(after, answer(reply, DidAuthenticateResponse(Result(), eac1_output())), context)
    assert isinstance(waiting.state, StateEac2) and isinstance(request.message, DidAuthenticate)


def test_finished_session_accepts_nothing(context):
    fresh = new_session(context)
    done, _ = conversation.step(fresh, start_paos("other"), context)
    with pytest.raises(ConversationOver):
        conversation.step(done, start_paos(fresh.session_identifier), context)
    with pytest.raises(ConversationOver):
        conversation.reject_malformed(done, paos.XmlRejected("x"), context)


def test_malformed_message_ends_the_session(context):
    fresh = new_session(context)
    done, reply = conversation.reject_malformed(fresh, paos.MissingElement("IDPICC missing"), context)
    assert done.state.reason == "malformed PAOS message: IDPICC missing"
    assert reply.relates_to is None and reply.message.result.message == "malformed PAOS message"


def test_every_reply_has_a_new_message_id(context):
    run = converse(context)
    assert len({e.relates_to for e in run.sent[1:]}) == len(run.sent) - 1


# --- persistence -------------------------------------------------------------------------------------------


def test_every_state_round_trips_through_its_dict(context):
    states = [s.state for s in converse(context).sessions]
    states += [s.state for s in converse(replace(context, separate_signature=True)).sessions]
    states += [converse(context, cancel=True).session.state]
    assert {type(s).__name__ for s in states} == {"StateEac1", "StateEac2", "StateEac2Challenge", "StateTransmit",
                                                  "StateDone", "StateFailed"}
    for state in states + [StateStartPaos()]:
        assert state_from_dict(state_to_dict(state)) == state


def test_key_material_stays_out_of_reprs(context):
    sessions = converse(context).sessions
    eac2 = next(s.state for s in sessions if isinstance(s.state, StateEac2))
    transmit = next(s.state for s in sessions if isinstance(s.state, StateTransmit))
    assert str(eac2.ephemeral.private) not in repr(eac2) and "private" not in repr(eac2)
    for key in (transmit.keys.k_enc, transmit.keys.k_mac):
        assert key.hex() not in repr(transmit) and str(key) not in repr(transmit)


def test_unknown_state_is_refused():
    with pytest.raises(ValueError, match="unknown conversation state"):
        state_from_dict({"state": "StateEvil"})


def test_secrets_stay_out_of_repr(context):
    fresh = new_session(context)
    text = repr(fresh)
    assert fresh.psk.hex() not in text and fresh.token_reference not in text and fresh.reference not in text


def test_a_ri_request_without_a_sector_key_reads_the_rest(context):
    run = converse(replace(context, terminal=terminal(sector=None)))
    result = run.session.state.result
    assert result.ok and result.pseudonym is None and result.given_names == "ERIKA"


def test_a_sector_key_the_terminal_certificate_does_not_name_gets_no_pseudonym(context):
    other = pki.create_test_pki(today=eid_world.TODAY).sector_public_keys()[0]
    result = converse(replace(context, terminal=terminal(sector=other))).session.state.result
    assert result.ok and result.pseudonym is None and result.given_names == "ERIKA"
    assert "RestrictedIdentification" in result.message and "6982" in result.message


# --- hostile clients ---------------------------------------------------------------------------------------


def _stepped_session(context, separate: bool = False):
    """A session waiting for EAC2OutputType, and one waiting for TransmitResponse (from a real run)."""
    sessions = converse(replace(context, separate_signature=separate)).sessions
    eac2 = next(s for s in sessions if isinstance(s.state, StateEac2))
    transmit = next(s for s in sessions if isinstance(s.state, StateTransmit))
    return eac2, transmit


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(card_access=st.binary(max_size=300), id_picc=st.binary(max_size=40), chat=st.none() | st.binary(max_size=30),
       position=st.integers(0, 400), value=st.integers(0, 255))
def test_any_eac1_output_ends_in_a_reply(context, card_access, id_picc, chat, position, value):
    after, reply = started(context)
    real = eid_world.profile().card_access
    for access in (card_access, corrupt(real, position, value)):
        output = Eac1Output(access, id_picc, b"\xc0" * 8, chat, ("DETESTeID00005",))
        done, final = conversation.step(after, answer(reply, DidAuthenticateResponse(Result(), output)), context)
        assert isinstance(final.message, (DidAuthenticate, StartPaosResponse))
        assert isinstance(done.state, (StateEac2, StateFailed))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(position=st.integers(0, 3000), value=st.integers(0, 255), token=st.binary(max_size=12),
       nonce=st.binary(max_size=12))
def test_any_eac2_output_ends_in_a_reply(context, position, value, token, nonce):
    eac2, _ = _stepped_session(context)
    security = corrupt(eid_world.profile().card_security, position, value)
    for output in (Eac2Output(security, token, nonce), Eac2Output(security, b"\x01" * 8, b"\x02" * 8)):
        envelope = PaosEnvelope(DidAuthenticateResponse(Result(), output), "urn:uuid:x", eac2.last_message_id)
        done, final = conversation.step(eac2, envelope, context)
        assert isinstance(done.state, (StateFailed, StateTransmit)) and final.message is not None
        assert not (isinstance(done.state, StateTransmit) and security != eid_world.profile().card_security)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(outputs=st.lists(st.binary(max_size=80), max_size=12))
def test_any_transmit_response_ends_the_session_without_data(context, outputs):
    _, transmit = _stepped_session(context)
    envelope = PaosEnvelope(TransmitResponse(Result(), tuple(outputs)), "urn:uuid:x", transmit.last_message_id)
    done, final = conversation.step(transmit, envelope, context)
    assert isinstance(final.message, StartPaosResponse)
    assert done.finished and done.state.result.contents == {} and done.state.result.pseudonym is None
