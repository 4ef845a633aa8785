"""The states of the eID-Server's PAOS conversation, one class each (after AusweisApp's own design).

Each state is a frozen dataclass holding what the server must remember between two client messages;
``receive(message, session, context)`` checks the client's message and returns a :class:`Transition`:
the reply to send and the next state. States serialise to plain dicts (:func:`state_to_dict`) so that a
session can be continued by any worker; key material in them stays out of their repr.

The sequence (TR-03112-7 §3.6.4, TR-03130-1):

    StateStartPaos      StartPAOS → DIDAuthenticate(EAC1InputType: certificates, description, CHATs, aux data)
                                                                                    ▶ StateEac1
    StateEac1           EAC1OutputType (PACE done) → DIDAuthenticate(EAC2InputType: ephemeral CA key and the TA
                        signature over ID_PICC ‖ r_PICC ‖ Comp(key) ‖ aux)         ▶ StateEac2
                        — with ``separate_signature`` without the signature        ▶ StateEac2Challenge
    StateEac2Challenge  EAC2OutputType(Challenge) → DIDAuthenticate(EACAdditionalInputType) ▶ StateEac2
    StateEac2           EAC2OutputType → passive authentication, CA token, then Transmit (a secure-messaging
                        batch: reads, VERIFY, RI)                                   ▶ StateTransmit
    StateTransmit       TransmitResponse → every response MAC checked, the answers evaluated, the card's
                        identifiers compared with the blocklist → StartPAOSResponse(ok) ▶ StateDone

Any error — the client's, a failed check, a MAC failure — ends in :class:`StateFailed` with a
StartPAOSResponse naming the error; both final states carry the :class:`~eid.server.result.EidResult`.
"""

from __future__ import annotations

import dataclasses
import datetime
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from eid import ec, key_agreement, paos
from eid import terminal_authentication as ta
from eid.apdu import ApduError, ResponseApdu
from eid.auxiliary_data import AuxiliaryData
from eid.card_security import CardSecurity
from eid.chat import AccessRight, Chat
from eid.chip_authentication import ChipAuthentication, TokenMismatch
from eid.domain_parameters import by_standardized_id
from eid.errors import EidError
from eid.key_derivation import SessionKeys
from eid.paos import (
    ConnectionHandle, DidAuthenticate, DidAuthenticateResponse, Eac1Input, Eac1Output, Eac2Input, Eac2Output,
    EacAdditionalInput, Message, Result, StartPaos, StartPaosResponse, TransmitResponse,
)
from eid.passive_authentication import DocumentBlocked, PassiveAuthenticationFailed
from eid.passive_authentication import verify as passive_authentication
from eid.secure_messaging import SecureMessagingError, TerminalChannel
from eid.security_infos import ChipAuthenticationDomainParameterInfo, parse_security_infos
from eid.server import serialisation
from eid.server.card_requests import CardRequests, evaluate, transmit
from eid.server.result import EidResult, Failure, ServerChecks, client_failure, failed
from eid.server.terminal import EidTerminal

if TYPE_CHECKING:
    from eid.server.session import EidSession

#: The card application of the eID function (TR-03110-4, AID E8 07 04 00 7F 00 07 03 02).
EID_APPLICATION = bytes.fromhex("E80704007F00070302")


@dataclass(frozen=True)
class StepContext:
    """What the states may use besides the message: configuration, clock and randomness (injected)."""

    terminal: EidTerminal
    now: Callable[[], datetime.datetime]
    rng: Callable[[int], bytes]
    separate_signature: bool = False
    """Send the TA signature in an EACAdditionalInputType round of its own (TR-03112-7 §3.6.4.3)."""


@dataclass(frozen=True)
class Transition:
    reply: Message
    state: State


@dataclass(frozen=True)
class EphemeralKey:
    """The server's ephemeral Chip Authentication key pair (its compressed form is signed in TA)."""

    parameter_id: int
    private: int = field(repr=False)
    public: bytes

    @classmethod
    def generate(cls, parameter_id: int, rng: Callable[[int], bytes]) -> EphemeralKey:
        pair = key_agreement.generate(by_standardized_id(parameter_id), rng)
        return cls(parameter_id, pair.private, pair.public_bytes)

    def key_pair(self) -> key_agreement.KeyPair:
        curve = by_standardized_id(self.parameter_id)
        return key_agreement.KeyPair(curve, self.private, ec.decode_point(curve, self.public))


