"""PACE — Password Authenticated Connection Establishment, both roles.

BSI TR-03110-2 §3.2, TR-03110-3 §A.3 and §B.1, ICAO Doc 9303-11 §4.4. Supported: ECDH with the
Generic Mapping and AES-128/192/256 (id-PACE-ECDH-GM-AES-CBC-CMAC-*), on every standardized curve of
:mod:`eid.domain_parameters`; passwords MRZ, CAN, PIN and PUK; a CHAT in MSE:Set AT when Terminal
Authentication version 2 follows.

Each role is a chain of typed steps named after the protocol:

    terminal  start() → SetAuthenticationTemplate → EncryptedNonce → MapNonce → KeyAgreement
              → MutualAuthentication → PaceResult
    chip      chip_start() → ChipEncryptedNonce → ChipMapNonce → ChipKeyAgreement
              → ChipMutualAuthentication → ChipPaceResult

A terminal step carries the ``command`` to send and turns the chip's response into the next step with
``receive(response)``; a chip step turns the terminal's dynamic authentication data into the response
data and the next step with ``respond(data)``. Commands are plain: when PACE runs inside an existing
secure-messaging session (PIN after CAN), the caller protects them.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass, field, replace

from eid import authentication_token, cipher, dynamic_authentication_data, ec, key_agreement, oid
from eid.apdu import SHORT_MAX_NE, CommandApdu, ResponseApdu
from eid.domain_parameters import Curve, by_standardized_id
from eid.ec import Point
from eid.errors import EidError, MalformedData, VerificationFailed
from eid.key_agreement import KeyPair, Rng
from eid.key_derivation import COUNTER_PASSWORD, SessionKeys, aes_key_length, kdf, session_keys
from eid.status import PinBlocked, PinDeactivated, PinSuspended, WrongPin, error_for_status
from eid.tlv import Tlv, TlvError, decode_all, encode

CLA_PLAIN = 0x00
CLA_CHAINING = 0x10
INS_MSE = 0x22
INS_GENERAL_AUTHENTICATE = 0x86
P1P2_SET_AT_PACE = (0xC1, 0xA4)

TAG_MECHANISM = 0x80
TAG_PASSWORD_REFERENCE = 0x83
TAG_PARAMETER_ID = 0x84
TAG_CHAT = 0x7F4C
TAG_ENCRYPTED_NONCE = 0x80
TAG_MAPPING_PCD = 0x81
TAG_MAPPING_PICC = 0x82
TAG_EPHEMERAL_PCD = 0x83
TAG_EPHEMERAL_PICC = 0x84
TAG_TOKEN_PCD = 0x85
TAG_TOKEN_PICC = 0x86
TAG_CAR = 0x87
TAG_PREVIOUS_CAR = 0x88


class PaceError(MalformedData):
    """A PACE message that does not have the expected form."""


class PaceAuthenticationFailed(VerificationFailed):
    """The peer's authentication token is wrong: it does not know the password."""


class InvalidPassword(EidError):
    """A password that cannot be of its type (wrong length or characters)."""


class PasswordType(enum.IntEnum):
    """Password references of MSE:Set AT (TR-03110-3 §B.14.1, tag 83)."""

    MRZ = 1
    CAN = 2
    PIN = 3
    PUK = 4


_PASSWORD_FORMS = {
    PasswordType.CAN: re.compile(r"[0-9]{6}"),
    PasswordType.PIN: re.compile(r"[0-9]{5,6}"),
    PasswordType.PUK: re.compile(r"[0-9]{10}"),
    PasswordType.MRZ: re.compile(r"[0-9A-Z<]{1,90}"),
}


def mrz_check_digit(field_value: str) -> str:
    """ICAO Doc 9303-3 §4.9: weights 7, 3, 1; letters A=10 … Z=35, filler < = 0."""
    total = 0
    for i, char in enumerate(field_value):
        if char.isdigit():
            value = int(char)
        elif "A" <= char <= "Z":
            value = ord(char) - ord("A") + 10
        elif char == "<":
            value = 0
        else:
            raise InvalidPassword(f"{char!r} cannot occur in a machine readable zone")
        total += value * (7, 3, 1)[i % 3]
    return str(total % 10)


