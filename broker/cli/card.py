"""``eid-broker card …``: card readers and ID cards, for admins and developers (in the spirit of npa-tool).

- ``card readers`` lists the PC/SC readers and whether a card lies on them.
- ``card serve --profile card.json`` puts the virtual ID card into a vsmartcard vpcd reader slot, so pcscd
  (and AusweisApp, and ``card read``) see it like a card on a USB reader.
- ``card read --terminal DIR`` reads a card as an eID terminal does: PACE, Terminal Authentication with
  the certificates and key in DIR (as ``pki create-test`` writes them), passive authentication of
  EF.CardSecurity against DIR's CSCA, Chip Authentication, every data group the terminal's CHAT allows,
  Restricted Identification with DIR's first sector key, age, validity (and community ID) verification.
- ``card change-pin`` replaces the (transport) PIN, ``card unblock`` unblocks a blocked PIN with the PUK.

PINs, CANs and PUKs come from standard input (one per line) or a hidden prompt, never from the command
line; ``--trace`` writes every APDU to standard error with the password-carrying data masked
(:mod:`cardreader.trace`). A reader with PACE in the reader (PC/SC part 10 FEATURE_EXECUTE_PACE) runs
PACE itself and asks for the PIN on its own key pad.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # the commands import these lazily, so that `eid-broker --help` stays fast
    from cryptography import x509

    from cardreader.pcsc import Pcsc, PcscCard
    from cardreader.trace import TracedChannel
    from eid.chat import Chat
    from eid.domain_parameters import Curve
    from eid.pace import PaceResult, Password, PasswordType
    from eid.passive_authentication import PassiveAuthenticationResult
    from eid.restricted_identification import RestrictedIdentification
    from eid.security_infos import SecurityInfos
    from eid.terminal import AuthenticationTerminal, CardFunction, CardSession, ChangePin

NEW_PIN_HINT = "the new PIN has six digits"
PIN_SUSPENDED = ("The PIN is suspended after two wrong attempts: enter the card access number (CAN, six digits "
                 "on the front of the card) before the PIN (--can-stdin --pin-stdin).")
PIN_BLOCKED = ("The PIN is blocked after three wrong attempts. Unblock it with the PUK from your PIN letter: "
               "eid-broker card unblock --puk-stdin.")
EID_DEACTIVATED = ("The online ID function of this card is switched off. The citizens' office (Bürgeramt) can "
                   "switch it on.")
TRANSPORT_PIN = ("The card still has its five-digit transport PIN. Replace it with your own six-digit PIN first: "
                 "eid-broker card change-pin --pin-stdin.")


class PaceMode(enum.StrEnum):
    AUTO = "auto"
    READER = "reader"
    SOFTWARE = "software"


# ---------------------------------------------------------------- the terminal's files


@dataclass(frozen=True)
class TerminalFiles:
    """What ``card read`` needs from a ``pki create-test`` directory."""

    terminal: AuthenticationTerminal
    cscas: tuple[x509.Certificate, ...]
    certificate_description: bytes
    sector_keys: tuple[tuple[bytes, Curve], ...]
    """(uncompressed point, eid Curve) of sector-1.key and sector-2.key, when present."""


def load_terminal(directory: Path) -> TerminalFiles:
    from cryptography.hazmat.primitives import serialization

    from eid.cvc import CvCertificate
    from eid.domain_parameters import by_name
    from eid.passive_authentication import load_csca_list
    from eid.pki import public_point
    from eid.signature import PrivateKeySigner
    from eid.terminal import AuthenticationTerminal

    def read(name: str) -> bytes:
        try:
            return (directory / name).read_bytes()
        except OSError as error:
            raise click.ClickException(f"{directory}: cannot read {name} ({error.strerror}); "
                                       "'eid-broker pki create-test --out DIR' writes these files") from None

    try:
        chain = tuple(CvCertificate.parse(read(name)) for name in ("cvca.cvcert", "dv.cvcert", "terminal.cvcert"))
        key = serialization.load_pem_private_key(read("terminal.key"), password=None)
        cscas = load_csca_list(read("csca.pem"))
        sectors = []
        for name in ("sector-1.key", "sector-2.key"):
            if (directory / name).exists():
                sector = serialization.load_pem_private_key(read(name), password=None)
                sectors.append((public_point(sector), by_name(sector.curve.name)))  # type: ignore[union-attr]
    except ValueError as error:
        raise click.ClickException(f"{directory}: {error}") from None
    terminal = chain[-1]
    signer = PrivateKeySigner(key, terminal.public_key.algorithm)  # type: ignore[arg-type]
    description = read("description.der") if (directory / "description.der").exists() else b""
    return TerminalFiles(AuthenticationTerminal(chain, terminal, signer), cscas, description, tuple(sectors))


# ---------------------------------------------------------------- messages a citizen understands


def citizen_message(error: Exception, password: str | None = None) -> str:
    """The card's refusal in plain words; reader errors already speak plainly. ``password`` names the
    password of the PACE that failed (PIN, CAN, PUK), if the error came from PACE."""
    from cardreader.errors import ReaderError
    from eid.errors import EidError, VerificationFailed
    from eid.pace import InvalidPassword
    from eid.status import (
        AuthenticationFailed,
        PinBlocked,
        PinDeactivated,
        PinSuspended,
        TransportPinActive,
        WrongPin,
    )

    names = {"PIN": "PIN", "CAN": "card access number (CAN)", "PUK": "PUK"}
    if isinstance(error, ReaderError):
        return str(error)
    if isinstance(error, (WrongPin, AuthenticationFailed)) and password is not None:
        if password != "PIN" or not isinstance(error, WrongPin):
            return f"The {names.get(password, password)} is wrong."
        if error.tries_left >= 2:
            return f"The PIN is wrong. {error.tries_left} attempts left."
        return "The PIN is wrong. " + (PIN_SUSPENDED if error.tries_left == 1 else PIN_BLOCKED)
    for state, message in ((PinSuspended, PIN_SUSPENDED), (PinBlocked, PIN_BLOCKED),
                           (PinDeactivated, EID_DEACTIVATED), (TransportPinActive, TRANSPORT_PIN)):
        if isinstance(error, state):
            return message
    if isinstance(error, InvalidPassword):
        return f"That is not a valid {names.get(password or 'PIN')}: {error}."
    if isinstance(error, VerificationFailed):
        return f"The card could not be verified: {error}."
    if isinstance(error, EidError):
        return f"The card answered unexpectedly: {error}."
    raise error


# ---------------------------------------------------------------- reading passwords


def read_passwords(kinds: Sequence[str], from_stdin: bool) -> list[str]:
    """One password per line from standard input, or hidden prompts on a terminal."""
    if from_stdin:
        values = []
        for kind in kinds:
            line = sys.stdin.readline()
            if not line:
                raise click.UsageError(f"standard input ended before the {kind}")
            values.append(line.strip())
        return values
    if not sys.stdin.isatty():
        raise click.UsageError("no terminal to ask for the password on: pass it on standard input (…-stdin)")
    return [click.prompt(kind, hide_input=True) for kind in kinds]


def _password(kind: str, value: str) -> Password:
    from eid.pace import InvalidPassword, Password, PasswordType

    try:
        return Password(PasswordType[kind], value)
    except InvalidPassword as error:
        raise click.ClickException(citizen_message(error, kind)) from None


# ---------------------------------------------------------------- a card session over PC/SC


@dataclass(frozen=True)
class PinPadPassword:
    """A password the citizen types on the reader's PIN pad: only its kind is known here."""

    kind: str
    value: str = ""

    @property
    def type(self) -> PasswordType:
        from eid.pace import PasswordType

        return PasswordType[self.kind]


