"""DER values of the ASN.1 universal types the card's data structures use (X.690 §8, §10, §11).

SecurityInfos, data groups and the certificate description are small DER structures; ``eid.tlv``
splits them into tag-length-value objects, and this module reads and writes the values: INTEGER,
BOOLEAN, OCTET STRING, BIT STRING, character strings, SEQUENCE and SET OF (sorted as DER demands).
Every reader raises :class:`DerError`, naming what was wrong.
"""

from __future__ import annotations

from collections.abc import Iterable

from eid.errors import MalformedData
from eid.tlv import Tlv, TlvError, decode_all, decode_single, encode

INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
BOOLEAN = 0x01
UTF8_STRING = 0x0C
NUMERIC_STRING = 0x12
PRINTABLE_STRING = 0x13
IA5_STRING = 0x16
SEQUENCE = 0x30
SET = 0x31

_PRINTABLE = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")


class DerError(MalformedData):
    """A DER value that does not decode as the type it should have."""


def expect(tlv: Tlv, tag: int, what: str) -> Tlv:
    if tlv.tag != tag:
        raise DerError(f"{what}: expected tag {tag:02X}, found {tlv.tag:X}")
    return tlv


def children(tlv: Tlv, what: str) -> list[Tlv]:
    """The elements of a constructed value; DerError if it is primitive or not TLV inside."""
    try:
        return tlv.children
    except TlvError as exc:
        raise DerError(f"{what}: {exc}") from None


def parse_single(data: bytes, what: str) -> Tlv:
    try:
        return decode_single(data)
    except TlvError as exc:
        raise DerError(f"{what}: {exc}") from None


def parse_all(data: bytes, what: str) -> list[Tlv]:
    try:
        return decode_all(data)
    except TlvError as exc:
        raise DerError(f"{what}: {exc}") from None


# INTEGER (two's complement, minimal)

def encode_integer(value: int) -> bytes:
    magnitude = value if value >= 0 else ~value
    length = (magnitude.bit_length() + 8) // 8
    return encode(INTEGER, value.to_bytes(length, "big", signed=True))


def decode_integer(tlv: Tlv, what: str = "INTEGER") -> int:
    value = expect(tlv, INTEGER, what).value
    if not value:
        raise DerError(f"{what}: empty INTEGER")
    if len(value) > 1 and (value[0] == 0 and not value[1] & 0x80 or value[0] == 0xFF and value[1] & 0x80):
        raise DerError(f"{what}: INTEGER not minimally encoded")
    return int.from_bytes(value, "big", signed=True)


def decode_unsigned(tlv: Tlv, what: str = "INTEGER") -> int:
    value = decode_integer(tlv, what)
    if value < 0:
        raise DerError(f"{what}: negative value {value}")
    return value


# BOOLEAN

def encode_boolean(value: bool) -> bytes:
    return encode(BOOLEAN, b"\xff" if value else b"\x00")


def decode_boolean(tlv: Tlv, what: str = "BOOLEAN") -> bool:
    value = expect(tlv, BOOLEAN, what).value
    if value not in (b"\x00", b"\xff"):
        raise DerError(f"{what}: BOOLEAN must be 00 or FF, got {value.hex()}")
    return value == b"\xff"


# strings

def encode_octet_string(value: bytes) -> bytes:
    return encode(OCTET_STRING, value)


def decode_octet_string(tlv: Tlv, what: str = "OCTET STRING") -> bytes:
    return expect(tlv, OCTET_STRING, what).value


def encode_bit_string(value: bytes) -> bytes:
    """A BIT STRING of whole bytes (no unused bits), as public keys are."""
    return encode(BIT_STRING, b"\x00" + value)


def decode_bit_string(tlv: Tlv, what: str = "BIT STRING") -> bytes:
    value = expect(tlv, BIT_STRING, what).value
    if not value or value[0] != 0:
        raise DerError(f"{what}: expected a BIT STRING of whole bytes")
    return value[1:]


def encode_string(tag: int, text: str) -> bytes:
    if tag == UTF8_STRING:
        return encode(tag, text.encode("utf-8"))
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise DerError(f"{text!r} has characters outside this string type") from None
    _check_string(tag, raw, "value")
    return encode(tag, raw)


def decode_string(tlv: Tlv, tag: int, what: str) -> str:
    raw = expect(tlv, tag, what).value
    if tag == UTF8_STRING:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DerError(f"{what}: not valid UTF-8") from None
    _check_string(tag, raw, what)
    return raw.decode("ascii")


def _check_string(tag: int, raw: bytes, what: str) -> None:
    if tag == PRINTABLE_STRING:
        bad = [b for b in raw if b not in _PRINTABLE]
    elif tag == NUMERIC_STRING:
        bad = [b for b in raw if not (0x30 <= b <= 0x39 or b == 0x20)]
    elif tag == IA5_STRING:
        bad = [b for b in raw if b > 0x7F]
    else:
        raise ValueError(f"no string type with tag {tag:02X}")
    if bad:
        raise DerError(f"{what}: byte {bad[0]:02X} not allowed in this string type")


# SEQUENCE / SET OF

def encode_sequence(parts: Iterable[bytes]) -> bytes:
    return encode(SEQUENCE, list(parts))


def encode_set_of(parts: Iterable[bytes]) -> bytes:
    """SET OF in DER order: the encodings sorted as octet strings (X.690 §11.6)."""
    return encode(SET, sorted(parts))
