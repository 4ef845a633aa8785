"""PC/SC through pyscard — the only module of the project that imports pyscard.

:class:`Pcsc` is one PC/SC context: it lists readers, reports and waits for card insertion and removal,
and connects. :class:`PcscCard` is a connected card: ``transmit(bytes) -> bytes`` (the
:class:`cardreader.channel.CardChannel` every terminal routine uses, extended length included), the ATR,
transactions, and the reader's PC/SC part 10 features through SCardControl (PACE in the reader, PIN pad).

Every pyscard call runs on a worker thread and is bounded by a timeout, so a card or reader that stops
answering gives :class:`~cardreader.errors.CardUnresponsive` instead of a hang. Failures are the named,
citizen-readable errors of :mod:`cardreader.errors`.

pcsc-lite's client library reads the environment variable ``PCSCLITE_CSOCK_NAME`` (the pcscd socket
path) once, at the first context of a process; set it before the first :class:`Pcsc` to reach a pcscd
other than the system one.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum, IntEnum, IntFlag
from typing import Any

from smartcard import scard

from cardreader import part10
from cardreader.errors import (
    CardCommunicationError,
    CardRemoved,
    CardUnresponsive,
    FeatureNotSupported,
    NoCard,
    NoReader,
    PcscdNotRunning,
    PcscError,
    ReaderBusy,
    ReaderError,
    ReaderNotFound,
    ReaderUnplugged,
)

DEFAULT_TIMEOUT = 10.0
"""Seconds one command may take. A real ID card answers every command within about 2 s."""

PIN_PAD_TIMEOUT = 120.0
"""Seconds a PIN pad operation may take: the citizen reads the reader's display and types."""

_PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
_CM_IOCTL_GET_FEATURE_REQUEST = scard.SCARD_CTL_CODE(3400)
_REMOVAL_SETTLE = 1.0
"""How long to wait for pcscd to notice a removal after a failed command (it polls some readers at 0.4 s)."""


def _code(hresult: int) -> int:
    return hresult & 0xFFFFFFFF


_OK = _code(scard.SCARD_S_SUCCESS)
_E_TIMEOUT = _code(scard.SCARD_E_TIMEOUT)
_E_CANCELLED = _code(scard.SCARD_E_CANCELLED)
_E_NO_READERS = _code(scard.SCARD_E_NO_READERS_AVAILABLE)
_E_UNKNOWN_READER = _code(scard.SCARD_E_UNKNOWN_READER)
_E_RESET = _code(scard.SCARD_W_RESET_CARD)
_E_UNSUPPORTED = {_code(scard.SCARD_E_UNSUPPORTED_FEATURE), _code(scard.SCARD_E_INVALID_PARAMETER)}
_SERVICE_GONE = {_code(scard.SCARD_E_NO_SERVICE), _code(scard.SCARD_E_SERVICE_STOPPED),
                 _code(scard.SCARD_E_INVALID_HANDLE)}
_NO_CARD = {_code(scard.SCARD_E_NO_SMARTCARD), _code(scard.SCARD_W_REMOVED_CARD)}
_COMMUNICATION = {
    _code(scard.SCARD_E_NOT_TRANSACTED): "the command could not be completed",
    _code(scard.SCARD_W_UNRESPONSIVE_CARD): "the card does not respond to a reset",
    _code(scard.SCARD_W_UNPOWERED_CARD): "the card is not powered",
    _code(scard.SCARD_E_COMM_DATA_LOST): "data were lost on the way",
    _code(scard.SCARD_E_PROTO_MISMATCH): "the card does not speak the requested protocol",
    _code(scard.SCARD_W_RESET_CARD): "another program reset the card",
    _code(scard.SCARD_E_NOT_READY): "the reader is not ready",
}


class ShareMode(IntEnum):
    SHARED = scard.SCARD_SHARE_SHARED
    EXCLUSIVE = scard.SCARD_SHARE_EXCLUSIVE
    DIRECT = scard.SCARD_SHARE_DIRECT
    """Talk to the reader only (control commands), with or without a card."""


class Protocol(IntFlag):
    UNDEFINED = 0
    T0 = scard.SCARD_PROTOCOL_T0
    T1 = scard.SCARD_PROTOCOL_T1
    RAW = scard.SCARD_PROTOCOL_RAW


class Disposition(IntEnum):
    """What happens to the card when a connection or transaction ends."""

    LEAVE = scard.SCARD_LEAVE_CARD
    RESET = scard.SCARD_RESET_CARD
    UNPOWER = scard.SCARD_UNPOWER_CARD
    EJECT = scard.SCARD_EJECT_CARD


