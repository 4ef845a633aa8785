"""The data groups of the eID application (BSI TR-03110-4 §2.2.3, TR-03127 §3): decode and encode.

Every data group is ``[APPLICATION n]`` (explicitly tagged, as the cards and AusweisApp write them)
around an ASN.1 value. Values in Python:

- DG1 document type, DG2 issuing state (or a :class:`Place`), DG10 nationality, DG11 sex, DG21 phone
  number, DG22 e-mail: ``str``;
- DG4–DG7, DG13 names and titles: ``str``;
- DG3 date of expiry, DG15 date of issuance: ``datetime.date``; DG8 date of birth:
  :class:`PartialDate` (TR-03127: unknown parts are blanks);
- DG9 place of birth and DG17 place of residence: :class:`Place` (structured address),
  :class:`FreeTextPlace` or :class:`NoPlaceInfo` ("keine Hauptwohnung in Deutschland"); DG17 may
  also be a tuple of places (multResidence);
- DG12 optional data: tuple of :class:`OptionalData`; DG14 written signature, DG16 (RFU): ``bytes``;
- DG18 community ID: ``bytes`` (BCD digits, e.g. ``02 76 05 03 15 00 00``);
- DG19/DG20 residence permit remarks: :class:`Text`.
"""

from __future__ import annotations

import datetime
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eid import der, oid
from eid.errors import MalformedData
from eid.tlv import Tlv, encode

NUMBERS = range(1, 23)
MAX_TEXT = 64 * 1024


class DataGroupError(MalformedData):
    """A data group whose content does not have its TR-03110-4 structure."""


def file_id(number: int) -> int:
    """The elementary file identifier of DG``number`` in the eID application (0x0101 …)."""
    return 0x0100 + number


def short_file_id(number: int) -> int:
    return number


def application_tag(number: int) -> int:
    return 0x60 | number


# -- value types ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PartialDate:
    """A date with possibly unknown parts, written ``YYYYMMDD`` with blanks for the unknown digits."""

    year: int | None
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if self.year is None and (self.month or self.day) or self.month is None and self.day is not None:
            raise DataGroupError("a date can only leave out its day, month and day, or everything")
        if self.year is not None and not 1 <= self.year <= 9999:
            raise DataGroupError(f"year {self.year} out of range")
        if self.month is not None and not 1 <= self.month <= 12:
            raise DataGroupError(f"month {self.month} out of range")
        if self.day is not None:
            try:
                datetime.date(self.year, self.month, self.day)  # type: ignore[arg-type]
            except ValueError as exc:
                raise DataGroupError(f"invalid date: {exc}") from None

    @classmethod
    def from_date(cls, day: datetime.date) -> PartialDate:
        return cls(day.year, day.month, day.day)

    @property
    def complete(self) -> bool:
        return self.day is not None

    def to_date(self) -> datetime.date:
        if not self.complete:
            raise DataGroupError(f"date {self.encode()!r} is incomplete")
        return datetime.date(self.year, self.month, self.day)  # type: ignore[arg-type]

    def latest(self) -> datetime.date:
        """The latest date this could be (what the chip stores for age verification, TR-03127 DG8)."""
        if self.year is None:
            raise DataGroupError("the date is entirely unknown")
        if self.month is None:
            return datetime.date(self.year, 12, 31)
        if self.day is None:
            following = datetime.date(self.year + (self.month == 12), self.month % 12 + 1, 1)
            return following - datetime.timedelta(days=1)
        return datetime.date(self.year, self.month, self.day)

    def encode(self) -> str:
        def part(value: int | None, width: int) -> str:
            return " " * width if value is None else f"{value:0{width}d}"

        return part(self.year, 4) + part(self.month, 2) + part(self.day, 2)

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        if len(text) != 8:
            raise DataGroupError(f"date {text!r} is not YYYYMMDD")

        def part(chunk: str) -> int | None:
            if chunk.strip() == "":
                return None
            if not chunk.isdigit():
                raise DataGroupError(f"date {text!r} is not YYYYMMDD")
            return int(chunk)

        return cls(part(text[:4]), part(text[4:6]), part(text[6:]))