@dataclass(frozen=True)
class ReaderPace:
    """What PACE run by the reader leaves the terminal with (EstablishPACEChannel output)."""

    cars: tuple[str, ...]
    id_picc: bytes


@dataclass
class Connection:
    """An open PC/SC connection with its trace counter."""

    pcsc: Pcsc
    card: PcscCard
    channel: TracedChannel

    def close(self) -> None:
        self.card.close()
        self.pcsc.close()


def connect(reader: str | None, wait: float, timeout: float, trace: bool) -> Connection:
    from cardreader.pcsc import Pcsc
    from cardreader.trace import TracedChannel

    pcsc = Pcsc(timeout=timeout)
    try:
        name = pcsc.wait_for_card(reader, wait) if wait > 0 else reader
        card = pcsc.connect(name)
    except BaseException:
        pcsc.close()
        raise
    write = (lambda line: click.echo(line, err=True)) if trace else None
    if write is not None:
        write(f"# reader {card.reader!r}, ATR {card.atr.hex().upper()}, protocol {card.protocol.name}")
    return Connection(pcsc, card, TracedChannel(card, write))


def use_reader_pace(card: PcscCard, mode: PaceMode) -> bool:
    """Whether PACE runs in the reader: when it can (auto) or when told to (an error if it cannot)."""
    if mode == PaceMode.SOFTWARE:
        return False
    available = card.supports_reader_pace()
    if mode == PaceMode.READER and not available:
        from cardreader.errors import FeatureNotSupported

        raise FeatureNotSupported(card.reader, "PACE in the reader")
    return available