_PCI = {Protocol.T0: scard.SCARD_PCI_T0, Protocol.T1: scard.SCARD_PCI_T1, Protocol.RAW: scard.SCARD_PCI_RAW}


@dataclass(frozen=True, slots=True)
class ReaderState:
    name: str
    card_present: bool
    in_use: bool
    exclusive: bool
    mute: bool
    """A card is there but did not answer the reset (upside down, broken)."""
    atr: bytes
    event_count: int
    """pcsc-lite counts insertions and removals per reader in the high word of the event state."""

    @classmethod
    def _from_pcsc(cls, name: str, state: int, atr: list[int] | bytes) -> ReaderState:
        return cls(
            name=name,
            card_present=bool(state & scard.SCARD_STATE_PRESENT),
            in_use=bool(state & scard.SCARD_STATE_INUSE),
            exclusive=bool(state & scard.SCARD_STATE_EXCLUSIVE),
            mute=bool(state & scard.SCARD_STATE_MUTE),
            atr=bytes(atr) if state & scard.SCARD_STATE_PRESENT else b"",
            event_count=(state >> 16) & 0xFFFF,
        )


class EventKind(Enum):
    READER_ADDED = "reader added"
    READER_REMOVED = "reader removed"
    CARD_INSERTED = "card inserted"
    CARD_REMOVED = "card removed"


@dataclass(frozen=True, slots=True)
class ReaderEvent:
    kind: EventKind
    reader: str
    atr: bytes = b""


class _WorkerStuck(Exception):
    pass


