"""The terminal side of online authentication, end to end, over any card channel.

Two layers:

**Card functions** are request/evaluate pairs: ``request() -> list[CommandApdu]`` gives plain
commands, ``evaluate(responses) -> result`` reads the plain answers. They do no I/O, so the eID-Server
can protect the commands of several functions as one secure-messaging batch (:func:`protect_batch`),
send them in one PAOS Transmit, and read the TransmitResponse with :func:`evaluate_batch`. A Transmit
ends at the first unexpected status word; functions whose answers are missing then raise
:class:`ResponsesMissing` (reading data groups reports what it got). Functions: :class:`SelectFile`,
:class:`ReadBinary`, :class:`ReadFile`, :class:`ReadDataGroups`, :class:`Verify` (age, community ID, validity),
:class:`TerminalAuthentication` / :class:`ExternalAuthenticate`, :class:`ChangePin`,
:class:`UnblockPin`, and from their own modules ``ChipAuthentication`` and ``RestrictedIdentification``.

**A card session** (:class:`CardSession`) runs them over a :class:`cardreader.channel.CardChannel`
(a virtual card, pcscd, …): :meth:`CardSession.pace` where the card and the password are (the eID
client), :meth:`CardSession.eac` for Terminal Authentication, passive authentication and Chip
Authentication, then :meth:`CardSession.run` for the functions. PACE is separate from the rest: an
eID-Server never sees the password, it signs the challenge (``eid.terminal_authentication``), checks the
CA token (``ChipAuthentication.verify``) and sends batches.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from cryptography import x509

from eid import auxiliary_data, data_groups, key_agreement, oid, pace
from eid import terminal_authentication as ta
from eid.apdu import EXTENDED_MAX_NE, CommandApdu, ResponseApdu
from eid.auxiliary_data import AuxiliaryData
from eid.card_security import CardSecurity
from eid.chat import Chat
from eid.chip_authentication import ChipAuthentication, ChipAuthenticationResult
from eid.cvc import CvCertificate
from eid.domain_parameters import by_standardized_id
from eid.errors import EidError, VerificationFailed
from eid.key_agreement import Rng
from eid.key_derivation import UnsupportedProtocol
from eid.pace import PaceParameters, PaceResult, Password
from eid.passive_authentication import Blocklist, PassiveAuthenticationResult
from eid.passive_authentication import verify as passive_authentication
from eid.secure_messaging import TerminalChannel
from eid.security_infos import PaceInfo, SecurityInfos, parse_security_infos
from eid.signature import Signer
from eid.status import CardError, SecurityStatusNotSatisfied, TransportPinActive, error_for_status, raise_for_status

T = TypeVar("T", covariant=True)

EID_APPLICATION = bytes.fromhex("E80704007F00070302")
"""AID of the eID application (TR-03110-4 §2.2.1)."""
MASTER_FILE = b"\x3f\x00"
EF_CARD_ACCESS = 0x1C
EF_CARD_SECURITY = 0x1D
OK = 0x9000
SW_VERIFICATION_FAILED = 0x6300


class ResponsesMissing(EidError):
    """A card function got fewer answers than it sent commands (the batch stopped early)."""


class CertificateNotAccepted(VerificationFailed):
    """The chip refused a CV certificate of the terminal's chain (PSO:Verify Certificate)."""


class TerminalAuthenticationRefused(VerificationFailed):
    """The chip refused the terminal's signature (External Authenticate)."""


class CardFunction(Protocol[T]):
    def request(self) -> list[CommandApdu]: ...

    def evaluate(self, responses: Sequence[ResponseApdu]) -> T: ...


def _expect(responses: Sequence[ResponseApdu], count: int, what: str) -> None:
    if len(responses) < count:
        raise ResponsesMissing(f"{what}: {len(responses)} of {count} answers")


# ---------------------------------------------------------------- card functions


@dataclass(frozen=True)
class SelectFile:
    """SELECT without FCI: the MF (P1 00, 3F00), an application by AID (P1 04) or an EF by FID (P1 02)."""

    identifier: bytes
    p1: int

    def request(self) -> list[CommandApdu]:
        return [CommandApdu(0x00, 0xA4, self.p1, 0x0C, self.identifier)]

    def evaluate(self, responses: Sequence[ResponseApdu]) -> None:
        _expect(responses, 1, "SELECT")
        raise_for_status(responses[0].sw, f"SELECT {self.identifier.hex().upper()}")


def select_master_file() -> SelectFile:
    return SelectFile(MASTER_FILE, 0x00)


def select_application(aid: bytes = EID_APPLICATION) -> SelectFile:
    return SelectFile(aid, 0x04)


