"""The states of the eID-Server's PAOS conversation, one class each (after AusweisApp's own design).

Each state is a frozen dataclass holding what the server must remember between two client messages;
``receive(message, session_identifier, context)`` checks the client's message and returns a
:class:`Transition`: the reply to send and the next state. States serialise to plain dicts
(:func:`state_to_dict`) so that a session can be continued by any worker.

The sequence (TR-03112-7 §3.6.4, TR-03130-1):

    StateStartPaos ── StartPAOS ─▶ DIDAuthenticate(EAC1InputType) ─▶ StateEac1
    StateEac1 ── DIDAuthenticateResponse(EAC1OutputType) ─▶ …

This is the transport stage of the server: it runs up to and including EAC1 (the client's PACE with
the card) and then ends the conversation with a StartPAOSResponse, because Terminal Authentication,
Chip Authentication and the secure-messaging Transmits are not wired in yet. Any error or unexpected
message ends in :class:`StateFailed` with the ResultMinor reported to the client.
"""

from __future__ import annotations

import dataclasses
import datetime
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from eid import paos
from eid.chat import Chat, ChatError
from eid.paos import (
    ConnectionHandle, DidAuthenticate, DidAuthenticateResponse, Eac1Input, Eac1Output, Message, Result,
    StartPaos, StartPaosResponse,
)
from eid.server.terminal import TerminalConfig

#: The card application of the eID function (TR-03110-4, AID E8 07 04 00 7F 00 07 03 02).
EID_APPLICATION = bytes.fromhex("E80704007F00070302")
#: r_PICC,TA: the challenge for Terminal Authentication is 8 bytes (TR-03110-3 §B.11.6).
CHALLENGE_BYTES = 8


@dataclass(frozen=True)
class StepContext:
    """What the states may use besides the message: configuration, clock and randomness (injected)."""

    terminal: TerminalConfig
    now: Callable[[], datetime.datetime]
    rng: Callable[[int], bytes]


@dataclass(frozen=True)
class Transition:
    reply: Message
    state: State


@dataclass(frozen=True)
class StateFailed:
    """The conversation ended without success; ``result_minor`` is what the client was told."""

    final: ClassVar[bool] = True
    reason: str
    result_minor: str


@dataclass(frozen=True)
class StateEac1:
    """DIDAuthenticate(EAC1InputType) was sent; waiting for the result of PACE (EAC1OutputType)."""

    final: ClassVar[bool] = False
    slot_handle: bytes

    def receive(self, message: Message, session_identifier: str, context: StepContext) -> Transition:
        if not isinstance(message, DidAuthenticateResponse):
            return unexpected(message, "DIDAuthenticateResponse")
        if not message.result.ok:
            return client_error("EAC1", message.result)
        output = message.data
        if not isinstance(output, Eac1Output):
            return unexpected(message, "DIDAuthenticateResponse with EAC1OutputType")
        if len(output.challenge) != CHALLENGE_BYTES:
            return fail(f"EAC1OutputType challenge of {len(output.challenge)} bytes, not {CHALLENGE_BYTES}",
                        paos.RESULT_MINOR_PARAMETER_ERROR)
        if output.certificate_holder_authorization_template is not None:
            try:
                chat = Chat.parse(output.certificate_holder_authorization_template)
            except ChatError as error:
                return fail(f"EAC1OutputType CHAT: {error}", paos.RESULT_MINOR_PARAMETER_ERROR)
            requested = context.terminal.requested_chat
            if chat.terminal_type is not requested.terminal_type or chat.mask & ~requested.mask:
                return fail("the card holder's CHAT grants rights that were not requested",
                            paos.RESULT_MINOR_PARAMETER_ERROR)
        references = ", ".join(output.certification_authority_references) or "none"
        return fail(f"PACE completed (EAC1OutputType received, CAR {references}); this server stage ends "
                    "before Terminal Authentication", paos.RESULT_MINOR_INTERNAL_ERROR,
                    "Terminal Authentication is not available on this eID-Server")


@dataclass(frozen=True)
class StateStartPaos:
    """A new session: waiting for the client's StartPAOS."""

    final: ClassVar[bool] = False

    def receive(self, message: Message, session_identifier: str, context: StepContext) -> Transition:
        if not isinstance(message, StartPaos):
            return unexpected(message, "StartPAOS")
        if message.session_identifier != session_identifier:
            return fail("StartPAOS names another SessionIdentifier", paos.RESULT_MINOR_PARAMETER_ERROR)
        handle = _eid_connection_handle(message.connection_handles)
        if handle is None:
            return fail("StartPAOS offers no card slot for the eID application", paos.RESULT_MINOR_PARAMETER_ERROR)
        terminal = context.terminal
        request = DidAuthenticate(
            ConnectionHandle(slot_handle=handle.slot_handle),
            Eac1Input(
                certificates=terminal.certificates,
                certificate_description=terminal.certificate_description,
                required_chat=terminal.required_chat.encode(),
                optional_chat=None if terminal.optional_chat is None else terminal.optional_chat.encode(),
                transaction_info=terminal.transaction_info,
            ),
        )
        return Transition(request, StateEac1(slot_handle=handle.slot_handle))


State = StateStartPaos | StateEac1 | StateFailed
_STATES: dict[str, type] = {cls.__name__: cls for cls in typing.get_args(State)}


def _eid_connection_handle(handles: tuple[ConnectionHandle, ...]) -> ConnectionHandle | None:
    """The handle of the eID application, else the first with a slot (AusweisApp sends one of either)."""
    with_slot = [h for h in handles if h.slot_handle is not None]
    for handle in with_slot:
        if handle.card_application == EID_APPLICATION:
            return handle
    return with_slot[0] if with_slot else None


def fail(reason: str, result_minor: str, message: str | None = None) -> Transition:
    """End the conversation: StartPAOSResponse with an error, and StateFailed."""
    return Transition(StartPaosResponse(Result.error(result_minor, message or reason)), StateFailed(reason, result_minor))


def unexpected(message: Message, expected: str) -> Transition:
    return fail(f"{describe(message)} received where {expected} was expected", paos.RESULT_MINOR_PARAMETER_ERROR)


def client_error(step: str, result: Result) -> Transition:
    """The client reported an error (e.g. cancelled by the user): end with the same result."""
    minor = result.minor or paos.RESULT_MINOR_UNKNOWN_ERROR
    return Transition(StartPaosResponse(result), StateFailed(f"the client reported an error in {step}: {minor}", minor))


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
    """A JSON-ready dict: the class name and the fields, bytes as hex."""
    values = {}
    for field in dataclasses.fields(state):
        value = getattr(state, field.name)
        values[field.name] = value.hex() if isinstance(value, bytes) else value
    return {"state": type(state).__name__, **values}


def state_from_dict(data: dict) -> State:
    name = data.get("state")
    cls = _STATES.get(name)
    if cls is None:
        raise ValueError(f"unknown conversation state {name!r}")
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        value = data[field.name]
        values[field.name] = bytes.fromhex(value) if hints[field.name] is bytes else value
    return cls(**values)
