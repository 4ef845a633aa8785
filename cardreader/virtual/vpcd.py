"""Put a card into a vsmartcard vpcd reader slot, so that pcscd lists it like a card on a USB reader.

Debian's ``vsmartcard-vpcd`` is a pcscd reader driver that listens on a TCP port per slot (35963 and
35964 by default) and waits for a virtual card to connect. The wire format (vsmartcard
``virtualsmartcard/src/vpcd/vpcd.c``): every message, in both directions, is a 2-byte big-endian length
followed by that many bytes. A 1-byte message from the driver is a control code — 0x00 power off,
0x01 power on, 0x02 reset, 0x04 "send your ATR" (answered with the ATR; the driver asks about every
0.4 s to learn whether the card is still there) — any longer message is a command APDU, answered with
the response APDU. A card that closes the connection has left the reader.

:class:`VpcdSlot` connects any object with ``transmit``, ``power_on``, ``power_off`` and ``atr`` (such as
:class:`cardreader.virtual.VirtualCard`), answers the driver on a thread of its own, reconnects when pcscd
restarts, and can take the card out and put it back while running.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from typing import Protocol

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 35963

POWER_OFF = 0x00
POWER_ON = 0x01
RESET = 0x02
GET_ATR = 0x04

_log = logging.getLogger(__name__)


class VpcdCard(Protocol):
    """What a card needs to sit in a vpcd slot."""

    @property
    def atr(self) -> bytes: ...

    def transmit(self, command: bytes) -> bytes: ...

    def power_on(self) -> bytes: ...

    def power_off(self) -> None: ...


class VpcdProtocolError(Exception):
    """The driver sent something the vpcd protocol does not have."""


class VpcdSlot:
    """A card in one vpcd reader slot (``host``:``port``), served on a background thread.

    - :meth:`start` / :meth:`stop` run and end the thread (or use it as a context manager);
      :meth:`run` serves on the calling thread until :meth:`stop`.
    - :meth:`remove` takes the card out (the connection closes, the card loses power);
      :meth:`insert` puts it (or another card) back.
    - ``remove_when(command)`` is asked before each command APDU is answered; when it returns True the
      card leaves the reader at that moment, without answering — a citizen pulling the card mid-command.
    - ``on_exchange(command, response)`` sees every APDU pair (for traces).
    """

    def __init__(
        self,
        card: VpcdCard,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        inserted: bool = True,
        remove_when: Callable[[bytes], bool] | None = None,
        on_exchange: Callable[[bytes, bytes], None] | None = None,
        reconnect_interval: float = 0.1,
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self.remove_when = remove_when
        self.on_exchange = on_exchange
        self.reconnect_interval = reconnect_interval
        self.commands = 0
        """Command APDUs answered since the slot was created."""
        self._inserted = inserted
        self._stopped = False
        self._socket: socket.socket | None = None
        self._changed = threading.Condition()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None

    # -- control ---------------------------------------------------------------------------------

    def start(self) -> VpcdSlot:
        self._thread = threading.Thread(target=self.run, name=f"vpcd-slot-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        with self._changed:
            self._stopped = True
            self._inserted = False
            self._changed.notify_all()
        self._hang_up()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def __enter__(self) -> VpcdSlot:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def inserted(self) -> bool:
        return self._inserted

    @property
    def connected(self) -> bool:
        """The card is in the slot and the driver has the connection."""
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def insert(self, card: VpcdCard | None = None) -> None:
        """Put the card (or a different one) into the slot."""
        with self._changed:
            if card is not None:
                self.card = card
            self._inserted = True
            self._changed.notify_all()

    def remove(self) -> None:
        """Take the card out of the slot; pcscd notices at its next poll."""
        with self._changed:
            self._inserted = False
            self._changed.notify_all()
        self._hang_up()

    def _hang_up(self) -> None:
        sock = self._socket
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # -- serving ---------------------------------------------------------------------------------

    def run(self) -> None:
        """Serve until :meth:`stop`: connect while inserted, answer the driver, reconnect after drops."""
        while True:
            with self._changed:
                while not self._inserted and not self._stopped:
                    self._changed.wait()
                if self._stopped:
                    return
            try:
                sock = socket.create_connection((self.host, self.port), timeout=2.0)
            except OSError:
                with self._changed:  # pcscd is not (yet) listening: try again shortly
                    self._changed.wait(self.reconnect_interval)
                continue
            self._serve(sock)

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket = sock
        if not self._inserted:  # removed while connecting
            self._hang_up()
        self._connected.set()
        try:
            while True:
                message = self._receive(sock)
                if message is None:
                    break
                reply = self._handle(message)
                if reply is None and len(message) > 1:
                    break  # removed mid-command
                if reply is not None:
                    sock.sendall(len(reply).to_bytes(2, "big") + reply)
        except (OSError, VpcdProtocolError) as error:
            if self._inserted and not self._stopped:
                _log.info("vpcd connection on port %d ended: %s", self.port, error)
        finally:
            self._connected.clear()
            self._socket = None
            sock.close()
            self.card.power_off()

    def _receive(self, sock: socket.socket) -> bytes | None:
        header = _receive_exactly(sock, 2)
        if header is None:
            return None
        length = int.from_bytes(header, "big")
        if length == 0:
            raise VpcdProtocolError("empty message from the driver")
        return _receive_exactly(sock, length)

    def _handle(self, message: bytes) -> bytes | None:
        if len(message) == 1:
            code = message[0]
            if code == GET_ATR:
                return self.card.atr
            if code == POWER_ON:
                self.card.power_on()
            elif code == POWER_OFF:
                self.card.power_off()
            elif code == RESET:
                self.card.power_off()
                self.card.power_on()
            else:
                raise VpcdProtocolError(f"unknown control code 0x{code:02X}")
            return None
        if self.remove_when is not None and self.remove_when(message):
            self.remove()
            return None
        try:
            response = self.card.transmit(message)
        except Exception:  # a card never goes silent: it answers "no precise diagnosis"
            _log.exception("the card failed on a command (INS %02X)", message[1])
            response = b"\x6f\x00"
        self.commands += 1
        if self.on_exchange is not None:
            self.on_exchange(message, response)
        return response


def _receive_exactly(sock: socket.socket, count: int) -> bytes | None:
    """``count`` bytes, or None when the peer closed the connection before sending any."""
    buffer = bytearray(count)
    view = memoryview(buffer)
    received = 0
    while received < count:
        chunk = sock.recv_into(view[received:], count - received)
        if _QUICKACK is not None:
            # Acknowledge at once: vpcd writes without TCP_NODELAY, and a delayed ACK (40 ms on Linux)
            # would hold back its next command under Nagle's algorithm — seen here as 44 ms per APDU.
            sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        if chunk == 0:
            if received == 0:
                return None
            raise VpcdProtocolError(f"connection closed after {received} of {count} bytes")
        received += chunk
    return bytes(buffer)


_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
