"""The eID client's side of the PAOS conversation (TR-03112-7 §3.6.4, TR-03124-1 §2.7.3), one class per state.

Each state's ``receive(message, context)`` takes the eID-Server's message and returns a :class:`Step`: the
answer to post (or None once the server has ended the conversation) and the next state. The card is
reached through :class:`eid.terminal.CardSession` over any :class:`cardreader.channel.CardChannel`, the
citizen through :class:`eid.client.consent.Citizen`; no sockets here.

    AwaitEac1        DIDAuthenticate(EAC1InputType): the checks of TR-03124-1 §2.7.3, the citizen's
                     consent and PIN, PACE with the CHAT, GET CHALLENGE  → EAC1OutputType      ▶ AwaitEac2
    AwaitEac2        DIDAuthenticate(EAC2InputType): the terminal's certificates, MSE:Set AT with the
                     ephemeral key and auxiliary data, EXTERNAL AUTHENTICATE with the server's signature,
                     EF.CardSecurity, Chip Authentication → EAC2OutputType                   ▶ Relay
                     (without a signature: → EAC2OutputType(Challenge)                         ▶ AwaitAdditional)
    AwaitAdditional  DIDAuthenticate(EACAdditionalInputType): EXTERNAL AUTHENTICATE, EF.CardSecurity, CA ▶ Relay
    Relay            Transmit: the server's secure-messaging APDUs to the card, unchanged, until a status
                     word it did not list                                                     ▶ Relay
    any              StartPAOSResponse                                                        ▶ Finished

After Chip Authentication the card speaks with keys only the server holds; the client relays. A failure
on the client's side (checks, cancel, wrong PIN, card errors) is answered with the error result
TR-03112 defines and the state :class:`AwaitEnd`, which waits for the server's StartPAOSResponse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from cardreader.errors import CardRemoved, NoCard, ReaderError
from eid import chip_authentication as ca
from eid import paos
from eid import terminal_authentication as ta
from eid.auxiliary_data import AuxiliaryData
from eid.card_security import CardSecurity
from eid.chat import Chat, Role
from eid.client.checks import CertificateNotListed, CheckFailed, HostMismatch, Provider, WeakTlsKey, check_eac1
from eid.client.consent import Citizen, Consent, PasswordPrompt
from eid.cvc import CvCertificate
from eid.errors import EidError
from eid.paos import (
    ConnectionHandle, DidAuthenticate, DidAuthenticateResponse, Eac1Input, Eac1Output, Eac2Input, Eac2Output,
    EacAdditionalInput, InputApduInfo, Message, Result, StartPaos, StartPaosResponse, Transmit, TransmitResponse,
    UserAgent,
)
from eid.pace import InvalidPassword, PaceResult, PaceSelection, Password, PasswordType, pin_retry_counter
from eid.security_infos import parse_security_infos
from eid.status import (
    AuthenticationFailed, PinBlocked, PinDeactivated, PinSuspended, TransportPinActive, WrongPin, raise_for_status,
)
from eid.terminal import (
    EF_CARD_ACCESS, EF_CARD_SECURITY, EID_APPLICATION, CardSession, CertificateNotAccepted, ExternalAuthenticate,
    ReadFile, choose_pace_parameters,
)

USER_AGENT = UserAgent("eid-broker eID client", 1, 0, 0)
API_VERSION = paos.ApiVersion(1, 1, 5)


class ProtocolViolation(EidError):
    """The eID-Server sent a message that has no place in the conversation."""


class Cancelled(Exception):
    """The citizen cancelled; ``tries_left`` is the PIN retry counter if a wrong PIN came before."""

    def __init__(self, tries_left: int | None = None) -> None:
        super().__init__("cancelled by the citizen")
        self.tries_left = tries_left


@dataclass
class ClientContext:
    """What the states work with: the card (opened when PACE starts), the citizen, randomness, and the
    TLS certificates met so far (the transport adds each one)."""

    open_card: Callable[[], CardSession]
    citizen: Citizen
    rng: Callable[[int], bytes]
    tc_token_url: str
    seen_certificates: list[tuple[str, bytes]] = field(default_factory=list)
    card: CardSession | None = None
    provider: Provider | None = None
    """The provider once EAC1InputType passed the checks (the refresh URL is checked against it)."""

    def card_session(self) -> CardSession:
        if self.card is None:
            self.card = self.open_card()
        return self.card


@dataclass(frozen=True)
class Step:
    reply: Message | None
    state: ClientState


@dataclass(frozen=True)
class Finished:
    """The server ended the conversation with this result."""

    final: ClassVar[bool] = True
    result: Result
    own_error: Result | None = None
    """The error this client reported before, if the conversation ended because of it."""


@dataclass(frozen=True)
class AwaitEnd:
    """The client reported an error; waiting for the server's StartPAOSResponse."""

    final: ClassVar[bool] = False
    own_error: Result

    def receive(self, message: Message, context: ClientContext) -> Step:
        if not isinstance(message, StartPaosResponse):
            raise ProtocolViolation(f"{type(message).__name__} after the client reported an error")
        return Step(None, Finished(message.result, self.own_error))