@dataclass(frozen=True)
class ReadBinary:
    """READ BINARY of a whole (small) file of the current DF by short file identifier, extended Le."""

    short_file_id: int

    def request(self) -> list[CommandApdu]:
        return [CommandApdu(0x00, 0xB0, 0x80 | self.short_file_id, 0x00, ne=EXTENDED_MAX_NE)]

    def evaluate(self, responses: Sequence[ResponseApdu]) -> bytes:
        _expect(responses, 1, "READ BINARY")
        raise_for_status(responses[0].sw, f"READ BINARY of SFI {self.short_file_id:02X}")
        return responses[0].data


@dataclass(frozen=True)
class ReadFile:
    """SELECT the MF (or an application), then READ BINARY of one of its files: EF.CardAccess (SFI 1C),
    EF.CardSecurity (SFI 1D)."""

    short_file_id: int
    application: bytes | None = None

    def _select(self) -> SelectFile:
        return select_master_file() if self.application is None else select_application(self.application)

    def request(self) -> list[CommandApdu]:
        return self._select().request() + ReadBinary(self.short_file_id).request()

    def evaluate(self, responses: Sequence[ResponseApdu]) -> bytes:
        self._select().evaluate(responses[:1])
        return ReadBinary(self.short_file_id).evaluate(responses[1:])


@dataclass(frozen=True)
class DataGroupsRead:
    """Raw contents of the data groups read, and the card's refusal for each one it refused."""

    contents: dict[int, bytes]
    refused: dict[int, CardError]

    def value(self, number: int) -> Any:
        """The decoded value (see :mod:`eid.data_groups`); KeyError if it was not read."""
        return data_groups.decode_data_group(number, self.contents[number])


@dataclass(frozen=True)
class ReadDataGroups:
    """SELECT the eID application, then READ BINARY of each data group by its short file identifier."""

    numbers: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.numbers or any(n not in data_groups.NUMBERS for n in self.numbers):
            raise ValueError(f"data groups are numbered 1-22, not {self.numbers}")

    def request(self) -> list[CommandApdu]:
        commands = select_application().request()
        for number in self.numbers:
            commands += ReadBinary(data_groups.short_file_id(number)).request()
        return commands

    def evaluate(self, responses: Sequence[ResponseApdu]) -> DataGroupsRead:
        select_application().evaluate(responses[:1])
        contents: dict[int, bytes] = {}
        refused: dict[int, CardError] = {}
        for number, response in zip(self.numbers, responses[1:]):
            if response.sw == OK:
                contents[number] = response.data
            else:
                refused[number] = error_for_status(response.sw, f"DG{number}")
        return DataGroupsRead(contents, refused)


@dataclass(frozen=True)
class Verify:
    """VERIFY of authenticated auxiliary data: the card compares what TA committed to (True/False)."""

    verification: str
    """id-DateOfBirth (age), id-DateOfExpiry (document validity) or id-MunicipalityID (community ID)."""

    def request(self) -> list[CommandApdu]:
        return [auxiliary_data.verify_command(self.verification)]

    def evaluate(self, responses: Sequence[ResponseApdu]) -> bool:
        _expect(responses, 1, "VERIFY")
        sw = responses[0].sw
        if sw == OK:
            return True
        if sw == SW_VERIFICATION_FAILED:
            return False
        raise error_for_status(sw, f"VERIFY {oid.name(self.verification)}")


def verify_age() -> Verify:
    return Verify(oid.ID_DATE_OF_BIRTH)


def verify_community_id() -> Verify:
    return Verify(oid.ID_MUNICIPALITY_ID)


def verify_validity() -> Verify:
    return Verify(oid.ID_DATE_OF_EXPIRY)


@dataclass(frozen=True)
class TerminalAuthentication:
    """TA version 2 up to the challenge: for each certificate MSE:Set DST + PSO:Verify Certificate, then
    MSE:Set AT (terminal CHR, Comp(ephemeral CA key), auxiliary data) and GET CHALLENGE → r_PICC."""

    chain: tuple[CvCertificate, ...]
    ephemeral_public_key: bytes
    aux_data: AuxiliaryData | None = None

    def request(self) -> list[CommandApdu]:
        return [*ta.certificate_commands(self.chain),
                ta.set_at(self.chain[-1], self.ephemeral_public_key, self.aux_data),
                ta.get_challenge()]

    def evaluate(self, responses: Sequence[ResponseApdu]) -> bytes:
        count = 2 * len(self.chain) + 2
        for i, certificate in enumerate(self.chain):
            if i * 2 + 1 < len(responses):
                raise_for_status(responses[2 * i].sw, f"MSE:Set DST {certificate.car}")
                if responses[2 * i + 1].sw != OK:
                    raise CertificateNotAccepted(f"the chip refused certificate {certificate.chr} "
                                                 f"(SW {responses[2 * i + 1].sw:04X})")
        _expect(responses, count, "Terminal Authentication")
        raise_for_status(responses[-2].sw, "MSE:Set AT for Terminal Authentication")
        raise_for_status(responses[-1].sw, "GET CHALLENGE")
        if len(responses[-1].data) != ta.CHALLENGE_LENGTH:
            raise ta.TerminalAuthenticationError(f"challenge of {len(responses[-1].data)} bytes")
        return responses[-1].data


