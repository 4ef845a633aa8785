"""Chip Authentication version 2 with ECDH and AES, both roles (TR-03110-2 §3.4, TR-03110-3 §A.4, §B.2).

The terminal sends its ephemeral public key PK_PCD (the one whose compressed form Terminal
Authentication signed); the chip answers with a random nonce r and the token
T_PICC = MAC(K_mac, 7F49{06 CA-OID, 86 PK_PCD}). Both derive new session keys from
K = x(SK_PICC·PK_PCD) and r; the token proves the chip holds the private key behind the public key that
passive authentication vouched for (EF.CardSecurity).

Commands: MSE:Set AT (00 22 41 A4: 80 protocol, [84 key id]) and General Authenticate
(00 86 00 00: 7C{80 PK_PCD} → 7C{81 r, 82 T_PICC}), both under the PACE secure-messaging session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from eid import authentication_token, dynamic_authentication_data, ec, key_agreement, oid
from eid.apdu import SHORT_MAX_NE, CommandApdu, ResponseApdu
from eid.domain_parameters import Curve
from eid.errors import MalformedData, VerificationFailed
from eid.key_agreement import KeyPair, Rng
from eid.key_derivation import SessionKeys, aes_key_length, session_keys
from eid.status import raise_for_status
from eid.tlv import TlvError, decode_all, encode

INS_MSE = 0x22
INS_GENERAL_AUTHENTICATE = 0x86
P1P2_SET_AT_INTERNAL = (0x41, 0xA4)
TAG_MECHANISM = 0x80
TAG_KEY_ID = 0x84
TAG_EPHEMERAL_PUBLIC_KEY = 0x80
TAG_NONCE = 0x81
TAG_TOKEN = 0x82
NONCE_SIZE = 8


class ChipAuthenticationError(MalformedData):
    """A Chip Authentication message that does not have the expected form."""


class TokenMismatch(VerificationFailed):
    """The chip's authentication token T_PICC is wrong: it does not hold the private key."""


@dataclass(frozen=True, slots=True)
class ChipAuthenticationSelection:
    """The data of MSE:Set AT selecting Chip Authentication (or, with an RI OID, Restricted Identification)."""

    protocol: str
    key_id: int | None = None

    def encode(self) -> bytes:
        data = encode(TAG_MECHANISM, oid.encode_value(self.protocol))
        if self.key_id is not None:
            data += encode(TAG_KEY_ID, _integer(self.key_id))
        return data

    def command(self) -> CommandApdu:
        return CommandApdu(0x00, INS_MSE, *P1P2_SET_AT_INTERNAL, self.encode())

    @classmethod
    def parse(cls, data: bytes) -> ChipAuthenticationSelection:
        try:
            objects = decode_all(data)
        except TlvError as exc:
            raise ChipAuthenticationError(f"MSE:Set AT data is not TLV: {exc}") from None
        tags = [o.tag for o in objects]
        if tags.count(TAG_MECHANISM) != 1 or tags.count(TAG_KEY_ID) > 1 or set(tags) - {TAG_MECHANISM, TAG_KEY_ID}:
            raise ChipAuthenticationError("MSE:Set AT needs exactly one mechanism (80) and at most a key id (84)")
        values = {o.tag: o.value for o in objects}
        key_id = values.get(TAG_KEY_ID)
        if key_id is not None and not 1 <= len(key_id) <= 4:
            raise ChipAuthenticationError("key reference must be one to four bytes")
        return cls(oid.decode_value(values[TAG_MECHANISM]),
                   int.from_bytes(key_id, "big") if key_id is not None else None)