def pace(session: CardSession, connection: Connection, passwords: Sequence[Password | PinPadPassword],
         chat: Chat | None, in_reader: bool, description: bytes = b"") -> PaceResult | ReaderPace:
    """PACE with each password in turn (the CAN before a suspended PIN); the last result counts."""
    from cardreader import part10
    from cardreader.trace import describe_control

    result = None
    for password in passwords:
        with plain_errors(password.type.name):
            if in_reader:
                request = part10.EstablishPaceChannelInput(
                    part10.PasswordId(int(password.type)), chat.encode() if chat is not None else b"",
                    password.value.encode("ascii") if password.type.name == "CAN" else b"", description)
                if connection.channel.write is not None:
                    code = connection.card.features()[part10.Feature.EXECUTE_PACE]
                    connection.channel.write(f"> {describe_control(code, request.command())}")
                output = connection.card.establish_pace_channel(request)
                cars = tuple(car for car in (output.car_current, output.car_previous) if car)
                result = ReaderPace(cars, output.id_icc)
            else:
                result = session.pace(password, os.urandom, chat=chat)  # type: ignore[arg-type]
    return result


@contextmanager
def plain_errors(password: str | None = None) -> Iterator[None]:
    """Turn reader and card errors into a click error with the citizen's message (exit status 1)."""
    from cardreader.errors import ReaderError
    from eid.errors import EidError

    try:
        yield
    except (ReaderError, EidError) as error:
        raise click.ClickException(citizen_message(error, password)) from None


# ---------------------------------------------------------------- card read