@dataclass(frozen=True)
class ExternalAuthenticate:
    signature: bytes = field(repr=False)

    def request(self) -> list[CommandApdu]:
        return [ta.external_authenticate(self.signature)]

    def evaluate(self, responses: Sequence[ResponseApdu]) -> None:
        _expect(responses, 1, "EXTERNAL AUTHENTICATE")
        sw = responses[0].sw
        if sw == SW_VERIFICATION_FAILED:
            raise TerminalAuthenticationRefused("the chip did not accept the terminal's signature")
        raise_for_status(sw, "EXTERNAL AUTHENTICATE")


@dataclass(frozen=True)
class ChangePin:
    """RESET RETRY COUNTER with a new PIN (P1 02, P2 03): after PACE with the PIN (e.g. the transport PIN)."""

    new_pin: str = field(repr=False)

    def __post_init__(self) -> None:
        Password(pace.PasswordType.PIN, self.new_pin)
        if len(self.new_pin) != 6:
            raise pace.InvalidPassword("a new PIN has 6 digits")

    def request(self) -> list[CommandApdu]:
        return [CommandApdu(0x00, 0x2C, 0x02, 0x03, self.new_pin.encode("ascii"))]

    def evaluate(self, responses: Sequence[ResponseApdu]) -> None:
        _expect(responses, 1, "RESET RETRY COUNTER")
        raise_for_status(responses[0].sw, "change PIN")


@dataclass(frozen=True)
class UnblockPin:
    """RESET RETRY COUNTER without data (P1 03, P2 03): after PACE with the PUK."""

    def request(self) -> list[CommandApdu]:
        return [CommandApdu(0x00, 0x2C, 0x03, 0x03)]

    def evaluate(self, responses: Sequence[ResponseApdu]) -> None:
        _expect(responses, 1, "RESET RETRY COUNTER")
        raise_for_status(responses[0].sw, "unblock PIN")


# ---------------------------------------------------------------- batches under secure messaging


def protect_batch(sm: TerminalChannel, functions: Sequence[CardFunction[Any]]) -> list[CommandApdu]:
    """All commands of ``functions``, protected in order — one PAOS Transmit's worth."""
    return sm.protect_batch([command for function in functions for command in function.request()])


def evaluate_batch(sm: TerminalChannel, functions: Sequence[CardFunction[Any]],
                   responses: Sequence[ResponseApdu]) -> list[Any]:
    """Verify the protected answers (any MAC failure raises and closes ``sm``), then evaluate each function
    with its share of them. A Transmit that stopped early yields results only for the functions that got
    an answer; a function cut off midway raises the card's error (or :class:`ResponsesMissing`), except
    :class:`ReadDataGroups`, which reports the groups it got and the one refused."""
    plain = sm.unprotect_batch(responses)
    return split_and_evaluate(functions, plain)


def split_and_evaluate(functions: Sequence[CardFunction[Any]], responses: Sequence[ResponseApdu]) -> list[Any]:
    """Each function's result from its share of ``responses``, for the functions that got any answer."""
    results = []
    offset = 0
    for function in functions:
        if offset >= len(responses):
            break
        count = len(function.request())
        results.append(function.evaluate(responses[offset:offset + count]))
        offset += count
    return results


# ---------------------------------------------------------------- a session with a card


@dataclass(frozen=True)
class AuthenticationTerminal:
    """An authentication terminal's credentials: its CV certificates (link certificates, DV, terminal —
    any order) and the signer of its terminal key."""

    certificates: tuple[CvCertificate, ...]
    terminal: CvCertificate
    signer: Signer

    def chain_for(self, cars: Sequence[str]) -> tuple[CvCertificate, ...]:
        """The certificates to send to a chip that trusts one of ``cars`` (from PACE), most recent first."""
        for car in cars:
            try:
                return tuple(ta.chain_for(car, self.certificates, self.terminal))
            except EidError:
                continue
        raise CertificateNotAccepted(f"no certificate chain from the chip's trust points {list(cars)} "
                                     f"to {self.terminal.chr}")


@dataclass(frozen=True)
class EacResult:
    """After PACE, TA, passive authentication and CA: the card's security objects and the CA result."""

    pace: PaceResult
    card_security: bytes
    security_infos: SecurityInfos
    passive_authentication: PassiveAuthenticationResult | None
    chip_authentication: ChipAuthenticationResult