@dataclass(frozen=True)
class StateFailed:
    """The conversation ended without success; ``result_minor`` is what the client was told."""

    final: ClassVar[bool] = True
    reason: str
    result_minor: str
    result: EidResult


@dataclass(frozen=True)
class StateDone:
    """The authentication succeeded; the result waits for the broker."""

    final: ClassVar[bool] = True
    result: EidResult

    @property
    def reason(self) -> str:
        return "completed"


@dataclass(frozen=True)
class StateTransmit:
    """The Transmit batch is with the client; ``ssc`` is the send sequence counter before it."""

    final: ClassVar[bool] = False
    slot_handle: bytes
    keys: SessionKeys = field(repr=False)
    ssc: int
    plan: CardRequests
    partial: EidResult

    def receive(self, message: Message, session: EidSession, context: StepContext) -> Transition:
        if not isinstance(message, TransmitResponse):
            return unexpected(message, "TransmitResponse", context, self.partial.checks)
        functions = self.plan.functions(context.terminal.sector)
        channel = TerminalChannel(self.keys, self.ssc)
        transmit(channel, self.slot_handle, functions)  # the commands sent, so that the channel expects their answers
        try:
            responses = [ResponseApdu.parse(apdu) for apdu in message.output_apdus]
            plain = channel.unprotect_batch(responses)
        except (ApduError, SecureMessagingError) as error:
            return fail(f"Transmit response rejected, the session ends: {error}", paos.RESULT_MINOR_PARAMETER_ERROR,
                        context, Failure.COMMUNICATION_ERROR, self.partial.checks)
        checks = dataclasses.replace(self.partial.checks,
                                     response_macs=self.partial.checks.response_macs + len(plain))
        partial, problems, revocation_identifier = evaluate(dataclasses.replace(self.partial, checks=checks),
                                                            functions, plain)
        if not message.result.ok and not plain:
            failure, tries = client_failure(message.result)
            return end_with_client_error("Transmit", message.result, context, failure, tries, checks)
        if self.plan.check_revocation:
            blocklist = context.terminal.current_blocklist()
            if revocation_identifier is None:
                return fail("the card gave no revocation identifier, so the blocklist could not be checked",
                            paos.RESULT_MINOR_NO_PERMISSION, context, Failure.CARD_NOT_GENUINE, checks,
                            "the ID card could not be verified")
            checks = dataclasses.replace(checks, revocation_checked=True)
            if blocklist is not None and blocklist.card_revoked(revocation_identifier, partial.pseudonym):
                return fail("the card is on the blocklist (sector-specific identifier listed)",
                            paos.RESULT_MINOR_NO_PERMISSION, context, Failure.CARD_REVOKED, checks,
                            "the ID card is blocked")
            partial = dataclasses.replace(partial, checks=checks)
        if partial.document_valid is False:
            return fail("document validity verification: the card has expired", paos.RESULT_MINOR_NO_PERMISSION,
                        context, Failure.CARD_EXPIRED, checks, "the ID card has expired")
        if not message.result.ok:
            problems.insert(0, f"the client stopped the batch ({message.result.minor})")
        result = dataclasses.replace(partial, finished_at=context.now(), message="; ".join(problems) or "completed")
        return Transition(StartPaosResponse(Result()), StateDone(result))