@dataclass(frozen=True)
class Place:
    """A structured place (TR-03110-4 ``Place``); ``country`` is the ICAO code ("D")."""

    city: str
    country: str
    street: str | None = None
    state: str | None = None
    zipcode: str | None = None


@dataclass(frozen=True)
class FreeTextPlace:
    text: str


@dataclass(frozen=True)
class NoPlaceInfo:
    """E.g. "keine Hauptwohnung in Deutschland" for residents abroad (TR-03127 DG17)."""

    text: str


GeneralPlace = Place | FreeTextPlace | NoPlaceInfo
NO_RESIDENCE_IN_GERMANY = NoPlaceInfo("keine Hauptwohnung in Deutschland")


@dataclass(frozen=True)
class Text:
    """``Text ::= CHOICE { uncompressed [1] UTF8String, compressed [2] OCTET STRING }``."""

    value: str
    compressed: bool = False


@dataclass(frozen=True)
class OptionalData:
    type: str
    data: bytes | None = None
    """The DER encoding of the ``data`` element, if present."""


# -- codecs for the ASN.1 pieces -----------------------------------------------------------------

def _single_child(tlv: Tlv, what: str) -> Tlv:
    elements = der.children(tlv, what)
    if len(elements) != 1:
        raise DataGroupError(f"{what} must hold exactly one element, found {len(elements)}")
    return elements[0]


def _icao_string(tlv: Tlv, what: str, sizes: tuple[int, ...]) -> str:
    value = der.decode_string(tlv, der.PRINTABLE_STRING, what)
    if len(value) not in sizes or any(not (c.isascii() and (c.isupper() or c == " ")) for c in value):
        raise DataGroupError(f"{what} {value!r} is not an ICAO string of length {sizes}")
    return value


def _encode_icao(value: str, sizes: tuple[int, ...], what: str) -> bytes:
    if len(value) not in sizes or any(not (c.isascii() and (c.isupper() or c == " ")) for c in value):
        raise DataGroupError(f"{what} {value!r} is not an ICAO string of length {sizes}")
    return der.encode_string(der.PRINTABLE_STRING, value)


_PLACE_FIELDS = ((0xAA, "street", der.UTF8_STRING), (0xAB, "city", der.UTF8_STRING), (0xAC, "state", der.UTF8_STRING),
                 (0xAD, "country", der.PRINTABLE_STRING), (0xAE, "zipcode", der.PRINTABLE_STRING))


def _encode_place(place: Place) -> bytes:
    parts = []
    for tag, name, string_type in _PLACE_FIELDS:
        value = getattr(place, name)
        if value is None:
            continue
        inner = _encode_icao(value, (1, 3), "country") if name == "country" else der.encode_string(string_type, value)
        parts.append(encode(tag, inner))
    return der.encode_sequence(parts)


def _decode_place(tlv: Tlv) -> Place:
    fields: dict[str, str] = {}
    by_tag = {tag: (name, string_type) for tag, name, string_type in _PLACE_FIELDS}
    last = 0
    for element in der.children(der.expect(tlv, der.SEQUENCE, "Place"), "Place"):
        if element.tag not in by_tag or element.tag <= last:
            raise DataGroupError(f"unexpected or out-of-order tag {element.tag:X} in a Place")
        last = element.tag
        name, string_type = by_tag[element.tag]
        inner = _single_child(element, f"Place.{name}")
        fields[name] = _icao_string(inner, "country", (1, 3)) if name == "country" else der.decode_string(inner, string_type, f"Place.{name}")
    if "city" not in fields or "country" not in fields:
        raise DataGroupError("a Place needs city and country")
    return Place(**fields)


def _encode_general_place(place: GeneralPlace) -> bytes:
    if isinstance(place, Place):
        return _encode_place(place)
    tag = 0xA1 if isinstance(place, FreeTextPlace) else 0xA2
    return encode(tag, der.encode_string(der.UTF8_STRING, place.text))