@dataclass(frozen=True)
class Relay:
    """After Chip Authentication: Transmit batches go to the card as they are."""

    final: ClassVar[bool] = False

    def receive(self, message: Message, context: ClientContext) -> Step:
        if isinstance(message, StartPaosResponse):
            return Step(None, Finished(message.result))
        if not isinstance(message, Transmit):
            raise ProtocolViolation(f"{type(message).__name__} where Transmit or StartPAOSResponse was expected")
        channel = context.card_session().channel
        outputs: list[bytes] = []
        for info in message.apdus:
            try:
                answer = channel.transmit(info.apdu)
            except ReaderError as error:
                gone = isinstance(error, (NoCard, CardRemoved))
                minor = paos.RESULT_MINOR_NO_CARD if gone else paos.RESULT_MINOR_COMMUNICATION_ERROR
                return Step(TransmitResponse(Result.error(minor, str(error)), tuple(outputs)), self)
            outputs.append(answer)
            if not acceptable(info, answer):
                status = answer[-2:].hex().upper()
                return Step(TransmitResponse(Result.error(paos.RESULT_MINOR_UNKNOWN_ERROR,
                                                          f"the card answered {status}"), tuple(outputs)), self)
        return Step(TransmitResponse(Result(), tuple(outputs)), self)


def acceptable(info: InputApduInfo, answer: bytes) -> bool:
    """TR-03112-6 §3.2.5: the status word starts with one of the acceptable codes (any, if none given)."""
    return not info.acceptable_status_codes or any(answer[-2:].startswith(code) for code in info.acceptable_status_codes)


@dataclass(frozen=True)
class AwaitAdditional:
    """EAC2OutputType carried the challenge; waiting for the signature (EACAdditionalInputType)."""

    final: ClassVar[bool] = False
    ephemeral_public_key: bytes

    def receive(self, message: Message, context: ClientContext) -> Step:
        if isinstance(message, StartPaosResponse):
            return Step(None, Finished(message.result))
        if not isinstance(message, DidAuthenticate) or not isinstance(message.data, EacAdditionalInput):
            raise ProtocolViolation(f"{type(message).__name__} where EACAdditionalInputType was expected")
        try:
            output = _authenticate_chip(context.card_session(), message.data.signature, self.ephemeral_public_key)
        except (EidError, ReaderError) as error:
            return report(error, message.protocol)
        return Step(DidAuthenticateResponse(Result(), output, message.protocol), Relay())


@dataclass(frozen=True)
class AwaitEac2:
    """PACE is done and EAC1OutputType sent; waiting for the ephemeral key and the signature (EAC2InputType)."""

    final: ClassVar[bool] = False
    certificates: tuple[bytes, ...]
    terminal_chr: str
    cars: tuple[str, ...]
    challenge: bytes
    auxiliary_data: bytes | None

    def receive(self, message: Message, context: ClientContext) -> Step:
        if isinstance(message, StartPaosResponse):
            return Step(None, Finished(message.result))
        if not isinstance(message, DidAuthenticate) or not isinstance(message.data, Eac2Input):
            raise ProtocolViolation(f"{type(message).__name__} where EAC2InputType was expected")
        request = message.data
        session = context.card_session()
        try:
            certificates = [CvCertificate.parse(c) for c in (*self.certificates, *request.certificates)]
            terminal = next(c for c in certificates if c.chr == self.terminal_chr)
            chain = _chain(certificates, terminal, self.cars)
            aux = None if self.auxiliary_data is None else AuxiliaryData.parse(self.auxiliary_data)
            for command in ta.certificate_commands(chain):
                answer = session.transmit(command)
                if command.ins == ta.INS_PSO and answer.sw != 0x9000:
                    raise CertificateNotAccepted(f"the card refused the certificate (SW {answer.sw:04X})")
                raise_for_status(answer.sw, "Terminal Authentication")
            raise_for_status(session.transmit(ta.set_at(terminal, request.ephemeral_public_key, aux)).sw,
                             "MSE:Set AT for Terminal Authentication")
            if request.signature is None:
                output = Eac2Output(challenge=self.challenge)
                return Step(DidAuthenticateResponse(Result(), output, message.protocol),
                            AwaitAdditional(request.ephemeral_public_key))
            output = _authenticate_chip(session, request.signature, request.ephemeral_public_key)
        except (EidError, ReaderError) as error:
            return report(error, message.protocol)
        return Step(DidAuthenticateResponse(Result(), output, message.protocol), Relay())


