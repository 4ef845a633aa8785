"""Secure messaging with AES (TR-03110-3 appendix F, ICAO Doc 9303-11 §9.8), both roles.

Commands carry DO'87' (01 ‖ AES-CBC(K_enc, IV, pad(data)), or DO'85' for odd INS), DO'97' (Le) and
DO'8E' (CMAC over SSC ‖ pad(header) ‖ pad(DOs)); responses DO'87', DO'99' (status) and DO'8E'. The IV is
E(K_enc, SSC). The send sequence counter is incremented before each command and each response, so one
command/response pair moves it by two.

A wrong MAC, a missing data object or a plain answer where a protected one was due ends the channel for
good: every later use raises :class:`ChannelClosed` (§F.6) — the keys are forgotten.

:class:`TerminalChannel` protects commands and unprotects responses, singly or as a batch (the
eID-Server sends several protected APDUs in one PAOS Transmit before any answer comes back);
:class:`ChipChannel` is the mirror image the (virtual) card uses.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from eid import cipher
from eid.apdu import EXTENDED_MAX_NE, SHORT_MAX_NC, SHORT_MAX_NE, CommandApdu, ResponseApdu
from eid.errors import MalformedData, VerificationFailed
from eid.key_derivation import SessionKeys
from eid.tlv import Tlv, TlvError, decode_all, encode

CLA_SM = 0x0C
TAG_CRYPTOGRAM = 0x87
TAG_CRYPTOGRAM_ODD = 0x85
TAG_LE = 0x97
TAG_STATUS = 0x99
TAG_MAC = 0x8E
PADDING_INDICATOR = 0x01
SW_SM_MISSING = 0x6987
SW_SM_INCORRECT = 0x6988


class SecureMessagingError(VerificationFailed):
    """A protected APDU that fails verification (MAC, SSC, data objects). The channel is closed."""


class MalformedSecureMessaging(SecureMessagingError, MalformedData):
    """Secure-messaging data objects that do not parse. The channel is closed."""


class ChannelClosed(SecureMessagingError):
    """The secure-messaging channel was closed by an earlier failure and cannot be used again."""


class _Channel:
    """The state both roles share: session keys and the send sequence counter."""

    def __init__(self, keys: SessionKeys, ssc: int = 0) -> None:
        self._keys: SessionKeys | None = keys
        self._ssc = ssc

    def __repr__(self) -> str:
        state = "closed" if self._keys is None else f"SSC {self._ssc}"
        return f"<{type(self).__name__} {state}>"

    @property
    def closed(self) -> bool:
        return self._keys is None

    @property
    def ssc(self) -> int:
        return self._ssc

    def close(self) -> None:
        self._keys = None

    def _live_keys(self) -> SessionKeys:
        if self._keys is None:
            raise ChannelClosed("the secure-messaging channel is closed")
        return self._keys

    def _fail(self, error: SecureMessagingError) -> SecureMessagingError:
        self.close()
        return error

    @staticmethod
    def _ssc_block(ssc: int) -> bytes:
        return ssc.to_bytes(cipher.BLOCK_SIZE, "big")

    def _encrypt(self, keys: SessionKeys, ssc: int, data: bytes) -> bytes:
        iv = cipher.encrypt_block(keys.k_enc, self._ssc_block(ssc))
        return cipher.encrypt_cbc(keys.k_enc, cipher.pad(data), iv)

    def _decrypt(self, keys: SessionKeys, ssc: int, cryptogram: bytes) -> bytes:
        iv = cipher.encrypt_block(keys.k_enc, self._ssc_block(ssc))
        return cipher.unpad(cipher.decrypt_cbc(keys.k_enc, cryptogram, iv))

    def _mac(self, keys: SessionKeys, ssc: int, data: bytes) -> bytes:
        return cipher.mac(keys.k_mac, self._ssc_block(ssc) + cipher.pad(data))


def _encode_le(ne: int, extended: bool) -> bytes:
    if extended:
        return (ne % EXTENDED_MAX_NE).to_bytes(2, "big")
    return bytes([ne % SHORT_MAX_NE])


def _decode_le(value: bytes) -> int:
    if len(value) == 1:
        return value[0] or SHORT_MAX_NE
    if len(value) == 2:
        return int.from_bytes(value, "big") or EXTENDED_MAX_NE
    raise MalformedSecureMessaging(f"protected Le of {len(value)} bytes")


def _objects(data: bytes, what: str) -> list[Tlv]:
    try:
        return decode_all(data)
    except TlvError as exc:
        raise MalformedSecureMessaging(f"{what}: {exc}") from None


class TerminalChannel(_Channel):
    """The terminal's side: protect commands, verify and decrypt responses."""

    def __init__(self, keys: SessionKeys, ssc: int = 0) -> None:
        super().__init__(keys, ssc)
        self._pending: list[int] = []

    def _protect_at(self, keys: SessionKeys, ssc: int, command: CommandApdu) -> CommandApdu:
        cla = command.cla | CLA_SM
        header = bytes([cla, command.ins, command.p1, command.p2])
        extended = command.extended
        objects = b""
        if command.data:
            cryptogram = self._encrypt(keys, ssc, command.data)
            if command.ins & 1:
                objects += encode(TAG_CRYPTOGRAM_ODD, cryptogram)
            else:
                objects += encode(TAG_CRYPTOGRAM, bytes([PADDING_INDICATOR]) + cryptogram)
        if command.ne is not None:
            objects += encode(TAG_LE, _encode_le(command.ne, extended))
        mac_input = cipher.pad(header) + objects
        body = objects + encode(TAG_MAC, self._mac(keys, ssc, mac_input))
        extended = extended or len(body) > SHORT_MAX_NC
        return CommandApdu(cla, command.ins, command.p1, command.p2, body,
                           EXTENDED_MAX_NE if extended else SHORT_MAX_NE)

    def protect(self, command: CommandApdu) -> CommandApdu:
        """One command; :meth:`unprotect` must see its response before the next command."""
        return self.protect_batch([command])[0]

    def unprotect(self, response: ResponseApdu) -> ResponseApdu:
        return self.unprotect_batch([response])[0]

    def protect_batch(self, commands: Sequence[CommandApdu]) -> list[CommandApdu]:
        """Protect several commands at once; their responses go to :meth:`unprotect_batch` in order."""
        keys = self._live_keys()
        if self._pending:
            raise SecureMessagingError("responses to an earlier batch are still outstanding")
        protected = []
        for command in commands:
            self._ssc += 1
            protected.append(self._protect_at(keys, self._ssc, command))
            self._ssc += 1
            self._pending.append(self._ssc)
        return protected

    def unprotect_batch(self, responses: Sequence[ResponseApdu]) -> list[ResponseApdu]:
        """Verify the responses to the outstanding batch. Fewer responses than commands means the card
        stopped early (a Transmit ends at an unexpected status word): the counter then continues after
        the last answered command, and the rest of the batch is dropped."""
        keys = self._live_keys()
        if len(responses) > len(self._pending):
            raise self._fail(SecureMessagingError("more responses than protected commands"))
        expected, self._pending = self._pending, []
        result = []
        for ssc, response in zip(expected, responses):
            try:
                result.append(self._unprotect_at(keys, ssc, response))
            except SecureMessagingError as error:
                raise self._fail(error) from None
        if responses:
            self._ssc = expected[len(responses) - 1]
        elif expected:
            self._ssc = expected[0] - 2
        return result

    def _unprotect_at(self, keys: SessionKeys, ssc: int, response: ResponseApdu) -> ResponseApdu:
        if not response.data:
            raise SecureMessagingError(f"the card answered {response.sw:04X} without secure messaging; "
                                       "it has ended the session")
        objects = _objects(response.data, "protected response")
        if objects[-1].tag != TAG_MAC:
            raise MalformedSecureMessaging("protected response does not end with a MAC (8E)")
        authenticated = b"".join(o.encode() for o in objects[:-1])
        if len(objects[-1].value) != cipher.MAC_SIZE or not hmac.compare_digest(
                objects[-1].value, self._mac(keys, ssc, authenticated)):
            raise SecureMessagingError("response MAC is wrong (tampered data or SSC out of step)")
        data = b""
        status: int | None = None
        for obj in objects[:-1]:
            if obj.tag == TAG_CRYPTOGRAM:
                if data or not obj.value or obj.value[0] != PADDING_INDICATOR:
                    raise MalformedSecureMessaging("response DO 87 repeated or without padding indicator 01")
                data = self._decrypt(keys, ssc, obj.value[1:])
            elif obj.tag == TAG_CRYPTOGRAM_ODD:
                if data:
                    raise MalformedSecureMessaging("response carries two cryptograms")
                data = self._decrypt(keys, ssc, obj.value)
            elif obj.tag == TAG_STATUS:
                if status is not None or len(obj.value) != 2:
                    raise MalformedSecureMessaging("response DO 99 repeated or not two bytes")
                status = int.from_bytes(obj.value, "big")
            else:
                raise MalformedSecureMessaging(f"unexpected data object {obj.tag:X} in protected response")
        if status is None:
            raise MalformedSecureMessaging("protected response lacks the processing status DO 99")
        return ResponseApdu(data, status)