def _decode_general_place(tlv: Tlv) -> GeneralPlace:
    if tlv.tag == der.SEQUENCE:
        return _decode_place(tlv)
    if tlv.tag in (0xA1, 0xA2):
        text = der.decode_string(_single_child(tlv, "GeneralPlace"), der.UTF8_STRING, "GeneralPlace text")
        return FreeTextPlace(text) if tlv.tag == 0xA1 else NoPlaceInfo(text)
    raise DataGroupError(f"GeneralPlace: unexpected tag {tlv.tag:X}")


def _encode_residence(value: GeneralPlace | tuple[GeneralPlace, ...]) -> bytes:
    if isinstance(value, tuple):
        return der.encode_set_of(_encode_general_place(p) for p in value)
    return _encode_general_place(value)


def _decode_residence(tlv: Tlv) -> GeneralPlace | tuple[GeneralPlace, ...]:
    if tlv.tag == der.SET:
        return tuple(_decode_general_place(e) for e in der.children(tlv, "multResidence"))
    return _decode_general_place(tlv)


def _encode_date(value: datetime.date | PartialDate) -> bytes:
    text = value.encode() if isinstance(value, PartialDate) else value.strftime("%Y%m%d")
    return der.encode_string(der.NUMERIC_STRING, text)


def _decode_partial_date(tlv: Tlv) -> PartialDate:
    return PartialDate.parse(der.decode_string(tlv, der.NUMERIC_STRING, "Date"))


def _decode_full_date(tlv: Tlv) -> datetime.date:
    return _decode_partial_date(tlv).to_date()


def _encode_text(text: Text) -> bytes:
    if text.compressed:
        compressor = zlib.compressobj(wbits=-15)
        data = compressor.compress(text.value.encode("utf-8")) + compressor.flush()
        return encode(0xA2, der.encode_octet_string(data))
    return encode(0xA1, der.encode_string(der.UTF8_STRING, text.value))


def _decode_text(tlv: Tlv) -> Text:
    inner = _single_child(tlv, "Text")
    if tlv.tag == 0xA1:
        return Text(der.decode_string(inner, der.UTF8_STRING, "Text.uncompressed"))
    if tlv.tag == 0xA2:
        data = der.decode_octet_string(inner, "Text.compressed")
        decompressor = zlib.decompressobj(wbits=-15)
        try:
            raw = decompressor.decompress(data, MAX_TEXT)
        except zlib.error as exc:
            raise DataGroupError(f"Text.compressed is not DEFLATE data: {exc}") from None
        if decompressor.unconsumed_tail or not decompressor.eof:
            raise DataGroupError("Text.compressed is truncated or longer than allowed")
        try:
            return Text(raw.decode("utf-8"), compressed=True)
        except UnicodeDecodeError:
            raise DataGroupError("Text.compressed is not UTF-8") from None
    raise DataGroupError(f"Text: unexpected tag {tlv.tag:X}")


def _encode_optional_data(entries: tuple[OptionalData, ...]) -> bytes:
    return der.encode_set_of(
        der.encode_sequence([oid.encode(e.type), *([e.data] if e.data is not None else [])]) for e in entries
    )


def _decode_optional_data(tlv: Tlv) -> tuple[OptionalData, ...]:
    entries = []
    for element in der.children(der.expect(tlv, der.SET, "OptionalDataR"), "OptionalDataR"):
        parts = der.children(der.expect(element, der.SEQUENCE, "OptionalData"), "OptionalData")
        if not 1 <= len(parts) <= 2:
            raise DataGroupError("OptionalData must hold a type and optional data")
        der.expect(parts[0], oid.TAG_OID, "OptionalData.type")
        entries.append(OptionalData(oid.decode_value(parts[0].value), parts[1].encode() if len(parts) == 2 else None))
    return tuple(entries)


def _issuing_entity(value: str | Place) -> bytes:
    return _encode_place(value) if isinstance(value, Place) else _encode_icao(value, (1, 3), "issuing state")


def _decode_issuing_entity(tlv: Tlv) -> str | Place:
    return _decode_place(tlv) if tlv.tag == der.SEQUENCE else _icao_string(tlv, "issuing state", (1, 3))


def _sex(value: str) -> bytes:
    if value not in ("M", "F", " "):
        raise DataGroupError(f"sex {value!r} is not M, F or blank")
    return der.encode_string(der.PRINTABLE_STRING, value)


