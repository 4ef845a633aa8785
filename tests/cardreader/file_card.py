"""A card for transport tests only: transparent files behind SELECT, READ BINARY and UPDATE BINARY.

It parses and answers with the project's own ``eid.apdu`` and knows nothing of PACE or secure messaging;
the eID tests use ``cardreader.virtual.VirtualCard``. It counts power cycles, and it can be told to stop
answering (``hang``) so the tests can prove that nothing waits forever.
"""

from __future__ import annotations

import threading

from eid.apdu import ApduError, CommandApdu, ResponseApdu

ATR = bytes.fromhex("3B8A80018031B8738401E0829000DB")


class FileCard:
    def __init__(self, files: dict[int, bytes], atr: bytes = ATR) -> None:
        self.files = {fid: bytearray(content) for fid, content in files.items()}
        self._atr = atr
        self.selected: int | None = None
        self.powered = False
        self.power_ons = 0
        self.power_offs = 0
        self.commands: list[bytes] = []
        self.hang = threading.Event()
        """Set to make the next command block until ``release`` is set."""
        self.release = threading.Event()

    @property
    def atr(self) -> bytes:
        return self._atr

    def power_on(self) -> bytes:
        self.powered = True
        self.power_ons += 1
        self.selected = None
        return self._atr

    def power_off(self) -> None:
        if self.powered:
            self.power_offs += 1
        self.powered = False
        self.selected = None

    def transmit(self, command: bytes) -> bytes:
        self.commands.append(command)
        if self.hang.is_set():
            self.release.wait(30)
        try:
            apdu = CommandApdu.parse(command)
        except ApduError:
            return ResponseApdu(b"", 0x6700).encode()
        return self._answer(apdu).encode()

    def _answer(self, apdu: CommandApdu) -> ResponseApdu:
        if apdu.ins == 0xA4 and apdu.p1 == 0x04:
            self.selected = None
            return ResponseApdu(b"", 0x9000)
        if apdu.ins == 0xA4 and apdu.p1 == 0x02 and len(apdu.data) == 2:
            fid = int.from_bytes(apdu.data, "big")
            if fid not in self.files:
                return ResponseApdu(b"", 0x6A82)
            self.selected = fid
            return ResponseApdu(b"", 0x9000)
        if apdu.ins in (0xB0, 0xD6):
            if self.selected is None:
                return ResponseApdu(b"", 0x6986)
            content = self.files[self.selected]
            offset = (apdu.p1 << 8) | apdu.p2
            if apdu.ins == 0xD6:
                content[offset : offset + len(apdu.data)] = apdu.data
                return ResponseApdu(b"", 0x9000)
            if offset > len(content):
                return ResponseApdu(b"", 0x6B00)
            data = bytes(content[offset : offset + (apdu.ne or 0)])
            return ResponseApdu(data, 0x9000 if len(data) == apdu.ne else 0x6282)
        return ResponseApdu(b"", 0x6D00)