def read_card(connection: Connection, files: TerminalFiles, passwords: Sequence[Password | PinPadPassword], *,
              in_reader: bool, age: int, community_id: str | None, today: datetime.date,
              now: datetime.datetime) -> dict[str, Any]:
    """The terminal side end to end, in one PC/SC transaction; returns what ``card read --json`` prints
    (``elapsed_ms``: from PACE to the last answer)."""
    from eid import auxiliary_data, data_groups
    from eid.chat import AccessRight
    from eid.terminal import (
        CardSession,
        PassiveAuthenticationPolicy,
        ReadDataGroups,
        verify_age,
        verify_community_id,
        verify_validity,
    )

    started = time.perf_counter()
    terminal = files.terminal
    chat = terminal.terminal.chat
    age_check = AccessRight.AGE_VERIFICATION in chat
    community = (data_groups.community_id_from_digits(community_id)
                 if community_id and AccessRight.COMMUNITY_ID_VERIFICATION in chat else None)
    aux = auxiliary_data.build(
        required_date_of_birth=auxiliary_data.required_birth_date_for_age(age, today) if age_check else None,
        validity_date=today, community_id=community)
    session = CardSession(connection.channel)
    with connection.card.transaction():
        pace_result = pace(session, connection, passwords, chat, in_reader, files.certificate_description)
        eac = session.eac(terminal, pace_result, os.urandom, aux, PassiveAuthenticationPolicy(files.cscas, lambda: now))
        numbers = tuple(n for n in data_groups.NUMBERS if chat.allows_read(n))
        functions: dict[str, Any] = {}
        if numbers:
            functions["read"] = ReadDataGroups(numbers)
        if age_check:
            functions["age"] = verify_age()
        functions["validity"] = verify_validity()
        if community is not None:
            functions["community_id"] = verify_community_id()
        ri = _restricted_identification(eac.security_infos, files, chat)
        if ri is not None:
            functions["pseudonym"] = ri
        results = dict(zip(functions, session.run(*functions.values()), strict=True))
    output: dict[str, Any] = {
        "reader": connection.card.reader,
        "atr": connection.card.atr.hex().upper(),
        "pace": {"passwords": [p.type.name for p in passwords], "in_reader": in_reader,
                 "cars": list(pace_result.cars)},
        "terminal": terminal.terminal.chr,
        "rights": chat.describe(),
        "passive_authentication": _passive(eac.passive_authentication),
        "data_groups": {},
        "refused_data_groups": {},
        "verification": {check: results[check] for check in ("age", "validity", "community_id") if check in results},
        "required_age": age if age_check else None,
        "pseudonym": results["pseudonym"].first.hex() if "pseudonym" in results else None,
        "apdus": connection.channel.exchanges,
    }
    if "read" in results:
        read = results["read"]
        for number in sorted(read.contents):
            output["data_groups"][f"DG{number}"] = {"name": data_groups.CODECS[number].name,
                                                    "value": _json(read.value(number), number)}
        for number, refusal in sorted(read.refused.items()):
            output["refused_data_groups"][f"DG{number}"] = str(refusal)
    output["elapsed_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return output


def _restricted_identification(infos: SecurityInfos, files: TerminalFiles,
                               chat: Chat) -> RestrictedIdentification | None:
    from eid.chat import AccessRight
    from eid.restricted_identification import RestrictedIdentification, SectorPublicKey

    candidates = infos.restricted_identification_infos()
    if not files.sector_keys or not candidates:
        return None
    usable = [info for info in candidates if not info.authorized_only or AccessRight.RESTRICTED_IDENTIFICATION in chat]
    if not usable:
        return None
    info = usable[0]
    point, curve = files.sector_keys[0]
    return RestrictedIdentification(info.protocol, info.key_id, SectorPublicKey(info.protocol, curve, point))


def _passive(result: PassiveAuthenticationResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {"verified": True, "document_signer": result.document_signer.subject.rfc4514_string(),
            "csca": result.csca.subject.rfc4514_string()}


def _json(value: Any, number: int = 0) -> Any:
    """Data group values as JSON: dates ISO, partial dates YYYYMMDD with blanks, places as objects."""
    from eid.data_groups import PartialDate, community_id_digits

    if number == 18 and isinstance(value, bytes):
        return community_id_digits(value)
    if isinstance(value, PartialDate):
        return value.encode()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, tuple):
        return [_json(item) for item in value]
    if dataclasses.is_dataclass(value):
        return {"type": type(value).__name__} | {field.name: _json(getattr(value, field.name))
                                                 for field in dataclasses.fields(value)}
    return value


def _print_reading(result: dict[str, Any]) -> None:
    click.echo(f"Reader:      {result['reader']} (ATR {result['atr']})")
    how = "in the reader" if result["pace"]["in_reader"] else "in software"
    click.echo(f"PACE:        {' then '.join(result['pace']['passwords'])}, {how}; trust points "
               f"{', '.join(result['pace']['cars'])}")
    click.echo(f"Terminal:    {result['terminal']}")
    passive = result["passive_authentication"]
    click.echo(f"EF.CardSecurity: signed by {passive['document_signer']} under {passive['csca']}")
    for name, entry in result["data_groups"].items():
        click.echo(f"{name:5} {entry['name']:20} {_flat(entry['value'])}")
    for name, refusal in result["refused_data_groups"].items():
        click.echo(f"{name:5} not read: {refusal}")
    for check, outcome in result["verification"].items():
        click.echo(f"Verify {check}: {'yes' if outcome else 'no'}")
    if result["pseudonym"]:
        click.echo(f"Pseudonym (sector 1): {result['pseudonym']}")
    click.echo(f"{result['apdus']} APDUs in {result['elapsed_ms']} ms")


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={_flat(v)}" for k, v in value.items() if k != "type" and v is not None)
    if isinstance(value, list):
        return "; ".join(_flat(v) for v in value)
    return str(value)


# ---------------------------------------------------------------- the commands


@click.group("card")
def card() -> None:
    """Card readers and ID cards: serve the virtual card to pcscd, read a card like an eID terminal."""


_reader_option = click.option("--reader", default=None,
                              help="Reader name, or a part of it that only one reader has (default: the "
                                   "first reader with a card).")
_trace_option = click.option("--trace", is_flag=True,
                             help="Write every APDU to standard error (PIN, CAN and PUK masked).")
_wait_option = click.option("--wait", default=0.0, show_default=True, type=float,
                            help="Seconds to wait for a card to be put on the reader.")
_timeout_option = click.option("--timeout", default=10.0, show_default=True, type=float,
                               help="Seconds one command may take before the card counts as unresponsive.")


@card.command("readers")
def readers() -> None:
    """List the card readers and what lies on them."""
    from cardreader.pcsc import Pcsc

    with plain_errors(), Pcsc() as pcsc:
        states = pcsc.reader_states()
    if not states:
        click.echo("no card reader")
    for state in states:
        card_text = f"card, ATR {state.atr.hex().upper()}" if state.card_present else "no card"
        click.echo(f"{state.name}: {card_text}{', in use' if state.in_use else ''}")


@card.command("serve")
@click.option("--profile", "profile_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The card profile (card.json, as 'pki create-test' writes it).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Where vpcd (in pcscd) listens.")
@click.option("--port", default=35963, show_default=True, type=int,
              help="vpcd's port: 35963 is the first slot of Debian's default reader, 35964 the second.")
@click.option("--remove-after", default=None, type=click.IntRange(min=1),
              help="Take the card out, once, when this many commands have been answered (it stays out until "
                   "SIGUSR2).")
@_trace_option
def serve(profile_path: Path, host: str, port: int, remove_after: int | None, trace: bool) -> None:
    """Put the virtual ID card into a vpcd reader slot until Ctrl-C or SIGTERM.

    SIGUSR1 takes the card out of the reader, SIGUSR2 puts it back.
    """
    from cardreader.trace import describe_command, describe_response
    from cardreader.virtual import VirtualCard
    from cardreader.virtual.vpcd import VpcdSlot
    from eid.errors import EidError

    try:
        virtual = VirtualCard.from_profile(profile_path)
    except (EidError, OSError, ValueError) as error:
        raise click.ClickException(f"{profile_path}: {error}") from None
    answered = 0

    def remove_when(command: bytes) -> bool:
        nonlocal answered, remove_after
        if remove_after is None:
            return False
        if answered < remove_after:
            answered += 1
            return False
        click.echo(f"card taken out after {remove_after} commands (SIGUSR2 puts it back)")
        remove_after = None
        return True

    def on_exchange(command: bytes, response: bytes) -> None:
        click.echo(f"> {describe_command(command)}", err=True)
        click.echo(f"< {describe_response(response)}", err=True)

    slot = VpcdSlot(virtual, host, port, remove_when=remove_when, on_exchange=on_exchange if trace else None)
    stop = threading.Event()

    def take_out(*_: object) -> None:
        slot.remove()
        click.echo("card taken out")

    def put_back(*_: object) -> None:
        slot.insert()
        click.echo("card put back")

    signal.signal(signal.SIGUSR1, take_out)
    signal.signal(signal.SIGUSR2, put_back)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    person = virtual.profile.person
    slot.start()
    click.echo(f"serving the card of {person.given_names} {person.family_names} to vpcd at {host}:{port} "
               f"(pid {os.getpid()}; SIGUSR1 takes it out, SIGUSR2 puts it back, Ctrl-C stops)")
    while not stop.wait(0.2):
        pass
    slot.stop()
    click.echo("stopped")


@card.command("read")
@_reader_option
@click.option("--pin-stdin", is_flag=True, help="Read the PIN from standard input.")
@click.option("--can-stdin", is_flag=True,
              help="Read the CAN from standard input (with --pin-stdin: the CAN on the first line, the PIN on "
                   "the second — what a suspended PIN needs).")
@click.option("--terminal", "terminal_dir", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Directory with cvca/dv/terminal.cvcert, terminal.key, csca.pem (from 'pki create-test').")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--age", default=18, show_default=True, type=click.IntRange(0, 150),
              help="Age to verify (needs the age verification right).")
@click.option("--community-id", default=None, help="Community ID prefix to verify, as digits (e.g. 02760503).")
@click.option("--pace", "pace_mode", type=click.Choice([m.value for m in PaceMode]), default="auto",
              show_default=True, help="Where PACE runs: in the reader when it can (auto), or forced.")
@_wait_option
@_timeout_option
@_trace_option
def read(reader: str | None, pin_stdin: bool, can_stdin: bool, terminal_dir: Path, as_json: bool, age: int,
         community_id: str | None, pace_mode: str, wait: float, timeout: float, trace: bool) -> None:
    """Read the card as an eID terminal: PACE, TA, passive authentication, CA, data groups, RI, VERIFY."""
    files = load_terminal(terminal_dir)
    kinds = (["CAN"] if can_stdin else []) + (["PIN"] if pin_stdin or not can_stdin else [])
    mode = PaceMode(pace_mode)
    now = datetime.datetime.now(datetime.UTC)
    with plain_errors():
        connection = connect(reader, wait, timeout, trace)
        try:
            in_reader = use_reader_pace(connection.card, mode)
            typed = [kind for kind in kinds if not (in_reader and kind == "PIN")]
            values = dict(zip(typed, read_passwords(typed, pin_stdin or can_stdin), strict=True))
            passwords = [_password(kind, values[kind]) if kind in values else PinPadPassword(kind)
                         for kind in kinds]
            result = read_card(connection, files, passwords, in_reader=in_reader, age=age,
                               community_id=community_id, today=now.date(), now=now)
        finally:
            connection.close()
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        _print_reading(result)


def _manage_pin(reader: str | None, wait: float, timeout: float, trace: bool, kind: str, from_stdin: bool,
                function: Callable[[list[str]], CardFunction[None]], extra: Sequence[str]) -> None:
    """PACE with ``kind`` (unauthenticated terminal, no CHAT), then ``function(values)``'s card function."""
    from eid.terminal import CardSession

    values = read_passwords([kind, *extra], from_stdin)
    password = _password(kind, values[0])
    card_function = function(values[1:])
    with plain_errors():
        connection = connect(reader, wait, timeout, trace)
        try:
            session = CardSession(connection.channel)
            with connection.card.transaction():
                pace(session, connection, [password], None, in_reader=False)
                session.run(card_function)
        finally:
            connection.close()


@card.command("change-pin")
@_reader_option
@click.option("--pin-stdin", is_flag=True,
              help="Read the current PIN (or the five-digit transport PIN) and then the new PIN from standard "
                   "input, one per line.")
@_wait_option
@_timeout_option
@_trace_option
def change_pin(reader: str | None, pin_stdin: bool, wait: float, timeout: float, trace: bool) -> None:
    """Replace the transport PIN (or the current PIN) with a new six-digit PIN."""
    from eid.errors import EidError
    from eid.terminal import ChangePin

    def change(values: list[str]) -> ChangePin:
        try:
            return ChangePin(values[0])
        except EidError as error:
            raise click.ClickException(f"The new PIN is not valid: {NEW_PIN_HINT} ({error}).") from None

    _manage_pin(reader, wait, timeout, trace, "PIN", pin_stdin, change, ["new PIN"])
    click.echo("The PIN was changed.")


@card.command("unblock")
@_reader_option
@click.option("--puk-stdin", is_flag=True, help="Read the PUK (ten digits, from the PIN letter) from standard input.")
@_wait_option
@_timeout_option
@_trace_option
def unblock(reader: str | None, puk_stdin: bool, wait: float, timeout: float, trace: bool) -> None:
    """Unblock a PIN blocked after three wrong attempts, with the PUK; the PIN stays the same."""
    from eid.terminal import UnblockPin

    _manage_pin(reader, wait, timeout, trace, "PUK", puk_stdin, lambda _values: UnblockPin(), [])
    click.echo("The PIN is unblocked: it has three attempts again.")