def _decode_sex(tlv: Tlv) -> str:
    value = der.decode_string(tlv, der.PRINTABLE_STRING, "sex")
    if value not in ("M", "F", " "):
        raise DataGroupError(f"sex {value!r} is not M, F or blank")
    return value


def _utf8(value: str) -> bytes:
    return der.encode_string(der.UTF8_STRING, value)


@dataclass(frozen=True)
class _Codec:
    name: str
    encode: Callable[[Any], bytes]
    decode: Callable[[Tlv], Any]


CODECS: dict[int, _Codec] = {
    1: _Codec("document type", lambda v: _encode_icao(v, (2,), "document type"), lambda t: _icao_string(t, "document type", (2,))),
    2: _Codec("issuing state", _issuing_entity, _decode_issuing_entity),
    3: _Codec("date of expiry", _encode_date, _decode_full_date),
    4: _Codec("given names", _utf8, lambda t: der.decode_string(t, der.UTF8_STRING, "given names")),
    5: _Codec("family names", _utf8, lambda t: der.decode_string(t, der.UTF8_STRING, "family names")),
    6: _Codec("nom de plume", _utf8, lambda t: der.decode_string(t, der.UTF8_STRING, "nom de plume")),
    7: _Codec("academic title", _utf8, lambda t: der.decode_string(t, der.UTF8_STRING, "academic title")),
    8: _Codec("date of birth", _encode_date, _decode_partial_date),
    9: _Codec("place of birth", _encode_general_place, _decode_general_place),
    10: _Codec("nationality", lambda v: _encode_icao(v, (1, 3), "nationality"), lambda t: _icao_string(t, "nationality", (1, 3))),
    11: _Codec("sex", _sex, _decode_sex),
    12: _Codec("optional data", _encode_optional_data, _decode_optional_data),
    13: _Codec("birth name", _utf8, lambda t: der.decode_string(t, der.UTF8_STRING, "birth name")),
    14: _Codec("written signature", der.encode_octet_string, lambda t: der.decode_octet_string(t, "written signature")),
    15: _Codec("date of issuance", _encode_date, _decode_full_date),
    16: _Codec("RFU", lambda v: bytes(v), lambda t: t.encode()),
    17: _Codec("place of residence", _encode_residence, _decode_residence),
    18: _Codec("community ID", der.encode_octet_string, lambda t: der.decode_octet_string(t, "community ID")),
    19: _Codec("residence permit I", _encode_text, _decode_text),
    20: _Codec("residence permit II", _encode_text, _decode_text),
    21: _Codec("phone number", lambda v: der.encode_string(der.PRINTABLE_STRING, v),
                lambda t: der.decode_string(t, der.PRINTABLE_STRING, "phone number")),
    22: _Codec("e-mail address", lambda v: der.encode_string(der.IA5_STRING, v),
                lambda t: der.decode_string(t, der.IA5_STRING, "e-mail address")),
}


def encode_data_group(number: int, value: Any) -> bytes:
    """The file content of DG``number`` holding ``value``."""
    if number not in CODECS:
        raise ValueError(f"no data group {number}")
    return encode(application_tag(number), CODECS[number].encode(value))


def decode_data_group(number: int, data: bytes) -> Any:
    """The value in the file content of DG``number``."""
    if number not in CODECS:
        raise ValueError(f"no data group {number}")
    outer = der.parse_single(data, f"DG{number}")
    if outer.tag != application_tag(number):
        raise DataGroupError(f"DG{number} must have tag {application_tag(number):X}, found {outer.tag:X}")
    inner = _single_child(outer, f"DG{number}")
    return CODECS[number].decode(inner)


def community_id_from_digits(digits: str) -> bytes:
    """BCD bytes from a community ID written as digits ("02760503150000")."""
    if not digits.isdigit() or len(digits) % 2:
        raise DataGroupError(f"community ID {digits!r} must be an even number of digits")
    return bytes.fromhex(digits)


def community_id_digits(value: bytes) -> str:
    digits = value.hex()
    if not digits.isdigit():
        raise DataGroupError(f"community ID {digits} is not BCD")
    return digits
