"""Command and response APDUs (ISO/IEC 7816-4 §5.1), short and extended length."""

from __future__ import annotations

from dataclasses import dataclass

from eid.errors import MalformedData

SHORT_MAX_NC = 255
SHORT_MAX_NE = 256
EXTENDED_MAX_NC = 65535
EXTENDED_MAX_NE = 65536


class ApduError(MalformedData):
    """Bytes that are not a valid command or response APDU."""


@dataclass(frozen=True, slots=True)
class CommandApdu:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int | None = None
    """Expected response length: None = no Le; SHORT_MAX_NE/EXTENDED_MAX_NE = as much as possible."""

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise ApduError(f"{name.upper()} must be one byte")
        if len(self.data) > EXTENDED_MAX_NC:
            raise ApduError(f"command data of {len(self.data)} bytes exceeds extended length")
        if self.ne is not None and not 1 <= self.ne <= EXTENDED_MAX_NE:
            raise ApduError(f"Ne {self.ne} out of range")

    @property
    def extended(self) -> bool:
        return len(self.data) > SHORT_MAX_NC or (self.ne is not None and self.ne > SHORT_MAX_NE)

    @property
    def header(self) -> bytes:
        return bytes([self.cla, self.ins, self.p1, self.p2])

    def encode(self) -> bytes:
        out = bytearray(self.header)
        if not self.extended:
            if self.data:
                out.append(len(self.data))
                out += self.data
            if self.ne is not None:
                out.append(self.ne % 256)
            return bytes(out)
        out.append(0)
        if self.data:
            out += len(self.data).to_bytes(2, "big")
            out += self.data
        if self.ne is not None:
            out += (self.ne % 65536).to_bytes(2, "big")
        return bytes(out)

    @classmethod
    def parse(cls, raw: bytes) -> CommandApdu:
        """Cases 1, 2S, 3S, 4S, 2E, 3E, 4E of ISO/IEC 7816-3 §12.1.3."""
        if len(raw) < 4:
            raise ApduError(f"command APDU of {len(raw)} bytes is shorter than its header")
        cla, ins, p1, p2 = raw[:4]
        if cla == 0xFF:
            raise ApduError("CLA FF is invalid")
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, ne=body[0] or SHORT_MAX_NE)
        if body[0] != 0:
            nc = body[0]
            if len(body) == 1 + nc:
                return cls(cla, ins, p1, p2, bytes(body[1:]))
            if len(body) == 2 + nc:
                return cls(cla, ins, p1, p2, bytes(body[1 : 1 + nc]), body[-1] or SHORT_MAX_NE)
            raise ApduError(f"short Lc {nc} does not match {len(body) - 1} following bytes")
        if len(body) == 3:
            return cls(cla, ins, p1, p2, ne=int.from_bytes(body[1:3], "big") or EXTENDED_MAX_NE)
        if len(body) < 3:
            raise ApduError("truncated extended length field")
        nc = int.from_bytes(body[1:3], "big")
        if nc == 0:
            raise ApduError("extended Lc of zero")
        if len(body) == 3 + nc:
            return cls(cla, ins, p1, p2, bytes(body[3:]))
        if len(body) == 5 + nc:
            ne = int.from_bytes(body[-2:], "big") or EXTENDED_MAX_NE
            return cls(cla, ins, p1, p2, bytes(body[3 : 3 + nc]), ne)
        raise ApduError(f"extended Lc {nc} does not match {len(body) - 3} following bytes")


@dataclass(frozen=True, slots=True)
class ResponseApdu:
    data: bytes
    sw: int

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000

    def encode(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @classmethod
    def parse(cls, raw: bytes) -> ResponseApdu:
        if len(raw) < 2:
            raise ApduError(f"response APDU of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))