def _chain(certificates: list[CvCertificate], terminal: CvCertificate, cars: tuple[str, ...]) -> list[CvCertificate]:
    for car in cars:
        try:
            return ta.chain_for(car, certificates, terminal)
        except EidError:
            continue
    raise CertificateNotAccepted(f"no certificate chain from the card's trust points {list(cars)} to {terminal.chr}")


def _authenticate_chip(session: CardSession, signature: bytes, ephemeral_public_key: bytes) -> Eac2Output:
    """EXTERNAL AUTHENTICATE with the server's signature, EF.CardSecurity, Chip Authentication."""
    session.run(ExternalAuthenticate(signature))
    card_security = session.run(ReadFile(EF_CARD_SECURITY))[0]
    info = CardSecurity.parse(card_security).security_infos.chip_authentication_info()
    selection = ca.ChipAuthenticationSelection(info.protocol, info.key_id)
    raise_for_status(session.transmit(selection.command()).sw, "MSE:Set AT for Chip Authentication")
    answer = session.transmit(ca.general_authenticate(ephemeral_public_key))
    raise_for_status(answer.sw, "General Authenticate for Chip Authentication")
    nonce, token = ca.parse_response(answer.data)
    session.sm = None  # the card switched to keys only the eID-Server knows: from now on the client relays
    return Eac2Output(ef_card_security=card_security, authentication_token=token, nonce=nonce)


@dataclass(frozen=True)
class AwaitEac1:
    """StartPAOS was sent; waiting for DIDAuthenticate(EAC1InputType)."""

    final: ClassVar[bool] = False

    def receive(self, message: Message, context: ClientContext) -> Step:
        if isinstance(message, StartPaosResponse):
            return Step(None, Finished(message.result))
        if not isinstance(message, DidAuthenticate) or not isinstance(message.data, Eac1Input):
            raise ProtocolViolation(f"{type(message).__name__} where EAC1InputType was expected")
        request = message.data
        try:
            provider = check_eac1(request, context.tc_token_url, context.seen_certificates)
            context.provider = provider
            consent = consent_for(request, provider)
            kept = context.citizen.consent(consent)
            if kept is None:
                raise Cancelled()
            chat = Chat(Role.TERMINAL, consent.required | (kept & consent.optional))
            session = context.card_session()
            card_access = session.run(ReadFile(EF_CARD_ACCESS))[0]
            parameters = choose_pace_parameters(parse_security_infos(card_access))
            result = _pace(session, context, chat, parameters)
            challenge = session.transmit(ta.get_challenge())
            raise_for_status(challenge.sw, "GET CHALLENGE")
        except (Cancelled, EidError, ReaderError) as error:
            return report(error, message.protocol, eac1=True)
        output = Eac1Output(ef_card_access=card_access, id_picc=result.id_picc, challenge=challenge.data,
                            certificate_holder_authorization_template=chat.encode(),
                            certification_authority_references=result.cars)
        terminal = provider.terminal
        return Step(DidAuthenticateResponse(Result(), output, message.protocol),
                    AwaitEac2(request.certificates, terminal.chr, result.cars, challenge.data,
                              request.authenticated_auxiliary_data))


def consent_for(request: Eac1Input, provider: Provider) -> Consent:
    """The rights asked for, limited to the terminal certificate's (TR-03110-3 §2.7)."""
    allowed = provider.terminal.chat.rights
    if request.required_chat is not None:
        required = Chat.parse(request.required_chat).rights & allowed
    else:
        required = frozenset(allowed)
    optional = (Chat.parse(request.optional_chat).rights & allowed) - required if request.optional_chat else frozenset()
    aux = None if request.authenticated_auxiliary_data is None else AuxiliaryData.parse(request.authenticated_auxiliary_data)
    return Consent(provider, frozenset(required), frozenset(optional), request.transaction_info, aux)