@dataclass(frozen=True, slots=True)
class Password:
    """A PACE password. The value never appears in a repr or log line."""

    type: PasswordType
    value: str = field(repr=False)

    def __post_init__(self) -> None:
        if not _PASSWORD_FORMS[self.type].fullmatch(self.value):
            raise InvalidPassword(f"not a valid {self.type.name}")

    @classmethod
    def from_mrz(cls, document_number: str, date_of_birth: str, date_of_expiry: str) -> Password:
        """The MRZ password from its three fields (dates YYMMDD); check digits are added."""
        number = document_number.upper().ljust(9, "<")
        info = "".join(f + mrz_check_digit(f) for f in (number, date_of_birth, date_of_expiry))
        return cls(PasswordType.MRZ, info)

    @property
    def transport_pin(self) -> bool:
        return self.type is PasswordType.PIN and len(self.value) == 5

    def encoded(self) -> bytes:
        """f(π) of TR-03110-3 table 5: SHA-1 of the MRZ information, else the ISO 8859-1 characters."""
        raw = self.value.encode("latin-1")
        return hashlib.sha1(raw).digest() if self.type is PasswordType.MRZ else raw


def password_key(password: Password, key_length: int) -> bytes:
    """K_π = KDF_π(π) = KDF(f(π), 3)."""
    return kdf(password.encoded(), COUNTER_PASSWORD, key_length)


@dataclass(frozen=True, slots=True)
class PaceParameters:
    """The protocol (OID of PACEInfo) and standardized domain parameters (parameterId) PACE runs with."""

    protocol: str
    parameter_id: int

    def __post_init__(self) -> None:
        aes_key_length(self.protocol)
        by_standardized_id(self.parameter_id)

    @property
    def curve(self) -> Curve:
        return by_standardized_id(self.parameter_id)

    @property
    def key_length(self) -> int:
        return aes_key_length(self.protocol)


@dataclass(frozen=True, slots=True)
class PaceSelection:
    """What MSE:Set AT selects for PACE (TR-03110-3 §B.1, §B.14.1): its data field."""

    protocol: str
    password_type: PasswordType
    parameter_id: int | None = None
    chat: bytes | None = None
    """The complete 7F4C data object, if Terminal Authentication version 2 follows."""

    def encode(self) -> bytes:
        parts = [encode(TAG_MECHANISM, oid.encode_value(self.protocol)),
                 encode(TAG_PASSWORD_REFERENCE, bytes([self.password_type]))]
        if self.parameter_id is not None:
            parts.append(encode(TAG_PARAMETER_ID, bytes([self.parameter_id])))
        if self.chat is not None:
            parts.append(self.chat)
        return b"".join(parts)

    def command(self) -> CommandApdu:
        return CommandApdu(CLA_PLAIN, INS_MSE, *P1P2_SET_AT_PACE, self.encode())

    @classmethod
    def parse(cls, data: bytes) -> PaceSelection:
        """The chip side: data objects in any order, as TR-03110-3 §B.14 recommends accepting."""
        try:
            objects = decode_all(data)
        except TlvError as exc:
            raise PaceError(f"MSE:Set AT data is not TLV: {exc}") from None
        found: dict[int, Tlv] = {}
        for obj in objects:
            if obj.tag in found:
                raise PaceError(f"MSE:Set AT repeats tag {obj.tag:X}")
            found[obj.tag] = obj
        if TAG_MECHANISM not in found or TAG_PASSWORD_REFERENCE not in found:
            raise PaceError("MSE:Set AT for PACE needs a mechanism (80) and a password reference (83)")
        try:
            password_type = PasswordType(int.from_bytes(found[TAG_PASSWORD_REFERENCE].value, "big"))
        except ValueError:
            raise PaceError("unknown password reference") from None
        if len(found[TAG_PASSWORD_REFERENCE].value) != 1:
            raise PaceError("password reference must be one byte")
        parameter = found.get(TAG_PARAMETER_ID)
        if parameter is not None and len(parameter.value) != 1:
            raise PaceError("domain parameter reference must be one byte")
        chat = found.get(TAG_CHAT)
        return cls(
            protocol=oid.decode_value(found[TAG_MECHANISM].value),
            password_type=password_type,
            parameter_id=parameter.value[0] if parameter is not None else None,
            chat=chat.encode() if chat is not None else None,
        )


def _general_authenticate(data: bytes, last: bool) -> CommandApdu:
    return CommandApdu(CLA_PLAIN if last else CLA_CHAINING, INS_GENERAL_AUTHENTICATE, 0, 0,
                       dynamic_authentication_data.build(data), SHORT_MAX_NE)


def parse_dynamic_data(data: bytes, required: tuple[int, ...], optional: tuple[int, ...] = ()) -> dict[int, bytes]:
    return dynamic_authentication_data.parse(data, required, optional, PaceError)


def _point(curve: Curve, data: bytes, what: str) -> Point:
    try:
        return ec.decode_point(curve, data)
    except ec.InvalidPoint as exc:
        raise PaceError(f"{what}: {exc}") from None