class _Worker:
    """One daemon thread that runs pyscard calls, so the caller can give up after a timeout.

    A call that times out leaves its thread blocked inside pcsc-lite; the worker is then marked stuck and
    the owner starts a fresh one. Daemon threads never keep the process alive.
    """

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...], _Call] | None] = (
            queue.SimpleQueue()
        )
        self.stuck = False
        self._thread = threading.Thread(target=self._run, name="pcsc-worker", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (request := self._requests.get()) is not None:
            function, args, call = request
            try:
                call.result = function(*args)
            except BaseException as error:  # handed to the caller's thread
                call.error = error
            call.done.set()

    def call(self, timeout: float, function: Callable[..., Any], *args: Any) -> Any:
        if self.stuck:
            raise _WorkerStuck()
        call = _Call()
        self._requests.put((function, args, call))
        if not call.done.wait(timeout):
            self.stuck = True
            raise _WorkerStuck()
        if call.error is not None:
            raise call.error
        return call.result

    def stop(self) -> None:
        self._requests.put(None)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def after_stuck_call(self, cleanup: Callable[[], Any]) -> None:
        """Run ``cleanup`` on the stuck thread once its call returns, if it ever does."""
        self._requests.put((cleanup, (), _Call()))
        self._requests.put(None)


class _Call:
    __slots__ = ("done", "result", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


class Pcsc:
    """A PC/SC context. Use as a context manager, or call :meth:`close`.

    ``timeout`` bounds every single operation (one APDU, one connect) in seconds.
    """

    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self._worker = _Worker()
        self._abandoned: list[_Worker] = []
        self._context: int | None = None
        self._known: dict[str, ReaderState] | None = None
        self._establish()

    # -- context ---------------------------------------------------------------------------------

    def _establish(self) -> None:
        hresult, context = self._call(scard.SCardEstablishContext, scard.SCARD_SCOPE_USER)
        if _code(hresult) != _OK:
            raise _context_error(_code(hresult), "establishing a connection to pcscd")
        self._context = context

    def _call(self, function: Callable[..., Any], *args: Any, timeout: float | None = None,
              reader: str = "") -> Any:
        seconds = self.timeout if timeout is None else timeout
        if self._worker.stuck:
            self._abandoned.append(self._worker)
            self._worker = _Worker()
        try:
            return self._worker.call(seconds, function, *args)
        except _WorkerStuck:
            # The stuck call holds this context; release it (ending its connections and transactions)
            # as soon as the call comes back, and carry on with a new context and worker.
            context, self._context = self._context, None
            if context is not None:
                self._worker.after_stuck_call(lambda: scard.SCardReleaseContext(context))
            else:
                self._worker.stop()
            raise CardUnresponsive(reader or "(all readers)", seconds) from None

    def _context_call(self, function: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        """Call ``function(context, *args)``; after a pcscd restart, re-establish once and retry."""
        for attempt in (1, 2):
            if self._context is None:
                self._establish()
            result = self._call(function, self._context, *args, timeout=timeout)
            hresult = _code(result[0] if isinstance(result, (tuple, list)) else result)
            if hresult in _SERVICE_GONE and attempt == 1:
                self._drop_context()
                continue
            return result
        raise AssertionError("unreachable")

    def _drop_context(self) -> None:
        context, self._context = self._context, None
        if context is not None:
            try:
                self._call(scard.SCardReleaseContext, context, timeout=1.0)
            except ReaderError:
                pass

    def close(self) -> None:
        """Release the context. Calls abandoned after a timeout get a moment to return and clean up
        (pcscd resets a card whose transaction dies with its context)."""
        self._drop_context()
        self._worker.stop()
        deadline = time.monotonic() + 2.0
        for worker in self._abandoned:
            worker.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Pcsc:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def cancel(self) -> None:
        """Interrupt a :meth:`wait_for_events` or :meth:`wait_for_card` running in another thread."""
        if self._context is not None:
            scard.SCardCancel(self._context)

    # -- readers ---------------------------------------------------------------------------------

    def readers(self) -> list[str]:
        """The names of the connected readers (an empty list when there are none)."""
        hresult, names = self._context_call(scard.SCardListReaders, [])
        hresult = _code(hresult)
        if hresult == _E_NO_READERS:
            return []
        if hresult != _OK:
            raise _context_error(hresult, "listing card readers")
        return list(names)

    def reader_states(self, names: list[str] | None = None) -> list[ReaderState]:
        names = self.readers() if names is None else names
        if not names:
            return []
        query = [(name, scard.SCARD_STATE_UNAWARE) for name in names]
        hresult, states = self._context_call(scard.SCardGetStatusChange, 0, query)
        hresult = _code(hresult)
        if hresult == _E_UNKNOWN_READER:  # one went away meanwhile
            still_there = [name for name in names if name in self.readers()]
            if still_there != names:
                return self.reader_states(still_there)
        if hresult != _OK:
            raise _context_error(hresult, "reading the reader states")
        return [ReaderState._from_pcsc(name, state, atr) for name, state, atr in states]

    def find_reader(self, name: str) -> str:
        """The reader called ``name``: an exact name, or else a case-insensitive part of exactly one name."""
        readers = self.readers()
        if not readers:
            raise NoReader()
        if name in readers:
            return name
        matches = [reader for reader in readers if name.lower() in reader.lower()]
        if len(matches) == 1:
            return matches[0]
        raise ReaderNotFound(name, readers)

    # -- events ----------------------------------------------------------------------------------

    def wait_for_events(self, timeout: float) -> list[ReaderEvent]:
        """Wait up to ``timeout`` seconds for readers or cards to come or go; [] if nothing happened.

        The first call compares against the state at the time this context was first asked, so a card
        already lying on a reader is not reported as inserted.
        """
        if self._known is None:
            self._known = {state.name: state for state in self.reader_states()}
        query = [(name, _pcsc_state(state)) for name, state in self._known.items()]
        query.append((_PNP_NOTIFICATION, len(self._known) << 16))
        milliseconds = max(0, int(timeout * 1000))
        hresult, _states = self._context_call(scard.SCardGetStatusChange, milliseconds, query,
                                              timeout=timeout + self.timeout)
        hresult = _code(hresult)
        if hresult in (_E_TIMEOUT, _E_CANCELLED):
            return []
        if hresult not in (_OK, _E_UNKNOWN_READER):
            raise _context_error(hresult, "waiting for card readers")
        current = {state.name: state for state in self.reader_states()}
        events = _compare(self._known, current)
        self._known = current
        return events

    def wait_for_card(self, reader: str | None = None, timeout: float = 60.0) -> str:
        """Wait until a card lies on ``reader`` (or on any reader) and return that reader's name."""
        deadline = time.monotonic() + timeout
        while True:
            names = [self.find_reader(reader)] if reader else self.readers()
            for state in self.reader_states(names):
                if state.card_present and not state.mute:
                    return state.name
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if not names:
                    raise NoReader()
                raise NoCard(names[0] if len(names) == 1 else " / ".join(names))
            self.wait_for_events(min(remaining, 1.0))

    # -- connecting ------------------------------------------------------------------------------

    def connect(self, reader: str | None = None, share: ShareMode = ShareMode.SHARED,
                protocols: Protocol = Protocol.T0 | Protocol.T1) -> PcscCard:
        """Connect to the card on ``reader`` (a name or a unique part of one); without a name, to the
        first reader with a card. ``ShareMode.DIRECT`` reaches the reader alone, for control commands."""
        if reader is not None:
            name = self.find_reader(reader)
        else:
            states = self.reader_states()
            if not states:
                raise NoReader()
            with_card = [state.name for state in states if state.card_present]
            if share != ShareMode.DIRECT and not with_card:
                raise NoCard(states[0].name if len(states) == 1 else " / ".join(s.name for s in states))
            name = with_card[0] if with_card else states[0].name
        if share == ShareMode.DIRECT:
            protocols = Protocol.UNDEFINED
        hresult, handle, active = self._context_call(scard.SCardConnect, name, int(share), int(protocols))
        hresult = _code(hresult)
        if hresult != _OK:
            raise self._connect_error(hresult, name)
        card = PcscCard(self, name, handle, Protocol(active), share, protocols)
        card._read_status()
        return card

    def _connect_error(self, hresult: int, reader: str) -> ReaderError:
        if hresult in _NO_CARD:
            return NoCard(reader, hresult)
        if hresult == _E_UNKNOWN_READER:
            return ReaderNotFound(reader, self.readers(), hresult)
        return _card_error(hresult, f"connecting to {reader!r}", reader)

    def _diagnose(self, reader: str, hresult: int, detail: str) -> ReaderError:
        """After a failed exchange: was the card pulled out, the reader unplugged, or neither?"""
        deadline = time.monotonic() + _REMOVAL_SETTLE
        while True:
            try:
                readers = self.readers()
                if reader not in readers:
                    return ReaderUnplugged(reader, hresult)
                (state,) = self.reader_states([reader])
            except PcscdNotRunning:
                raise
            except ReaderError:
                return CardCommunicationError(reader, detail, hresult)
            if not state.card_present:
                return CardRemoved(reader, hresult)
            if time.monotonic() >= deadline:
                return CardCommunicationError(reader, detail, hresult)
            self._context_call(scard.SCardGetStatusChange, 100, [(reader, _pcsc_state(state))])


class PcscCard:
    """A connection to the card (or, in DIRECT mode, the reader) — a :class:`CardChannel`."""

    def __init__(self, pcsc: Pcsc, reader: str, handle: int, protocol: Protocol, share: ShareMode,
                 protocols: Protocol) -> None:
        self.pcsc = pcsc
        self._protocols = protocols
        self.reader = reader
        self.protocol = protocol
        self.share = share
        self.atr = b""
        self._handle: int | None = handle
        self._features: dict[part10.Feature | int, int] | None = None
        self._exchanged = False
        """Something was sent on this connection: after that, a reset by another program loses state."""

    def __enter__(self) -> PcscCard:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _use(self) -> int:
        if self._handle is None:
            raise CardCommunicationError(self.reader, "the connection to the card is closed")
        return self._handle

    def _call(self, function: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        try:
            return self.pcsc._call(function, *args, timeout=timeout, reader=self.reader)
        except CardUnresponsive:
            self._handle = None
            raise

    def _fail(self, hresult: int, operation: str) -> ReaderError:
        if hresult in _SERVICE_GONE:
            self._handle = None
            return PcscdNotRunning(hresult)
        if hresult in _NO_CARD:
            self._handle = None
            return CardRemoved(self.reader, hresult)
        if hresult == _code(scard.SCARD_E_READER_UNAVAILABLE) or hresult == _E_UNKNOWN_READER:
            self._handle = None
            return ReaderUnplugged(self.reader, hresult)
        if hresult in _COMMUNICATION:
            return self.pcsc._diagnose(self.reader, hresult, _COMMUNICATION[hresult])
        return _card_error(hresult, operation, self.reader)

    def _reset_by_another_program(self, hresult: int) -> bool:
        """A reset before our first command took nothing from us: acknowledge it and go on (True)."""
        if hresult != _E_RESET or self._exchanged:
            return False
        self.reconnect()
        return True

    def _read_status(self) -> None:
        hresult, _reader, _state, _protocol, atr = self._call(scard.SCardStatus, self._use())
        hresult = _code(hresult)
        if self._reset_by_another_program(hresult):
            return
        if hresult != _OK:
            raise self._fail(hresult, "reading the card status")
        self.atr = bytes(atr)

    # -- the channel -----------------------------------------------------------------------------

    def transmit(self, command: bytes) -> bytes:
        """Send one command APDU (short or extended length), return data ‖ SW1 SW2."""
        pci = _PCI.get(self.protocol, scard.SCARD_PCI_T1)
        hresult, response = self._call(scard.SCardTransmit, self._use(), pci, list(command))
        hresult = _code(hresult)
        if self._reset_by_another_program(hresult):
            pci = _PCI.get(self.protocol, scard.SCARD_PCI_T1)
            hresult, response = self._call(scard.SCardTransmit, self._use(), pci, list(command))
            hresult = _code(hresult)
        if hresult != _OK:
            raise self._fail(hresult, "sending a command to the card")
        if len(response) < 2:
            # vpcd (and some readers) report a card that vanished mid-command as an empty answer.
            raise self.pcsc._diagnose(self.reader, hresult, "the card gave no answer")
        self._exchanged = True
        return bytes(response)

    @contextmanager
    def transaction(self) -> Iterator[PcscCard]:
        """Exclusive use of the card for a sequence of commands (SCardBeginTransaction/EndTransaction)."""
        try:
            hresult = _code(self._call(scard.SCardBeginTransaction, self._use()))
        except CardUnresponsive as timeout:
            # pcsc-lite waits while another program holds a transaction: that is what took so long.
            raise ReaderBusy(self.reader) from timeout
        if self._reset_by_another_program(hresult):
            hresult = _code(self._call(scard.SCardBeginTransaction, self._use()))
        if hresult != _OK:
            raise self._fail(hresult, "starting a transaction")
        try:
            yield self
        finally:
            if self._handle is not None:
                self._call(scard.SCardEndTransaction, self._handle, int(Disposition.LEAVE))

    def reconnect(self, reset: bool = False) -> None:
        """Re-establish the connection, after another program reset the card or to reset it ourselves."""
        disposition = Disposition.RESET if reset else Disposition.LEAVE
        hresult, active = self._call(scard.SCardReconnect, self._use(), int(self.share), int(self._protocols),
                                     int(disposition))
        hresult = _code(hresult)
        if hresult != _OK:
            raise self._fail(hresult, "reconnecting to the card")
        self.protocol = Protocol(active)
        self._read_status()

    def close(self, disposition: Disposition = Disposition.LEAVE) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            try:
                self._call(scard.SCardDisconnect, handle, int(disposition), timeout=2.0)
            except ReaderError:
                pass

    # -- reader features (PC/SC part 10) ---------------------------------------------------------

    def control(self, code: int, data: bytes = b"", timeout: float | None = None) -> bytes:
        """SCardControl: a command to the reader itself."""
        hresult, response = self._call(scard.SCardControl, self._use(), code, list(data), timeout=timeout)
        hresult = _code(hresult)
        if self._reset_by_another_program(hresult):
            return self.control(code, data, timeout)
        if hresult in _E_UNSUPPORTED:
            raise FeatureNotSupported(self.reader, f"control code 0x{code:08X}", hresult)
        if hresult != _OK:
            raise self._fail(hresult, "sending a control command to the reader")
        self._exchanged = True
        return bytes(response)

    def features(self) -> dict[part10.Feature | int, int]:
        """The reader's part 10 features → their control codes (empty for a reader without any)."""
        if self._features is None:
            try:
                self._features = part10.parse_feature_list(self.control(_CM_IOCTL_GET_FEATURE_REQUEST))
            except FeatureNotSupported:
                self._features = {}
        return self._features

    def _feature(self, feature: part10.Feature, what: str) -> int:
        code = self.features().get(feature)
        if code is None:
            raise FeatureNotSupported(self.reader, what)
        return code

    def tlv_properties(self) -> dict[part10.TlvProperty | int, int | bytes]:
        code = self._feature(part10.Feature.GET_TLV_PROPERTIES, "reader properties")
        return part10.parse_tlv_properties(self.control(code))

    def pace_capabilities(self) -> part10.PaceCapabilities:
        code = self._feature(part10.Feature.EXECUTE_PACE, "PACE in the reader")
        response = part10.ExecutePaceResponse.parse(
            self.control(code, part10.execute_pace_command(part10.PaceFunction.GET_READER_PACE_CAPABILITIES)))
        if response.result:
            raise FeatureNotSupported(self.reader, "PACE in the reader", response.result)
        return part10.PaceCapabilities.parse(response.output)

    def supports_reader_pace(self, eid: bool = True) -> bool:
        """True when the reader runs PACE itself (and, with ``eid``, for an authentication terminal)."""
        if part10.Feature.EXECUTE_PACE not in self.features():
            return False
        capabilities = self.pace_capabilities()
        return capabilities.pace and (capabilities.eid or not eid)

    def establish_pace_channel(self, request: part10.EstablishPaceChannelInput,
                               timeout: float = PIN_PAD_TIMEOUT) -> part10.EstablishPaceChannelOutput:
        """PACE inside the reader; afterwards the reader applies secure messaging to what we transmit."""
        code = self._feature(part10.Feature.EXECUTE_PACE, "PACE in the reader")
        response = part10.ExecutePaceResponse.parse(self.control(code, request.command(), timeout=timeout))
        error = part10.pace_result_error(response.result, self.reader, request.password_id)
        if error is not None:
            raise error
        return part10.EstablishPaceChannelOutput.parse(response.output)

    def destroy_pace_channel(self) -> None:
        code = self._feature(part10.Feature.EXECUTE_PACE, "PACE in the reader")
        response = part10.ExecutePaceResponse.parse(
            self.control(code, part10.execute_pace_command(part10.PaceFunction.DESTROY_PACE_CHANNEL)))
        error = part10.pace_result_error(response.result, self.reader, part10.PasswordId.PIN)
        if error is not None:
            raise error

    def verify_pin_direct(self, structure: part10.PinVerifyStructure,
                          timeout: float = PIN_PAD_TIMEOUT) -> bytes:
        """PIN typed on the reader's key pad; returns the card's (or the reader's 64xx) response APDU."""
        code = self._feature(part10.Feature.VERIFY_PIN_DIRECT, "a PIN pad")
        return self.control(code, structure.encode(), timeout=timeout)

    def modify_pin_direct(self, structure: part10.PinModifyStructure,
                          timeout: float = PIN_PAD_TIMEOUT) -> bytes:
        """New PIN typed on the reader's key pad; returns the response APDU."""
        code = self._feature(part10.Feature.MODIFY_PIN_DIRECT, "a PIN pad")
        return self.control(code, structure.encode(), timeout=timeout)


def _pcsc_state(state: ReaderState) -> int:
    flags = scard.SCARD_STATE_PRESENT if state.card_present else scard.SCARD_STATE_EMPTY
    if state.in_use:
        flags |= scard.SCARD_STATE_INUSE
    if state.exclusive:
        flags |= scard.SCARD_STATE_EXCLUSIVE
    if state.mute:
        flags |= scard.SCARD_STATE_MUTE
    return flags | (state.event_count << 16)


def _compare(before: dict[str, ReaderState], after: dict[str, ReaderState]) -> list[ReaderEvent]:
    events: list[ReaderEvent] = []
    for name, old in before.items():
        new = after.get(name)
        if new is None:
            if old.card_present:
                events.append(ReaderEvent(EventKind.CARD_REMOVED, name))
            events.append(ReaderEvent(EventKind.READER_REMOVED, name))
        elif old.card_present and (not new.card_present or new.event_count != old.event_count):
            events.append(ReaderEvent(EventKind.CARD_REMOVED, name))
            if new.card_present:
                events.append(ReaderEvent(EventKind.CARD_INSERTED, name, new.atr))
        elif new.card_present and not old.card_present:
            events.append(ReaderEvent(EventKind.CARD_INSERTED, name, new.atr))
    for name, new in after.items():
        if name not in before:
            events.append(ReaderEvent(EventKind.READER_ADDED, name))
            if new.card_present:
                events.append(ReaderEvent(EventKind.CARD_INSERTED, name, new.atr))
    return events


def _context_error(hresult: int, operation: str) -> ReaderError:
    if hresult in _SERVICE_GONE:
        return PcscdNotRunning(hresult)
    if hresult == _E_NO_READERS:
        return NoReader(hresult)
    return PcscError(operation, scard.SCardGetErrorMessage(hresult), hresult)


def _card_error(hresult: int, operation: str, reader: str) -> ReaderError:
    if hresult in _SERVICE_GONE:
        return PcscdNotRunning(hresult)
    if hresult == _code(scard.SCARD_E_SHARING_VIOLATION):
        return ReaderBusy(reader, hresult)
    if hresult in (_code(scard.SCARD_E_READER_UNAVAILABLE), _E_UNKNOWN_READER):
        return ReaderUnplugged(reader, hresult)
    if hresult in _COMMUNICATION:
        return CardCommunicationError(reader, _COMMUNICATION[hresult], hresult)
    if hresult == _E_NO_READERS:
        return NoReader(hresult)
    return PcscError(operation, scard.SCardGetErrorMessage(hresult), hresult)