@dataclass(frozen=True)
class StateEac2:
    """DIDAuthenticate with the TA signature was sent; waiting for EF.CardSecurity and the CA token."""

    final: ClassVar[bool] = False
    slot_handle: bytes
    ephemeral: EphemeralKey
    released: bytes
    """The CHAT the citizen released (EAC1OutputType), or the requested one if the client sent none."""

    def receive(self, message: Message, session: EidSession, context: StepContext) -> Transition:
        output = _eac2_output(message, context)
        if isinstance(output, Transition):
            return output
        if not output.has_chip_authentication:
            return fail("EAC2OutputType lacks EF.CardSecurity, the CA token or the nonce",
                        paos.RESULT_MINOR_PARAMETER_ERROR, context, Failure.CLIENT_ERROR)
        terminal = context.terminal
        try:
            card_security = CardSecurity.parse(output.ef_card_security)
            blocklist = terminal.current_blocklist()
            verified = passive_authentication(card_security, terminal.cscas, context.now(),
                                              None if blocklist is None else blocklist.document_signer_revoked)
        except DocumentBlocked as error:
            return fail(str(error), paos.RESULT_MINOR_NO_PERMISSION, context, Failure.CARD_REVOKED,
                        message="the ID card is blocked")
        except PassiveAuthenticationFailed as error:
            return fail(f"passive authentication: {error}", paos.RESULT_MINOR_NO_PERMISSION, context,
                        Failure.CARD_NOT_GENUINE, message="the ID card could not be verified")
        except EidError as error:
            return fail(f"EF.CardSecurity: {error}", paos.RESULT_MINOR_PARAMETER_ERROR, context, Failure.CLIENT_ERROR)
        checks = ServerChecks(passive_authentication=True,
                              document_signer=verified.document_signer.subject.rfc4514_string(),
                              csca=verified.csca.subject.rfc4514_string())
        infos = verified.security_infos
        try:
            ca_info = infos.chip_authentication_info()
            ca_key = infos.chip_authentication_public_key(ca_info.key_id).public_key
            pair = self.ephemeral.key_pair()
            if ca_key.curve != pair.curve:
                raise EidError("the chip's CA key is on another curve than EF.CardAccess announced")
            keys = ChipAuthentication(ca_info.protocol, pair.curve, ca_key.point, pair, ca_info.key_id).verify(
                output.nonce, output.authentication_token)
        except TokenMismatch as error:
            return fail(str(error), paos.RESULT_MINOR_NO_PERMISSION, context, Failure.CARD_NOT_GENUINE, checks,
                        "the ID card could not be verified")
        except EidError as error:
            return fail(f"Chip Authentication: {error}", paos.RESULT_MINOR_PARAMETER_ERROR, context,
                        Failure.CLIENT_ERROR, checks)
        checks = dataclasses.replace(checks, chip_authentication=True)
        plan = CardRequests.plan(session.request, Chat.parse(self.released), infos,
                                 check_revocation=terminal.revocation_wanted())
        partial = EidResult(context.now(), released=self.released, checks=checks)
        functions = plan.functions(terminal.sector)
        if not functions:
            return Transition(StartPaosResponse(Result()), StateDone(partial))
        request = transmit(TerminalChannel(keys), self.slot_handle, functions)
        return Transition(request, StateTransmit(self.slot_handle, keys, 0, plan, partial))


@dataclass(frozen=True)
class StateEac2Challenge:
    """EAC2InputType went without a signature; waiting for the challenge to sign (EAC2OutputType)."""

    final: ClassVar[bool] = False
    slot_handle: bytes
    ephemeral: EphemeralKey
    released: bytes
    id_picc: bytes
    auxiliary_data: bytes | None

    def receive(self, message: Message, session: EidSession, context: StepContext) -> Transition:
        output = _eac2_output(message, context)
        if isinstance(output, Transition):
            return output
        if output.challenge is None or len(output.challenge) != ta.CHALLENGE_LENGTH:
            return fail("EAC2OutputType does not carry the 8-byte challenge to sign", paos.RESULT_MINOR_PARAMETER_ERROR,
                        context, Failure.CLIENT_ERROR)
        signature = _sign(context, self.id_picc, output.challenge, self.ephemeral, self.auxiliary_data)
        request = DidAuthenticate(ConnectionHandle(slot_handle=self.slot_handle), EacAdditionalInput(signature))
        return Transition(request, StateEac2(self.slot_handle, self.ephemeral, self.released))