@dataclass(frozen=True)
class PassiveAuthenticationPolicy:
    """Trust anchors for EF.CardSecurity (CSCA certificates), the time to check validity at, a blocklist."""

    cscas: tuple[x509.Certificate, ...]
    now: Callable[[], datetime.datetime]
    blocklist: Blocklist | None = None


class Channel(Protocol):
    def transmit(self, command: bytes) -> bytes: ...


class CardSession:
    """A terminal talking to one card over a channel, with the secure-messaging state between commands."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.sm: TerminalChannel | None = None
        self._transport_pin = False

    def transmit(self, command: CommandApdu) -> ResponseApdu:
        """One command, protected if a secure-messaging session is on."""
        if self.sm is None:
            return ResponseApdu.parse(self.channel.transmit(command.encode()))
        protected = self.sm.protect(command)
        return self.sm.unprotect(ResponseApdu.parse(self.channel.transmit(protected.encode())))

    def run(self, *functions: CardFunction[Any]) -> list[Any]:
        """Run card functions, as one batch when secure messaging is on; returns their results."""
        commands = [c for f in functions for c in f.request()]
        if self.sm is None:
            responses = [ResponseApdu.parse(self.channel.transmit(c.encode())) for c in commands]
            return split_and_evaluate(functions, responses)
        protected = self.sm.protect_batch(commands)
        answers = [ResponseApdu.parse(self.channel.transmit(c.encode())) for c in protected]
        return split_and_evaluate(functions, self.sm.unprotect_batch(answers))

    def read_card_access(self) -> SecurityInfos:
        return parse_security_infos(self.run(ReadFile(EF_CARD_ACCESS))[0])

    def pace(self, password: Password, rng: Rng, chat: Chat | None = None,
             parameters: PaceParameters | None = None) -> PaceResult:
        """PACE with the card; afterwards every command is protected with the new keys. A second PACE
        (the PIN after the CAN) runs inside the first one's secure messaging."""
        if parameters is None:
            parameters = choose_pace_parameters(self.read_card_access())
        step: Any = pace.start(parameters, password, rng, chat.encode() if chat is not None else None)
        while not isinstance(step, PaceResult):
            step = step.receive(self.transmit(step.command))
        self.sm = TerminalChannel(step.keys)
        self._transport_pin = password.transport_pin
        return step

    def eac(self, terminal: AuthenticationTerminal, pace_result: PaceResult, rng: Rng,
            aux_data: AuxiliaryData | None = None,
            passive: PassiveAuthenticationPolicy | None = None) -> EacResult:
        """Terminal Authentication, EF.CardSecurity (with passive authentication when ``passive`` is given),
        Chip Authentication; afterwards secure messaging runs with the CA keys."""
        chain = terminal.chain_for(pace_result.cars)
        try:
            raw_security = self.run(ReadFile(EF_CARD_SECURITY))[0]
            card_security = CardSecurity.parse(raw_security)
            verified = None
            if passive is not None:
                verified = passive_authentication(card_security, passive.cscas, passive.now(), passive.blocklist)
            infos = card_security.security_infos
            ca_info = infos.chip_authentication_info()
            ca_key = infos.chip_authentication_public_key(ca_info.key_id)
            curve = ca_key.public_key.curve
            ephemeral = key_agreement.generate(curve, rng)
            challenge = self.run(TerminalAuthentication(chain, ephemeral.public_bytes, aux_data))[0]
            signature = ta.sign_challenge(terminal.signer, pace_result.id_picc, challenge, ephemeral.public_bytes,
                                          aux_data)
            self.run(ExternalAuthenticate(signature))
        except SecurityStatusNotSatisfied as refused:
            if self._transport_pin:
                raise TransportPinActive(refused.sw, "change the transport PIN first") from None
            raise
        chip_authentication = ChipAuthentication(ca_info.protocol, curve, ca_key.public_key.point,
                                                 ephemeral, ca_info.key_id)
        result = self.run(chip_authentication)[0]
        self.sm = TerminalChannel(result.keys)
        return EacResult(pace_result, raw_security, infos, verified, result)


def choose_pace_parameters(infos: SecurityInfos) -> PaceParameters:
    """The first PACEInfo of EF.CardAccess that this implementation supports (ECDH-GM-AES, standardized)."""
    for info in infos.of_type(PaceInfo):
        if info.parameter_id is None:
            continue
        try:
            by_standardized_id(info.parameter_id)
            return PaceParameters(info.protocol, info.parameter_id)
        except (UnsupportedProtocol, EidError):
            continue
    raise UnsupportedProtocol("EF.CardAccess offers no supported PACE protocol")
