"""BER-TLV (ISO/IEC 7816-4 §5.2, ITU-T X.690 §8.1) as used by APDUs, CV certificates and SecurityInfos.

Tags are integers holding their encoded bytes (``0x7F21``, ``0x5F29``); lengths use the definite
forms only (short, ``81``–``84``), as the card standards require.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from eid.errors import MalformedData

MAX_LENGTH_BYTES = 4


class TlvError(MalformedData):
    """Bytes that are not well-formed BER-TLV."""


@dataclass(frozen=True, slots=True)
class Tlv:
    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        return bool(first_tag_byte(self.tag) & 0x20)

    @property
    def children(self) -> list[Tlv]:
        if not self.constructed:
            raise TlvError(f"tag {self.tag:X} is primitive and has no children")
        return decode_all(self.value)

    def child(self, tag: int) -> Tlv:
        """The single child with this tag; TlvError if it is missing or repeated."""
        found = [c for c in self.children if c.tag == tag]
        if len(found) != 1:
            what = "missing" if not found else "repeated"
            raise TlvError(f"tag {tag:X} {what} in {self.tag:X}")
        return found[0]

    def optional_child(self, tag: int) -> Tlv | None:
        found = [c for c in self.children if c.tag == tag]
        if len(found) > 1:
            raise TlvError(f"tag {tag:X} repeated in {self.tag:X}")
        return found[0] if found else None

    def encode(self) -> bytes:
        return encode(self.tag, self.value)


def first_tag_byte(tag: int) -> int:
    return tag_bytes(tag)[0]


def tag_bytes(tag: int) -> bytes:
    if tag < 0:
        raise ValueError("negative tag")
    if tag == 0:
        return b"\x00"
    return tag.to_bytes((tag.bit_length() + 7) // 8, "big")


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    if len(raw) > MAX_LENGTH_BYTES:
        raise ValueError(f"length {length} too large for BER-TLV")
    return bytes([0x80 | len(raw)]) + raw


def encode(tag: int, value: bytes | Iterable[bytes] = b"") -> bytes:
    """One TLV; ``value`` may be the concatenation parts of a constructed object."""
    body = value if isinstance(value, (bytes, bytearray)) else b"".join(value)
    return tag_bytes(tag) + encode_length(len(body)) + bytes(body)


def decode_one(data: bytes, offset: int = 0) -> tuple[Tlv, int]:
    """The TLV starting at ``offset`` and the offset just after it."""
    end = len(data)
    if offset >= end:
        raise TlvError("no TLV: data ends before a tag")
    start = offset
    first = data[offset]
    offset += 1
    if first & 0x1F == 0x1F:
        while True:
            if offset >= end:
                raise TlvError("tag runs past the end of the data")
            if offset - start > 3:
                raise TlvError("tag longer than 4 bytes")
            b = data[offset]
            offset += 1
            if not b & 0x80:
                break
    tag = int.from_bytes(data[start:offset], "big")
    if offset >= end:
        raise TlvError(f"tag {tag:X} has no length")
    length = data[offset]
    offset += 1
    if length == 0x80:
        raise TlvError(f"tag {tag:X} uses the indefinite length form")
    if length > 0x80:
        count = length & 0x7F
        if count > MAX_LENGTH_BYTES:
            raise TlvError(f"tag {tag:X} has a {count}-byte length field")
        if offset + count > end:
            raise TlvError(f"length of tag {tag:X} runs past the end of the data")
        length = int.from_bytes(data[offset : offset + count], "big")
        offset += count
    if offset + length > end:
        raise TlvError(f"value of tag {tag:X} ({length} bytes) runs past the end of the data")
    return Tlv(tag, bytes(data[offset : offset + length])), offset + length


def iter_decode(data: bytes) -> Iterator[Tlv]:
    offset = 0
    while offset < len(data):
        tlv, offset = decode_one(data, offset)
        yield tlv


def decode_all(data: bytes) -> list[Tlv]:
    """Every TLV in ``data``, which must consist of TLVs and nothing else."""
    return list(iter_decode(data))


def decode_single(data: bytes, expected_tag: int | None = None) -> Tlv:
    """Exactly one TLV filling ``data``; optionally of ``expected_tag``."""
    tlv, offset = decode_one(data)
    if offset != len(data):
        raise TlvError(f"{len(data) - offset} bytes after tag {tlv.tag:X}")
    if expected_tag is not None and tlv.tag != expected_tag:
        raise TlvError(f"expected tag {expected_tag:X}, found {tlv.tag:X}")
    return tlv