@dataclass(frozen=True)
class StateEac1:
    """DIDAuthenticate(EAC1InputType) was sent; waiting for the result of PACE (EAC1OutputType)."""

    final: ClassVar[bool] = False
    slot_handle: bytes
    required_chat: bytes
    requested_chat: bytes
    auxiliary_data: bytes | None

    def receive(self, message: Message, session: EidSession, context: StepContext) -> Transition:
        if not isinstance(message, DidAuthenticateResponse):
            return unexpected(message, "DIDAuthenticateResponse", context)
        output = message.data
        if not message.result.ok:
            retry_counter = output.retry_counter if isinstance(output, Eac1Output) else None
            failure, tries = client_failure(message.result, retry_counter)
            return end_with_client_error("EAC1", message.result, context, failure, tries)
        if not isinstance(output, Eac1Output):
            return unexpected(message, "DIDAuthenticateResponse with EAC1OutputType", context)
        if len(output.challenge) != ta.CHALLENGE_LENGTH:
            return fail(f"EAC1OutputType challenge of {len(output.challenge)} bytes, not {ta.CHALLENGE_LENGTH}",
                        paos.RESULT_MINOR_PARAMETER_ERROR, context, Failure.CLIENT_ERROR)
        released = self.requested_chat
        if output.certificate_holder_authorization_template is not None:
            try:
                chat = Chat.parse(output.certificate_holder_authorization_template)
            except EidError as error:
                return fail(f"EAC1OutputType CHAT: {error}", paos.RESULT_MINOR_PARAMETER_ERROR, context,
                            Failure.CLIENT_ERROR)
            requested, required = Chat.parse(self.requested_chat), Chat.parse(self.required_chat)
            # AusweisApp adds CAN allowed whenever the terminal certificate grants it; it reads nothing
            tolerated = requested.mask | (1 << AccessRight.CAN_ALLOWED)
            if chat.terminal_type is not requested.terminal_type or chat.mask & ~tolerated:
                return fail("the card holder's CHAT grants rights that were not requested",
                            paos.RESULT_MINOR_PARAMETER_ERROR, context, Failure.CLIENT_ERROR)
            if required.mask & ~chat.mask:
                return fail("the card holder's CHAT lacks required rights", paos.RESULT_MINOR_PARAMETER_ERROR,
                            context, Failure.CLIENT_ERROR)
            released = chat.encode()
        try:
            domain = parse_security_infos(output.ef_card_access).of_type(ChipAuthenticationDomainParameterInfo)
            parameter_id = domain[0].domain_parameters.curve.standardized_id if domain else None
            if parameter_id is None:
                raise EidError("EF.CardAccess names no standardized Chip Authentication domain parameters")
            ephemeral = EphemeralKey.generate(parameter_id, context.rng)
        except EidError as error:
            return fail(f"EAC1OutputType EF.CardAccess: {error}", paos.RESULT_MINOR_PARAMETER_ERROR, context,
                        Failure.CLIENT_ERROR)
        handle = ConnectionHandle(slot_handle=self.slot_handle)
        if context.separate_signature:
            request = DidAuthenticate(handle, Eac2Input(ephemeral_public_key=ephemeral.public))
            return Transition(request, StateEac2Challenge(self.slot_handle, ephemeral, released, output.id_picc,
                                                          self.auxiliary_data))
        signature = _sign(context, output.id_picc, output.challenge, ephemeral, self.auxiliary_data)
        request = DidAuthenticate(handle, Eac2Input(ephemeral_public_key=ephemeral.public, signature=signature))
        return Transition(request, StateEac2(self.slot_handle, ephemeral, released))


@dataclass(frozen=True)
class StateStartPaos:
    """A new session: waiting for the client's StartPAOS."""

    final: ClassVar[bool] = False

    def receive(self, message: Message, session: EidSession, context: StepContext) -> Transition:
        if not isinstance(message, StartPaos):
            return unexpected(message, "StartPAOS", context)
        if message.session_identifier != session.session_identifier:
            return fail("StartPAOS names another SessionIdentifier", paos.RESULT_MINOR_PARAMETER_ERROR, context,
                        Failure.CLIENT_ERROR)
        handle = _eid_connection_handle(message.connection_handles)
        if handle is None:
            return fail("StartPAOS offers no card slot for the eID application", paos.RESULT_MINOR_PARAMETER_ERROR,
                        context, Failure.NO_CARD)
        terminal = context.terminal
        required, optional = terminal.chats_for(session.request)
        requested = required if optional is None else Chat.from_mask(required.terminal_type,
                                                                     required.mask | optional.mask)
        aux = session.request.auxiliary_data(context.now().date())
        request = DidAuthenticate(
            ConnectionHandle(slot_handle=handle.slot_handle),
            Eac1Input(
                certificates=terminal.certificates,
                certificate_description=terminal.certificate_description,
                required_chat=required.encode(),
                optional_chat=None if optional is None else optional.encode(),
                authenticated_auxiliary_data=None if aux is None else aux.encode(),
                transaction_info=session.request.transaction_info,
            ),
        )
        return Transition(request, StateEac1(handle.slot_handle, required.encode(), requested.encode(),
                                             None if aux is None else aux.encode()))