def _check_response(response: ResponseApdu, step: str) -> bytes:
    if response.sw != 0x9000:
        sw = response.sw
        if sw == 0x6983:
            raise PinBlocked(sw, step)
        if sw == 0x6984:
            raise PinDeactivated(sw, step)
        if sw == 0x6985:
            raise PinSuspended(sw, step)
        raise error_for_status(sw, step)
    return response.data


def map_generator(curve: Curve, nonce: int, mapping_private: int, peer_mapping_public: Point) -> tuple[Point, Point]:
    """Generic Mapping (TR-03110-3 §A.3.4.1): H = SK·PK_peer, G' = s·G + H. Returns (H, G')."""
    h = key_agreement.shared_point(curve, mapping_private, peer_mapping_public)
    mapped = ec.add(curve, key_agreement.multiply_generator(curve, nonce), h)
    if mapped is None:
        raise PaceError("the mapped generator is the point at infinity")
    return h, mapped


# ---------------------------------------------------------------- terminal (PCD) side


@dataclass(frozen=True, slots=True)
class PaceResult:
    """What PACE leaves the terminal with."""

    parameters: PaceParameters
    password_type: PasswordType
    keys: SessionKeys
    id_picc: bytes
    """Comp(PK_PICC): the x-coordinate of the chip's ephemeral key — Terminal Authentication signs it."""
    pcd_public: bytes
    picc_public: bytes
    cars: tuple[str, ...] = ()
    """Certification Authority References the chip returned (most recent first)."""
    tries_left: int | None = None
    """The retry counter MSE:Set AT reported as a warning (63CX), if any."""


@dataclass(frozen=True, slots=True)
class TerminalContext:
    """What every terminal step carries along."""

    parameters: PaceParameters
    password_type: PasswordType
    rng: Rng = field(repr=False, compare=False)
    tries_left: int | None = None


def start(parameters: PaceParameters, password: Password, rng: Rng, chat: bytes | None = None,
          send_parameter_id: bool = True) -> SetAuthenticationTemplate:
    """The terminal's first step: MSE:Set AT selecting the protocol, password and (optionally) a CHAT."""
    template = PaceSelection(parameters.protocol, password.type,
                             parameters.parameter_id if send_parameter_id else None, chat)
    return SetAuthenticationTemplate(TerminalContext(parameters, password.type, rng), password, template)


def pin_retry_counter(sw: int) -> int | None:
    """What MSE:Set AT selecting PACE with the PIN answers about the PIN (TR-03110-2 §3.5.1): None while its
    retry counter is untouched (9000), else the counter (63CX: 2 after one wrong PIN, 1 suspended — the CAN
    first). A blocked (63C0) or deactivated (6283) PIN raises PinBlocked or PinDeactivated. An eID client sends
    this MSE:Set AT alone to learn the PIN's state before it asks for the PIN (AusweisApp does)."""
    if sw == 0x9000:
        return None
    if sw & 0xFFF0 == 0x63C0:
        if sw == 0x63C0:
            raise PinBlocked(sw, "MSE:Set AT")
        return sw & 0x0F
    if sw == 0x6283:
        raise PinDeactivated(sw, "MSE:Set AT")
    raise error_for_status(sw, "MSE:Set AT")


@dataclass(frozen=True, slots=True)
class SetAuthenticationTemplate:
    context: TerminalContext
    password: Password = field(repr=False)
    template: PaceSelection

    @property
    def command(self) -> CommandApdu:
        return self.template.command()

    def receive(self, response: ResponseApdu) -> EncryptedNonce:
        tries_left = None
        sw = response.sw
        if self.password.type is PasswordType.PIN:
            tries_left = pin_retry_counter(sw)
        elif sw & 0xFFF0 == 0x63C0:
            tries_left = sw & 0x0F
        elif sw != 0x9000:
            raise error_for_status(sw, "MSE:Set AT")
        context = replace(self.context, tries_left=tries_left)
        return EncryptedNonce(context, password_key(self.password, context.parameters.key_length))


@dataclass(frozen=True, slots=True)
class EncryptedNonce:
    context: TerminalContext
    password_key: bytes = field(repr=False)

    @property
    def command(self) -> CommandApdu:
        return _general_authenticate(b"", last=False)

    def receive(self, response: ResponseApdu) -> MapNonce:
        data = _check_response(response, "PACE encrypted nonce")
        z = parse_dynamic_data(data, (TAG_ENCRYPTED_NONCE,))[TAG_ENCRYPTED_NONCE]
        if not z or len(z) % cipher.BLOCK_SIZE:
            raise PaceError("encrypted nonce is not a whole number of AES blocks")
        s = int.from_bytes(cipher.decrypt_cbc(self.password_key, z), "big")
        return MapNonce(self.context, s, key_agreement.generate(self.context.parameters.curve, self.context.rng))


