"""PC/SC part 10 reader features — pure encoding and decoding, no I/O.

What a reader offers beyond SCardTransmit is reached through SCardControl (``cardreader.pcsc`` sends
these bytes):

- GET_FEATURE_REQUEST (PC/SC part 10 v2.02 §2.2): a list of 6-byte entries, tag ‖ 04 ‖ control code
  (big-endian), one per feature.
- FEATURE_GET_TLV_PROPERTIES (part 10 §2.6.14): tag ‖ length ‖ value, integers little-endian.
- FEATURE_EXECUTE_PACE (part 10 amendment 1; BSI TR-03119 appendix D.2): PACE run by the reader, so that
  the PIN typed on its PIN pad never reaches the computer. Command: function ‖ length (2, LE) ‖ input;
  response: result (4, LE) ‖ length (2, LE) ‖ output.
- FEATURE_VERIFY_PIN_DIRECT / FEATURE_MODIFY_PIN_DIRECT (part 10 §2.5.2/§2.5.3; pcsc-lite reader.h
  PIN_VERIFY_STRUCTURE / PIN_MODIFY_STRUCTURE): the reader asks for the PIN on its own key pad and puts it
  into the APDU it sends to the card.

Results that mean "wrong password" are turned into the card errors of :mod:`eid.status`; reader-level
failures into :mod:`cardreader.errors`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

from cardreader.errors import (
    CardRemoved,
    MalformedReaderData,
    NoCard,
    PinEntryCancelled,
    PinEntryTimeout,
    PinPadInputRejected,
    ReaderPaceFailed,
)
from eid.status import PinBlocked, PinDeactivated, PinSuspended, error_for_status


class Feature(IntEnum):
    """Feature tags of GET_FEATURE_REQUEST (PC/SC part 10 v2.02.07, amendment 1 for EXECUTE_PACE)."""

    VERIFY_PIN_START = 0x01
    VERIFY_PIN_FINISH = 0x02
    MODIFY_PIN_START = 0x03
    MODIFY_PIN_FINISH = 0x04
    GET_KEY_PRESSED = 0x05
    VERIFY_PIN_DIRECT = 0x06
    MODIFY_PIN_DIRECT = 0x07
    MCT_READER_DIRECT = 0x08
    MCT_UNIVERSAL = 0x09
    IFD_PIN_PROPERTIES = 0x0A
    ABORT = 0x0B
    SET_SPE_MESSAGE = 0x0C
    VERIFY_PIN_DIRECT_APP_ID = 0x0D
    MODIFY_PIN_DIRECT_APP_ID = 0x0E
    WRITE_DISPLAY = 0x0F
    GET_KEY = 0x10
    IFD_DISPLAY_PROPERTIES = 0x11
    GET_TLV_PROPERTIES = 0x12
    CCID_ESC_COMMAND = 0x13
    EXECUTE_PACE = 0x20


class TlvProperty(IntEnum):
    """Tags of FEATURE_GET_TLV_PROPERTIES (PC/SC part 10 §2.6.14)."""

    LCD_LAYOUT = 0x01
    ENTRY_VALIDATION_CONDITION = 0x02
    TIMEOUT2 = 0x03
    LCD_MAX_CHARACTERS = 0x04
    LCD_MAX_LINES = 0x05
    MIN_PIN_SIZE = 0x06
    MAX_PIN_SIZE = 0x07
    FIRMWARE_ID = 0x08
    PPDU_SUPPORT = 0x09
    MAX_APDU_DATA_SIZE = 0x0A
    VENDOR_ID = 0x0B
    PRODUCT_ID = 0x0C


class PasswordId(IntEnum):
    """PACE password references (TR-03110-3 §D.3; EstablishPACEChannel's PinID)."""

    MRZ = 1
    CAN = 2
    PIN = 3
    PUK = 4


class PaceFunction(IntEnum):
    """idxFunction of FEATURE_EXECUTE_PACE (PC/SC part 10 amendment 1)."""

    GET_READER_PACE_CAPABILITIES = 0x01
    ESTABLISH_PACE_CHANNEL = 0x02
    DESTROY_PACE_CHANNEL = 0x03


def _feature(tag: int) -> Feature | int:
    try:
        return Feature(tag)
    except ValueError:
        return tag


def parse_feature_list(data: bytes) -> dict[Feature | int, int]:
    """GET_FEATURE_REQUEST output → {feature tag: control code}. Unknown tags are kept as plain ints."""
    if len(data) % 6:
        raise MalformedReaderData(f"feature list of {len(data)} bytes is not a sequence of 6-byte entries")
    features: dict[Feature | int, int] = {}
    for offset in range(0, len(data), 6):
        tag, length = data[offset], data[offset + 1]
        if length != 4:
            raise MalformedReaderData(f"feature 0x{tag:02X} has a control code of {length} bytes, not 4")
        features[_feature(tag)] = int.from_bytes(data[offset + 2 : offset + 6], "big")
    return features


def encode_feature_list(features: dict[Feature | int, int]) -> bytes:
    return b"".join(bytes([int(tag), 4]) + code.to_bytes(4, "big") for tag, code in features.items())


def parse_tlv_properties(data: bytes) -> dict[TlvProperty | int, int | bytes]:
    """FEATURE_GET_TLV_PROPERTIES output. Integers are little-endian; the firmware ID stays bytes."""
    properties: dict[TlvProperty | int, int | bytes] = {}
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise MalformedReaderData("TLV property list ends inside a tag and length")
        tag, length = data[offset], data[offset + 1]
        value = data[offset + 2 : offset + 2 + length]
        if len(value) != length:
            raise MalformedReaderData(f"TLV property 0x{tag:02X} claims {length} bytes, {len(value)} follow")
        try:
            key: TlvProperty | int = TlvProperty(tag)
        except ValueError:
            key = tag
        properties[key] = value if key == TlvProperty.FIRMWARE_ID else int.from_bytes(value, "little")
        offset += 2 + length
    return properties


# --- FEATURE_EXECUTE_PACE ------------------------------------------------------------------------

def execute_pace_command(function: PaceFunction, input_data: bytes = b"") -> bytes:
    """The SCardControl input for FEATURE_EXECUTE_PACE: idxFunction ‖ lengthInputData (LE) ‖ data."""
    if len(input_data) > 0xFFFF:
        raise ValueError("EXECUTE_PACE input data longer than 65535 bytes")
    return bytes([function]) + struct.pack("<H", len(input_data)) + input_data


@dataclass(frozen=True, slots=True)
class ExecutePaceResponse:
    """dwResult (LE) ‖ wLengthOutputData (LE) ‖ abOutputData."""

    result: int
    output: bytes

    @classmethod
    def parse(cls, data: bytes) -> ExecutePaceResponse:
        if len(data) < 6:
            raise MalformedReaderData(f"EXECUTE_PACE answer of {len(data)} bytes is shorter than its header")
        result, length = struct.unpack_from("<IH", data)
        if len(data) != 6 + length:
            raise MalformedReaderData(
                f"EXECUTE_PACE answer announces {length} bytes of output, {len(data) - 6} follow"
            )
        return cls(result, bytes(data[6:]))

    def encode(self) -> bytes:
        return struct.pack("<IH", self.result, len(self.output)) + self.output


@dataclass(frozen=True, slots=True)
class PaceCapabilities:
    """GetReaderPACECapabilities: the reader's bit map (PC/SC part 10 amendment 1; TR-03119 D.1.1)."""

    pace: bool
    eid: bool
    esign: bool
    destroy: bool

    PACE = 0x40
    EID = 0x20
    ESIGN = 0x10
    DESTROY = 0x80

    @classmethod
    def parse(cls, output: bytes) -> PaceCapabilities:
        """Amendment 1 specifies bLengthCapabilities ‖ bmCapabilities; REINER SCT readers send only the
        bit map (noted in AusweisApp's PcscReaderPaceCapability). Both are accepted."""
        if len(output) == 1:
            bitmap = output[0]
        elif len(output) == 2 and output[0] == 1:
            bitmap = output[1]
        else:
            raise MalformedReaderData(f"PACE capabilities of {len(output)} bytes: {output.hex()}")
        return cls(
            pace=bool(bitmap & cls.PACE),
            eid=bool(bitmap & cls.EID),
            esign=bool(bitmap & cls.ESIGN),
            destroy=bool(bitmap & cls.DESTROY),
        )

    @property
    def bitmap(self) -> int:
        return ((self.PACE if self.pace else 0) | (self.EID if self.eid else 0)
                | (self.ESIGN if self.esign else 0) | (self.DESTROY if self.destroy else 0))


@dataclass(frozen=True, slots=True)
class EstablishPaceChannelInput:
    """EstablishPACEChannel InputData (PC/SC part 10 amendment 1, extended by TR-03119 D.2).

    ``password`` is empty when the citizen types it on the reader's PIN pad (the only allowed way for a
    PIN or PUK on a certified reader); a CAN may be passed in. It never shows in ``repr``.
    """

    password_id: PasswordId
    chat: bytes = b""
    password: bytes = field(default=b"", repr=False)
    certificate_description: bytes = b""
    hash_oid: bytes = b""
    """TR-03119's optional HashOID of the certificate description (DER content); SHA-256 when absent."""

    def encode(self) -> bytes:
        if len(self.chat) > 0xFF or len(self.password) > 0xFF:
            raise ValueError("CHAT and password are limited to 255 bytes")
        out = bytes([self.password_id, len(self.chat)]) + self.chat
        out += bytes([len(self.password)]) + self.password
        out += struct.pack("<H", len(self.certificate_description)) + self.certificate_description
        if self.hash_oid:
            out += struct.pack("<H", len(self.hash_oid)) + self.hash_oid
        return out

    def command(self) -> bytes:
        """The whole SCardControl input for FEATURE_EXECUTE_PACE."""
        return execute_pace_command(PaceFunction.ESTABLISH_PACE_CHANNEL, self.encode())

    @classmethod
    def parse(cls, data: bytes) -> EstablishPaceChannelInput:
        reader = _Reader(data, "EstablishPACEChannel input")
        try:
            password_id = PasswordId(reader.u8())
        except ValueError as error:
            raise MalformedReaderData(f"unknown PACE password ID: {error}") from None
        chat = reader.take(reader.u8())
        password = reader.take(reader.u8())
        description = reader.take(reader.u16())
        hash_oid = reader.take(reader.u16()) if reader.remaining else b""
        reader.end()
        return cls(password_id, chat, password, description, hash_oid)


@dataclass(frozen=True, slots=True)
class EstablishPaceChannelOutput:
    """EstablishPACEChannel OutputData (PC/SC part 10 amendment 1).

    The CARs and ID_ICC are present when PACE is to be followed by Terminal Authentication v2 (a CHAT was
    given); ``id_icc`` is what TR-03110 calls ID_PICC, the card's compressed ephemeral PACE key.
    """

    mse_set_at_status: int
    ef_card_access: bytes
    car_current: str | None = None
    car_previous: str | None = None
    id_icc: bytes = b""

    @classmethod
    def parse(cls, output: bytes) -> EstablishPaceChannelOutput:
        reader = _Reader(output, "EstablishPACEChannel output")
        status = int.from_bytes(reader.take(2), "big")
        card_access = reader.take(reader.u16())
        if not reader.remaining:
            return cls(status, card_access)
        car_current = reader.take(reader.u8())
        car_previous = reader.take(reader.u8())
        id_icc = reader.take(reader.u16())
        reader.end()
        return cls(status, card_access, _car(car_current), _car(car_previous), id_icc)

    def encode(self) -> bytes:
        out = self.mse_set_at_status.to_bytes(2, "big")
        out += struct.pack("<H", len(self.ef_card_access)) + self.ef_card_access
        if self.car_current is None and self.car_previous is None and not self.id_icc:
            return out
        current = (self.car_current or "").encode("latin-1")
        previous = (self.car_previous or "").encode("latin-1")
        out += bytes([len(current)]) + current + bytes([len(previous)]) + previous
        return out + struct.pack("<H", len(self.id_icc)) + self.id_icc

    @property
    def pin_tries_left(self) -> int | None:
        """What MSE:Set AT said about the PIN (TR-03110-3 §B.14.1): 63C2 → 2 … 63C0 → 0; else None."""
        if self.mse_set_at_status & 0xFFF0 == 0x63C0:
            return self.mse_set_at_status & 0x0F
        return None


def _car(raw: bytes) -> str | None:
    if not raw:
        return None
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise MalformedReaderData(f"certification authority reference {raw.hex()} is not ASCII") from None


_PACE_INPUT_ERRORS = {
    0xD0000001: "inconsistent lengths in the request",
    0xD0000002: "unexpected data in the request",
    0xD0000003: "unexpected combination of data in the request",
    0xE0000001: "syntax error in the card's TLV answer",
    0xE0000002: "unexpected or missing object in the card's answer",
    0xE0000003: "unknown password type",
    0xE0000006: "wrong authentication token from the card",
    0xE0000007: "the certificate chain for terminal authentication cannot be built",
    0xE0000008: "unexpected answer to chip authentication",
    0xE0000009: "passive authentication failed",
    0xE000000A: "incorrect chip authentication token",
    0xF0200003: "the card has no active PIN",
}

_PACE_CARD_STEPS = {
    0xF000: "SELECT EF.CardAccess",
    0xF001: "READ BINARY EF.CardAccess",
    0xF002: "MSE:Set AT",
    0xF003: "GENERAL AUTHENTICATE step 1",
    0xF004: "GENERAL AUTHENTICATE step 2",
    0xF005: "GENERAL AUTHENTICATE step 3",
    0xF006: "GENERAL AUTHENTICATE step 4",
}


def pace_result_error(result: int, reader: str, password_id: PasswordId) -> Exception | None:
    """The error a non-zero EstablishPACEChannel dwResult stands for (TR-03119 D.1.2), or None for 0.

    A card's status word inside the result (0xF00xSW1SW2) becomes the card error of :mod:`eid.status`,
    e.g. 0xF00663C1 → WrongPin(tries_left=1); MSE:Set AT's PIN states become PinSuspended, PinBlocked or
    PinDeactivated.
    """
    if result == 0:
        return None
    if result in _PACE_INPUT_ERRORS:
        return ReaderPaceFailed(_PACE_INPUT_ERRORS[result], result)
    if result == 0xF0100001:
        return CardRemoved(reader, result)
    if result == 0xF0100002:
        return NoCard(reader, result)
    if result == 0xF0200001:
        return PinEntryCancelled(result)
    if result == 0xF0200002:
        return PinEntryTimeout(result)
    step, sw = result >> 16, result & 0xFFFF
    if step == 0xF002 and password_id == PasswordId.PIN:
        if sw == 0x63C1:
            return PinSuspended(sw)
        if sw == 0x63C0:
            return PinBlocked(sw)
    if step == 0xF002 and sw == 0x6283:
        return PinDeactivated(sw)
    if step in _PACE_CARD_STEPS:
        return error_for_status(sw, f"{_PACE_CARD_STEPS[step]} in the card reader")
    if 0xF800 <= step <= 0xF80C:
        return ReaderPaceFailed(f"the card refused step {step - 0xF800} of terminal or chip authentication "
                                f"with status {sw:04X}", result)
    return ReaderPaceFailed(f"reader result 0x{result:08X}", result)


# --- FEATURE_VERIFY_PIN_DIRECT / FEATURE_MODIFY_PIN_DIRECT ------------------------------------------

@dataclass(frozen=True, slots=True)
class PinVerifyStructure:
    """PIN_VERIFY_STRUCTURE (PC/SC part 10 §2.5.2; pcsc-lite reader.h). Multi-byte fields little-endian.

    ``apdu`` is the command the reader completes with the typed PIN, e.g. VERIFY 00 20 00 03 with a PIN
    block that the format fields describe.
    """

    apdu: bytes
    min_pin_size: int
    max_pin_size: int
    format_string: int = 0x82
    """bmFormatString: 0x82 = system unit byte, PIN left-justified, ASCII."""
    pin_block_string: int = 0x00
    pin_length_format: int = 0x00
    timeout: int = 0
    timeout_after_first_key: int = 0
    entry_validation_condition: int = 0x02
    """0x02 = the citizen presses the validation key."""
    number_message: int = 0x01
    lang_id: int = 0x0407
    msg_index: int = 0x00

    _LAYOUT = "<5BH2BHB3sI"
    """bTimerOut … bMsgIndex, bTeoPrologue, ulDataLength; the APDU follows."""

    def encode(self) -> bytes:
        return _encode_pin_structure(self._LAYOUT, self.apdu, (
            self.timeout, self.timeout_after_first_key, self.format_string, self.pin_block_string,
            self.pin_length_format, (self.min_pin_size << 8) | self.max_pin_size,
            self.entry_validation_condition, self.number_message, self.lang_id, self.msg_index))

    @classmethod
    def parse(cls, data: bytes) -> PinVerifyStructure:
        fields, apdu = _parse_pin_structure(cls._LAYOUT, data, "PIN_VERIFY_STRUCTURE")
        timeout, timeout2, fmt, block, length_format, extra, condition, messages, lang, index = fields
        return cls(apdu, extra >> 8, extra & 0xFF, fmt, block, length_format, timeout, timeout2, condition,
                   messages, lang, index)


@dataclass(frozen=True, slots=True)
class PinModifyStructure:
    """PIN_MODIFY_STRUCTURE (PC/SC part 10 §2.5.3; pcsc-lite reader.h). Multi-byte fields little-endian.

    For the ID card after PACE with the PIN: RESET RETRY COUNTER 00 2C 02 03 with the new PIN typed
    (twice) on the reader (TR-03119 D.1.4).
    """

    apdu: bytes
    min_pin_size: int
    max_pin_size: int
    format_string: int = 0x82
    pin_block_string: int = 0x00
    pin_length_format: int = 0x00
    insertion_offset_old: int = 0x00
    insertion_offset_new: int = 0x00
    confirm_pin: int = 0x01
    """bit 0: the new PIN is typed twice; bit 1: the current PIN is typed too."""
    timeout: int = 0
    timeout_after_first_key: int = 0
    entry_validation_condition: int = 0x02
    number_message: int = 0x02
    lang_id: int = 0x0407
    msg_index1: int = 0x00
    msg_index2: int = 0x01
    msg_index3: int = 0x02

    _LAYOUT = "<7BH3BH3B3sI"

    def encode(self) -> bytes:
        return _encode_pin_structure(self._LAYOUT, self.apdu, (
            self.timeout, self.timeout_after_first_key, self.format_string, self.pin_block_string,
            self.pin_length_format, self.insertion_offset_old, self.insertion_offset_new,
            (self.min_pin_size << 8) | self.max_pin_size, self.confirm_pin, self.entry_validation_condition,
            self.number_message, self.lang_id, self.msg_index1, self.msg_index2, self.msg_index3))

    @classmethod
    def parse(cls, data: bytes) -> PinModifyStructure:
        fields, apdu = _parse_pin_structure(cls._LAYOUT, data, "PIN_MODIFY_STRUCTURE")
        (timeout, timeout2, fmt, block, length_format, offset_old, offset_new, extra, confirm, condition,
         messages, lang, index1, index2, index3) = fields
        return cls(apdu, extra >> 8, extra & 0xFF, fmt, block, length_format, offset_old, offset_new, confirm,
                   timeout, timeout2, condition, messages, lang, index1, index2, index3)


def _encode_pin_structure(layout: str, apdu: bytes, fields: tuple[int, ...]) -> bytes:
    return struct.pack(layout, *fields, b"\x00\x00\x00", len(apdu)) + apdu


def _parse_pin_structure(layout: str, data: bytes, what: str) -> tuple[tuple[int, ...], bytes]:
    size = struct.calcsize(layout)
    if len(data) < size:
        raise MalformedReaderData(f"{what} ends after {len(data)} of its {size} header bytes")
    *fields, _prologue, length = struct.unpack_from(layout, data)
    if len(data) != size + length:
        raise MalformedReaderData(f"{what} announces an APDU of {length} bytes, {len(data) - size} follow")
    return tuple(fields), bytes(data[size:])


def pin_pad_error(sw: int) -> Exception | None:
    """The error a VERIFY/MODIFY_PIN_DIRECT status word stands for; None for 9000.

    64xx are the reader's own (entry timeout, cancel, mismatching or wrong-length new PIN); anything else
    came from the card and maps through :mod:`eid.status`.
    """
    if sw == 0x9000:
        return None
    if sw == 0x6400:
        return PinEntryTimeout(sw)
    if sw == 0x6401:
        return PinEntryCancelled(sw)
    if sw == 0x6402:
        return PinPadInputRejected("the two new PINs were not the same", sw)
    if sw == 0x6403:
        return PinPadInputRejected("the new PIN has the wrong number of digits", sw)
    return error_for_status(sw, "PIN pad command")


class _Reader:
    """Little-endian field reader that reports truncation as MalformedReaderData."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data = bytes(data)
        self.offset = 0
        self.what = what

    @property
    def remaining(self) -> int:
        return len(self.data) - self.offset

    def take(self, count: int) -> bytes:
        if count > self.remaining:
            raise MalformedReaderData(f"{self.what} ends after {len(self.data)} bytes, "
                                      f"{count} more were announced at offset {self.offset}")
        chunk = self.data[self.offset : self.offset + count]
        self.offset += count
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "little")

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "little")

    def end(self) -> None:
        if self.remaining:
            raise MalformedReaderData(f"{self.what} has {self.remaining} unexpected bytes at its end")