State = (StateStartPaos | StateEac1 | StateEac2Challenge | StateEac2 | StateTransmit | StateDone | StateFailed)
_STATES: dict[str, type] = {cls.__name__: cls for cls in typing.get_args(State)}


def _eid_connection_handle(handles: tuple[ConnectionHandle, ...]) -> ConnectionHandle | None:
    """The handle of the eID application, else the first with a slot (AusweisApp sends one of either)."""
    with_slot = [h for h in handles if h.slot_handle is not None]
    for handle in with_slot:
        if handle.card_application == EID_APPLICATION:
            return handle
    return with_slot[0] if with_slot else None


def _sign(context: StepContext, id_picc: bytes, challenge: bytes, ephemeral: EphemeralKey,
          auxiliary_data: bytes | None) -> bytes:
    aux = None if auxiliary_data is None else AuxiliaryData.parse(auxiliary_data)
    return ta.sign_challenge(context.terminal.signer, id_picc, challenge, ephemeral.public, aux)


def _eac2_output(message: Message, context: StepContext) -> Eac2Output | Transition:
    if not isinstance(message, DidAuthenticateResponse):
        return unexpected(message, "DIDAuthenticateResponse", context)
    if not message.result.ok:
        failure, tries = client_failure(message.result)
        return end_with_client_error("EAC2", message.result, context, failure, tries)
    if not isinstance(message.data, Eac2Output):
        return unexpected(message, "DIDAuthenticateResponse with EAC2OutputType", context)
    return message.data


def fail(reason: str, result_minor: str, context: StepContext, failure: Failure = Failure.SERVER_ERROR,
         checks: ServerChecks | None = None, message: str | None = None) -> Transition:
    """End the conversation: StartPAOSResponse with an error (``message`` or the reason), and StateFailed."""
    result = failed(context.now(), failure, reason, checks)
    return Transition(StartPaosResponse(Result.error(result_minor, message or reason)),
                      StateFailed(reason, result_minor, result))


def unexpected(message: Message, expected: str, context: StepContext, checks: ServerChecks | None = None) -> Transition:
    return fail(f"{describe(message)} received where {expected} was expected", paos.RESULT_MINOR_PARAMETER_ERROR,
                context, Failure.CLIENT_ERROR, checks)


def end_with_client_error(step: str, result: Result, context: StepContext, failure: Failure, tries_left: int | None,
                          checks: ServerChecks | None = None) -> Transition:
    """The client reported an error (e.g. cancelled by the user): end with the same result."""
    minor = result.minor or paos.RESULT_MINOR_UNKNOWN_ERROR
    reason = f"the client reported an error in {step}: {minor}" + (f" ({result.message})" if result.message else "")
    outcome = failed(context.now(), failure, reason, checks, tries_left)
    return Transition(StartPaosResponse(result), StateFailed(reason, minor, outcome))


def describe(message: Message) -> str:
    """A message's name as the eCard-API spells it, with the type of its protocol data."""
    names = {
        paos.StartPaos: "StartPAOS", paos.StartPaosResponse: "StartPAOSResponse",
        paos.InitializeFramework: "InitializeFramework", paos.InitializeFrameworkResponse: "InitializeFrameworkResponse",
        paos.DidAuthenticate: "DIDAuthenticate", paos.DidAuthenticateResponse: "DIDAuthenticateResponse",
        paos.Transmit: "Transmit", paos.TransmitResponse: "TransmitResponse",
    }
    data_types = {
        paos.Eac1Input: "EAC1InputType", paos.Eac2Input: "EAC2InputType",
        paos.EacAdditionalInput: "EACAdditionalInputType", paos.Eac1Output: "EAC1OutputType",
        paos.Eac2Output: "EAC2OutputType",
    }
    data = getattr(message, "data", None)
    return names[type(message)] + ("" if data is None else "/" + data_types[type(data)])


# --- persistence -------------------------------------------------------------------------------------------


def state_to_dict(state: State) -> dict:
    """A JSON-ready dict: the class name and the fields."""
    return {"state": type(state).__name__, **serialisation.dump(state)}


def state_from_dict(data: dict) -> State:
    cls = _STATES.get(data.get("state"))
    if cls is None:
        raise serialisation.SerialisationError(f"unknown conversation state {data.get('state')!r}")
    return serialisation.load(cls, {k: v for k, v in data.items() if k != "state"})