@dataclass(frozen=True, slots=True)
class MapNonce:
    context: TerminalContext
    nonce: int = field(repr=False)
    mapping_key: KeyPair

    @property
    def command(self) -> CommandApdu:
        return _general_authenticate(encode(TAG_MAPPING_PCD, self.mapping_key.public_bytes), last=False)

    def receive(self, response: ResponseApdu) -> KeyAgreement:
        data = _check_response(response, "PACE map nonce")
        curve = self.context.parameters.curve
        picc_mapping = _point(curve, parse_dynamic_data(data, (TAG_MAPPING_PICC,))[TAG_MAPPING_PICC],
                              "chip's mapping key")
        if picc_mapping == self.mapping_key.public:
            raise PaceError("the chip echoed the terminal's mapping key")
        _, mapped = map_generator(curve, self.nonce, self.mapping_key.private, picc_mapping)
        return KeyAgreement(self.context, mapped, key_agreement.generate(curve, self.context.rng, mapped))


@dataclass(frozen=True, slots=True)
class KeyAgreement:
    context: TerminalContext
    mapped_generator: Point
    ephemeral_key: KeyPair

    @property
    def command(self) -> CommandApdu:
        return _general_authenticate(encode(TAG_EPHEMERAL_PCD, self.ephemeral_key.public_bytes), last=False)

    def receive(self, response: ResponseApdu) -> MutualAuthentication:
        data = _check_response(response, "PACE key agreement")
        parameters = self.context.parameters
        curve = parameters.curve
        picc_bytes = parse_dynamic_data(data, (TAG_EPHEMERAL_PICC,))[TAG_EPHEMERAL_PICC]
        picc_public = _point(curve, picc_bytes, "chip's ephemeral key")
        if picc_public == self.ephemeral_key.public:
            raise PaceError("the chip echoed the terminal's ephemeral key")
        secret = key_agreement.shared_secret(curve, self.ephemeral_key.private, picc_public)
        return MutualAuthentication(self.context, session_keys(secret, parameters.key_length),
                                    self.ephemeral_key.public_bytes, ec.encode_point(curve, picc_public))


@dataclass(frozen=True, slots=True)
class MutualAuthentication:
    context: TerminalContext
    keys: SessionKeys
    pcd_public: bytes
    picc_public: bytes

    @property
    def token(self) -> bytes:
        """T_PCD, computed over the chip's ephemeral public key."""
        return authentication_token.compute(self.keys.k_mac, self.context.parameters.protocol, self.picc_public)

    @property
    def command(self) -> CommandApdu:
        return _general_authenticate(encode(TAG_TOKEN_PCD, self.token), last=True)

    def receive(self, response: ResponseApdu) -> PaceResult:
        context = self.context
        if response.sw & 0xFFF0 == 0x63C0:
            raise WrongPin(response.sw & 0x0F, response.sw, f"PACE with {context.password_type.name}")
        data = _check_response(response, "PACE mutual authentication")
        values = parse_dynamic_data(data, (TAG_TOKEN_PICC,), (TAG_CAR, TAG_PREVIOUS_CAR))
        protocol = context.parameters.protocol
        if not authentication_token.matches(values[TAG_TOKEN_PICC], self.keys.k_mac, protocol, self.pcd_public):
            raise PaceAuthenticationFailed("the chip's authentication token T_PICC is wrong")
        cars = tuple(values[tag].decode("latin-1") for tag in (TAG_CAR, TAG_PREVIOUS_CAR) if tag in values)
        curve = context.parameters.curve
        return PaceResult(context.parameters, context.password_type, self.keys,
                          key_agreement.compress(curve, ec.decode_point(curve, self.picc_public)),
                          self.pcd_public, self.picc_public, cars, context.tries_left)


# ---------------------------------------------------------------- chip (PICC) side


@dataclass(frozen=True, slots=True)
class ChipPaceResult:
    """What PACE leaves the chip with; ``chat`` is the CHAT the terminal asked for (7F4C, or None)."""

    parameters: PaceParameters
    password_type: PasswordType
    keys: SessionKeys
    id_picc: bytes
    pcd_public: bytes
    chat: bytes | None


@dataclass(frozen=True, slots=True)
class ChipContext:
    """What every chip step carries along: the CHAT asked for and the CARs to answer with."""

    parameters: PaceParameters
    password_type: PasswordType
    rng: Rng = field(repr=False, compare=False)
    chat: bytes | None = None
    cars: tuple[str, ...] = ()