def _pace(session: CardSession, context: ClientContext, chat: Chat, parameters) -> PaceResult:
    """PACE with the PIN, asking again after a wrong one, and for the CAN first when the PIN is suspended.

    The PIN's state is read before the citizen is asked (as AusweisApp does): a blocked or deactivated PIN ends
    here, and a suspended one — from the start, or after the second wrong PIN here — asks for the CAN first. A
    citizen who cancels at the CAN prompt is reported with the retry counter 1, so that the provider can say that
    the CAN is needed rather than "cancelled"."""
    answer = session.transmit(PaceSelection(parameters.protocol, PasswordType.PIN, parameters.parameter_id).command())
    tries_left = pin_retry_counter(answer.sw)
    reason = ""
    can_done = False
    while True:
        if tries_left == 1 and not can_done:
            _pace_with_can(session, context, parameters)
            can_done, reason = True, "the PIN is suspended: this is the last try"
        pin = context.citizen.password(PasswordPrompt(PasswordType.PIN, tries_left, reason))
        if pin is None:
            raise Cancelled(tries_left)
        try:
            return session.pace(Password(PasswordType.PIN, pin), context.rng, chat=chat, parameters=parameters)
        except InvalidPassword:
            reason = "a PIN has six digits"
        except WrongPin as error:
            if error.tries_left == 0:
                raise PinBlocked(error.sw, "PACE with the PIN") from None
            tries_left, reason = error.tries_left, "the PIN was wrong"
        except PinSuspended:  # the card counts on its own (another program used it meanwhile)
            tries_left, can_done = 1, False


def _pace_with_can(session: CardSession, context: ClientContext, parameters) -> None:
    reason = "the PIN is suspended after two wrong tries: enter the card access number (CAN) first"
    while True:
        can = context.citizen.password(PasswordPrompt(PasswordType.CAN, None, reason))
        if can is None:
            raise Cancelled(1)
        try:
            session.pace(Password(PasswordType.CAN, can), context.rng, parameters=parameters)
            return
        except InvalidPassword:
            reason = "a CAN has six digits"
        except (AuthenticationFailed, WrongPin):
            reason = "the CAN was wrong"


def report(error: Exception, protocol: str, eac1: bool = False) -> Step:
    """The client's own failure as DIDAuthenticateResponse (TR-03112-7 §3.6.4; the PIN retry counter in
    EAC1OutputType when it is known), then wait for the server to end."""
    retry_counter = None
    if isinstance(error, Cancelled):
        result = Result.error(paos.RESULT_MINOR_CANCELLATION_BY_USER, "cancelled by the user")
        retry_counter = error.tries_left
    elif isinstance(error, PinBlocked):
        result, retry_counter = Result.error(paos.RESULT_MINOR_CANCELLATION_BY_USER, "the PIN is blocked"), 0
    elif isinstance(error, PinDeactivated):
        result = Result.error(paos.RESULT_MINOR_NO_PERMISSION,
                              "the online identification function of the ID card is deactivated")
    elif isinstance(error, TransportPinActive):
        result = Result.error(paos.RESULT_MINOR_NO_PERMISSION, "the transport PIN has to be replaced first")
    elif isinstance(error, (NoCard, CardRemoved)):
        result = Result.error(paos.RESULT_MINOR_NO_CARD, str(error))
    elif isinstance(error, ReaderError):
        result = Result.error(paos.RESULT_MINOR_COMMUNICATION_ERROR, str(error))
    elif isinstance(error, (CertificateNotListed, HostMismatch, WeakTlsKey)):
        result = Result.error(paos.RESULT_MINOR_TRUSTED_CHANNEL_FAILED, str(error))
    elif isinstance(error, CheckFailed):
        result = Result.error(paos.RESULT_MINOR_PARAMETER_ERROR, str(error))
    else:
        result = Result.error(paos.RESULT_MINOR_INTERNAL_ERROR, str(error))
    data = Eac1Output(b"", b"", b"", retry_counter=retry_counter) if eac1 and retry_counter is not None else None
    return Step(DidAuthenticateResponse(result, data, protocol), AwaitEnd(result))


def start_paos(session_identifier: str, slot_handle: bytes) -> StartPaos:
    return StartPaos(
        session_identifier=session_identifier,
        connection_handles=(ConnectionHandle(card_application=EID_APPLICATION, slot_handle=slot_handle),),
        user_agent=USER_AGENT,
        supported_api_versions=(API_VERSION,),
    )


ClientState = AwaitEac1 | AwaitEac2 | AwaitAdditional | Relay | AwaitEnd | Finished