class ChipChannel(_Channel):
    """The card's side: verify and decrypt commands, protect responses."""

    def unprotect_command(self, command: CommandApdu) -> CommandApdu:
        """The plain command, or SecureMessagingError (the card then answers 6987/6988 and forgets its keys)."""
        keys = self._live_keys()
        self._ssc += 1
        try:
            return self._unprotect_at(keys, self._ssc, command)
        except SecureMessagingError as error:
            raise self._fail(error) from None

    def _unprotect_at(self, keys: SessionKeys, ssc: int, command: CommandApdu) -> CommandApdu:
        if command.cla & CLA_SM != CLA_SM:
            raise SecureMessagingError("plain command received inside a secure-messaging session")
        objects = _objects(command.data, "protected command")
        if not objects or objects[-1].tag != TAG_MAC:
            raise MalformedSecureMessaging("protected command does not end with a MAC (8E)")
        header = bytes([command.cla, command.ins, command.p1, command.p2])
        authenticated = b"".join(o.encode() for o in objects[:-1])
        mac_input = cipher.pad(header) + authenticated
        if len(objects[-1].value) != cipher.MAC_SIZE or not hmac.compare_digest(
                objects[-1].value, self._mac(keys, ssc, mac_input)):
            raise SecureMessagingError("command MAC is wrong (tampered data or SSC out of step)")
        data = b""
        ne: int | None = None
        seen: set[int] = set()
        for obj in objects[:-1]:
            if obj.tag in seen:
                raise MalformedSecureMessaging(f"data object {obj.tag:X} repeated in protected command")
            seen.add(obj.tag)
            if obj.tag == TAG_CRYPTOGRAM:
                if not obj.value or obj.value[0] != PADDING_INDICATOR:
                    raise MalformedSecureMessaging("command DO 87 without padding indicator 01")
                data = self._decrypt(keys, ssc, obj.value[1:])
            elif obj.tag == TAG_CRYPTOGRAM_ODD:
                data = self._decrypt(keys, ssc, obj.value)
            elif obj.tag == TAG_LE:
                ne = _decode_le(obj.value)
            else:
                raise MalformedSecureMessaging(f"unexpected data object {obj.tag:X} in protected command")
        if TAG_CRYPTOGRAM in seen and TAG_CRYPTOGRAM_ODD in seen:
            raise MalformedSecureMessaging("protected command carries two cryptograms")
        return CommandApdu(command.cla & ~CLA_SM & 0xFF, command.ins, command.p1, command.p2, data, ne)

    def protect_response(self, response: ResponseApdu, odd_ins: bool = False) -> ResponseApdu:
        keys = self._live_keys()
        self._ssc += 1
        objects = b""
        if response.data:
            cryptogram = self._encrypt(keys, self._ssc, response.data)
            if odd_ins:
                objects += encode(TAG_CRYPTOGRAM_ODD, cryptogram)
            else:
                objects += encode(TAG_CRYPTOGRAM, bytes([PADDING_INDICATOR]) + cryptogram)
        objects += encode(TAG_STATUS, response.sw.to_bytes(2, "big"))
        return ResponseApdu(objects + encode(TAG_MAC, self._mac(keys, self._ssc, objects)), response.sw)