def chip_start(template: PaceSelection, parameters: PaceParameters, password: Password, rng: Rng,
               cars: tuple[str, ...] = ()) -> ChipEncryptedNonce:
    """The chip after accepting MSE:Set AT: ``password`` is the stored password of the selected type,
    ``cars`` the CVCA references to return if a CHAT was given."""
    if template.protocol != parameters.protocol:
        raise PaceError("MSE:Set AT selects a different protocol")
    if password.type is not template.password_type:
        raise ValueError("the stored password is not of the selected type")
    context = ChipContext(parameters, template.password_type, rng, template.chat,
                          cars if template.chat is not None else ())
    return ChipEncryptedNonce(context, password_key(password, parameters.key_length))


@dataclass(frozen=True, slots=True)
class ChipEncryptedNonce:
    context: ChipContext
    password_key: bytes = field(repr=False)

    def respond(self, data: bytes) -> tuple[bytes, ChipMapNonce]:
        parse_dynamic_data(data, ())
        s = self.context.rng(cipher.BLOCK_SIZE)
        z = cipher.encrypt_cbc(self.password_key, s)
        return (dynamic_authentication_data.build(encode(TAG_ENCRYPTED_NONCE, z)),
                ChipMapNonce(self.context, int.from_bytes(s, "big")))


@dataclass(frozen=True, slots=True)
class ChipMapNonce:
    context: ChipContext
    nonce: int = field(repr=False)

    def respond(self, data: bytes) -> tuple[bytes, ChipKeyAgreement]:
        curve = self.context.parameters.curve
        pcd_mapping = _point(curve, parse_dynamic_data(data, (TAG_MAPPING_PCD,))[TAG_MAPPING_PCD],
                             "terminal's mapping key")
        mapping = key_agreement.generate(curve, self.context.rng)
        if mapping.public == pcd_mapping:
            raise PaceError("the terminal echoed the chip's mapping key")
        _, mapped = map_generator(curve, self.nonce, mapping.private, pcd_mapping)
        return (dynamic_authentication_data.build(encode(TAG_MAPPING_PICC, mapping.public_bytes)),
                ChipKeyAgreement(self.context, mapped))


@dataclass(frozen=True, slots=True)
class ChipKeyAgreement:
    context: ChipContext
    mapped_generator: Point

    def respond(self, data: bytes) -> tuple[bytes, ChipMutualAuthentication]:
        parameters = self.context.parameters
        curve = parameters.curve
        pcd_bytes = parse_dynamic_data(data, (TAG_EPHEMERAL_PCD,))[TAG_EPHEMERAL_PCD]
        pcd_public = _point(curve, pcd_bytes, "terminal's ephemeral key")
        ephemeral = key_agreement.generate(curve, self.context.rng, self.mapped_generator)
        if ephemeral.public == pcd_public:
            raise PaceError("the terminal echoed the chip's ephemeral key")
        secret = key_agreement.shared_secret(curve, ephemeral.private, pcd_public)
        step = ChipMutualAuthentication(self.context, session_keys(secret, parameters.key_length),
                                        ec.encode_point(curve, pcd_public), ephemeral.public_bytes)
        return dynamic_authentication_data.build(encode(TAG_EPHEMERAL_PICC, ephemeral.public_bytes)), step


@dataclass(frozen=True, slots=True)
class ChipMutualAuthentication:
    context: ChipContext
    keys: SessionKeys
    pcd_public: bytes
    picc_public: bytes

    def respond(self, data: bytes) -> tuple[bytes, ChipPaceResult]:
        """PaceAuthenticationFailed if T_PCD is wrong — the terminal does not know the password."""
        token = parse_dynamic_data(data, (TAG_TOKEN_PCD,))[TAG_TOKEN_PCD]
        context = self.context
        protocol = context.parameters.protocol
        if not authentication_token.matches(token, self.keys.k_mac, protocol, self.picc_public):
            raise PaceAuthenticationFailed("the terminal's authentication token T_PCD is wrong")
        parts = [encode(TAG_TOKEN_PICC, authentication_token.compute(self.keys.k_mac, protocol, self.pcd_public))]
        parts += [encode(tag, car.encode("latin-1")) for tag, car in zip((TAG_CAR, TAG_PREVIOUS_CAR), context.cars)]
        curve = context.parameters.curve
        id_picc = key_agreement.compress(curve, ec.decode_point(curve, self.picc_public))
        result = ChipPaceResult(context.parameters, context.password_type, self.keys, id_picc, self.pcd_public,
                                context.chat)
        return dynamic_authentication_data.build(*parts), result