def _integer(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def _dynamic_data(data: bytes, required: tuple[int, ...]) -> dict[int, bytes]:
    return dynamic_authentication_data.parse(data, required, error=ChipAuthenticationError)


def general_authenticate(ephemeral_public: bytes) -> CommandApdu:
    data = dynamic_authentication_data.build(encode(TAG_EPHEMERAL_PUBLIC_KEY, ephemeral_public))
    return CommandApdu(0x00, INS_GENERAL_AUTHENTICATE, 0, 0, data, SHORT_MAX_NE)


def parse_response(data: bytes) -> tuple[bytes, bytes]:
    """(nonce r, token T_PICC) from the General Authenticate response data."""
    values = _dynamic_data(data, (TAG_NONCE, TAG_TOKEN))
    if len(values[TAG_NONCE]) != NONCE_SIZE:
        raise ChipAuthenticationError(f"CA nonce must be {NONCE_SIZE} bytes")
    return values[TAG_NONCE], values[TAG_TOKEN]


def _chip_point(curve: Curve, public_key: bytes, what: str) -> ec.Point:
    try:
        return ec.decode_point(curve, public_key)
    except ec.InvalidPoint as exc:
        raise ChipAuthenticationError(f"{what}: {exc}") from None


@dataclass(frozen=True, slots=True)
class ChipAuthenticationResult:
    nonce: bytes
    token: bytes
    keys: SessionKeys


@dataclass(frozen=True, slots=True)
class ChipAuthentication:
    """The terminal's side. ``ephemeral_key`` is made before Terminal Authentication, which signs its
    compressed form; ``chip_public_key`` comes from EF.CardSecurity (ChipAuthenticationPublicKeyInfo)."""

    protocol: str
    curve: Curve
    chip_public_key: bytes
    ephemeral_key: KeyPair
    key_id: int | None = None

    def __post_init__(self) -> None:
        aes_key_length(self.protocol)

    def request(self) -> list[CommandApdu]:
        return [ChipAuthenticationSelection(self.protocol, self.key_id).command(),
                general_authenticate(self.ephemeral_key.public_bytes)]

    def evaluate(self, responses: Sequence[ResponseApdu]) -> ChipAuthenticationResult:
        if len(responses) != 2:
            raise ChipAuthenticationError(f"Chip Authentication needs 2 responses, got {len(responses)}")
        raise_for_status(responses[0].sw, "MSE:Set AT for Chip Authentication")
        raise_for_status(responses[1].sw, "General Authenticate for Chip Authentication")
        nonce, token = parse_response(responses[1].data)
        return ChipAuthenticationResult(nonce, token, self.verify(nonce, token))

    def verify(self, nonce: bytes, token: bytes) -> SessionKeys:
        """The new session keys, once T_PICC proves the chip's key (also for nonce and token relayed by an
        eID client in EAC2OutputType)."""
        chip_point = _chip_point(self.curve, self.chip_public_key, "chip's static public key")
        secret = key_agreement.shared_secret(self.curve, self.ephemeral_key.private, chip_point)
        keys = session_keys(secret, aes_key_length(self.protocol), nonce)
        if not authentication_token.matches(token, keys.k_mac, self.protocol, self.ephemeral_key.public_bytes):
            raise TokenMismatch("the chip's CA token T_PICC does not match: it does not hold the CA key")
        return keys


@dataclass(frozen=True, slots=True)
class ChipAuthenticationResponse:
    """The chip's answer: the response data (7C{81 r, 82 T}) and the keys to switch to after sending it."""

    data: bytes
    keys: SessionKeys = field(repr=False)
    nonce: bytes = b""


def chip_respond(protocol: str, curve: Curve, static_private: int, data: bytes, rng: Rng,
                 expected_compressed_key: bytes | None) -> ChipAuthenticationResponse:
    """The chip's side of General Authenticate. ``expected_compressed_key`` is Comp(PK_PCD) from Terminal
    Authentication; a different key is refused (VerificationFailed)."""
    key_length = aes_key_length(protocol)
    pcd_bytes = _dynamic_data(data, (TAG_EPHEMERAL_PUBLIC_KEY,))[TAG_EPHEMERAL_PUBLIC_KEY]
    pcd_point = _chip_point(curve, pcd_bytes, "terminal's ephemeral key")
    if expected_compressed_key is not None and key_agreement.compress(curve, pcd_point) != expected_compressed_key:
        raise VerificationFailed("the ephemeral key is not the one Terminal Authentication signed")
    pcd_public = ec.encode_point(curve, pcd_point)
    nonce = rng(NONCE_SIZE)
    secret = key_agreement.shared_secret(curve, static_private, pcd_point)
    keys = session_keys(secret, key_length, nonce)
    token = authentication_token.compute(keys.k_mac, protocol, pcd_public)
    response = dynamic_authentication_data.build(encode(TAG_NONCE, nonce), encode(TAG_TOKEN, token))
    return ChipAuthenticationResponse(response, keys, nonce)
