"""Certificate Holder Authorization Template (CHAT): terminal type, role and access rights.

TR-03110-3 §C.1.5 and §2.7 (effective authorization), TR-03110-4 §2.1–2.2.3.2 (the bit maps). The
template is ``7F4C { 06 terminal-type-OID, 53 relative-authorization }``; the two most significant
bits of the discretionary data are the role, the rest are access rights. For Authentication Terminals
(id-AT, five bytes) every right has a name in :class:`AccessRight`; Inspection Systems and Signature
Terminals keep their (one-byte) rights as ``other_bits``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from eid import oid
from eid.errors import MalformedData
from eid.tlv import Tlv, decode_single, encode

TAG_CHAT = 0x7F4C
TAG_DISCRETIONARY_DATA = 0x53


class ChatError(MalformedData):
    """A CHAT that cannot be parsed or does not fit its terminal type."""


class TerminalType(enum.Enum):
    INSPECTION_SYSTEM = oid.ID_IS
    AUTHENTICATION_TERMINAL = oid.ID_AT
    SIGNATURE_TERMINAL = oid.ID_ST

    @property
    def size(self) -> int:
        """Bytes of relative authorization (TR-03110-4 tables 2, 4, 7)."""
        return 5 if self is TerminalType.AUTHENTICATION_TERMINAL else 1


class Role(enum.IntEnum):
    """The two leading bits of the relative authorization."""

    TERMINAL = 0b00
    DV_NON_OFFICIAL = 0b01  # non-official / foreign Document Verifier
    DV_OFFICIAL = 0b10  # official domestic Document Verifier
    CVCA = 0b11


class AccessRight(enum.IntEnum):
    """Authentication Terminal rights (TR-03110-4 table 4); the value is the bit number."""

    AGE_VERIFICATION = 0
    COMMUNITY_ID_VERIFICATION = 1  # "Municipality ID Verification"
    RESTRICTED_IDENTIFICATION = 2
    PRIVILEGED_TERMINAL = 3
    CAN_ALLOWED = 4
    PIN_MANAGEMENT = 5
    INSTALL_CERTIFICATE = 6
    INSTALL_QUALIFIED_CERTIFICATE = 7
    READ_DG1 = 8
    READ_DG2 = 9
    READ_DG3 = 10
    READ_DG4 = 11
    READ_DG5 = 12
    READ_DG6 = 13
    READ_DG7 = 14
    READ_DG8 = 15
    READ_DG9 = 16
    READ_DG10 = 17
    READ_DG11 = 18
    READ_DG12 = 19
    READ_DG13 = 20
    READ_DG14 = 21
    READ_DG15 = 22
    READ_DG16 = 23
    READ_DG17 = 24
    READ_DG18 = 25
    READ_DG19 = 26
    READ_DG20 = 27
    READ_DG21 = 28
    READ_DG22 = 29
    PSA = 30
    WRITE_DG22 = 32
    WRITE_DG21 = 33
    WRITE_DG20 = 34
    WRITE_DG19 = 35
    WRITE_DG18 = 36
    WRITE_DG17 = 37

    @classmethod
    def read(cls, data_group: int) -> AccessRight:
        if not 1 <= data_group <= 22:
            raise ValueError(f"no read right for DG{data_group}")
        return cls(7 + data_group)

    @classmethod
    def write(cls, data_group: int) -> AccessRight:
        if not 17 <= data_group <= 22:
            raise ValueError(f"no write right for DG{data_group}")
        return cls(54 - data_group)


ALL_READ_RIGHTS = frozenset(AccessRight.read(n) for n in range(1, 23))
_AT_RIGHTS_MASK = sum(1 << right for right in AccessRight)


@dataclass(frozen=True)
class Chat:
    """A role with access rights. ``rights`` are Authentication Terminal rights; any other bits of the
    relative authorization (RFU bits, the rights of Inspection Systems and Signature Terminals) are
    ``other_bits``, so every template re-encodes to the same bytes."""

    role: Role
    rights: frozenset[AccessRight] = field(default_factory=frozenset)
    terminal_type: TerminalType = TerminalType.AUTHENTICATION_TERMINAL
    other_bits: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "rights", frozenset(AccessRight(r) for r in self.rights))
        if self.rights and self.terminal_type is not TerminalType.AUTHENTICATION_TERMINAL:
            raise ChatError(f"named access rights exist only for authentication terminals, not {self.terminal_type.name}")
        limit = 1 << (8 * self.terminal_type.size - 2)
        if not 0 <= self.other_bits < limit or self.other_bits & _AT_RIGHTS_MASK and self.is_at:
            raise ChatError("other_bits overlap the role or named rights")

    @property
    def is_at(self) -> bool:
        return self.terminal_type is TerminalType.AUTHENTICATION_TERMINAL

    @property
    def mask(self) -> int:
        """The relative authorization as one integer, role included."""
        size = self.terminal_type.size
        bits = sum(1 << r for r in self.rights) | self.other_bits
        return (int(self.role) << (8 * size - 2)) | bits

    def __contains__(self, right: object) -> bool:
        return right in self.rights

    def allows_read(self, data_group: int) -> bool:
        return AccessRight.read(data_group) in self.rights

    def discretionary_data(self) -> bytes:
        return self.mask.to_bytes(self.terminal_type.size, "big")

    def encode(self) -> bytes:
        """The complete ``7F4C`` template."""
        return encode(TAG_CHAT, [oid.encode(self.terminal_type.value), encode(TAG_DISCRETIONARY_DATA, self.discretionary_data())])

    @classmethod
    def from_mask(cls, terminal_type: TerminalType, mask: int) -> Chat:
        size = terminal_type.size
        role = Role(mask >> (8 * size - 2))
        bits = mask & ((1 << (8 * size - 2)) - 1)
        if terminal_type is TerminalType.AUTHENTICATION_TERMINAL:
            rights = frozenset(r for r in AccessRight if bits >> r & 1)
            return cls(role, rights, terminal_type, bits & ~_AT_RIGHTS_MASK)
        return cls(role, frozenset(), terminal_type, bits)

    @classmethod
    def from_tlv(cls, tlv: Tlv) -> Chat:
        type_oid, rest = oid.split_template(tlv, TAG_CHAT, "a CHAT", ChatError)
        if len(rest) != 1 or rest[0].tag != TAG_DISCRETIONARY_DATA:
            raise ChatError("CHAT must hold exactly an OID and a discretionary data object")
        try:
            terminal_type = TerminalType(type_oid)
        except ValueError:
            raise ChatError(f"unknown terminal type {type_oid}") from None
        data = rest[0].value
        if len(data) != terminal_type.size:
            raise ChatError(f"{terminal_type.name} CHAT needs {terminal_type.size} bytes of authorization, got {len(data)}")
        return cls.from_mask(terminal_type, int.from_bytes(data, "big"))

    @classmethod
    def parse(cls, data: bytes) -> Chat:
        """Parse a complete ``7F4C`` template filling ``data``."""
        return cls.from_tlv(decode_single(data))

    def restrict(self, other: Chat) -> Chat:
        """Bitwise AND of both relative authorizations (TR-03110-3 §2.7); types must agree."""
        if other.terminal_type is not self.terminal_type:
            raise ChatError(f"cannot combine a {self.terminal_type.name} CHAT with a {other.terminal_type.name} CHAT")
        return Chat.from_mask(self.terminal_type, self.mask & other.mask)

    def describe(self) -> list[str]:
        """Readable names of the role and the rights, for logs and consent pages."""
        names = [self.role.name]
        names += [r.name for r in sorted(self.rights)]
        if self.other_bits:
            names.append(f"other bits {self.other_bits:#x}")
        return names


def authentication_terminal(rights: Iterable[AccessRight], role: Role = Role.TERMINAL) -> Chat:
    return Chat(role, frozenset(rights))


def effective_authorization(chain: Sequence[Chat], confined: Chat | None = None) -> Chat:
    """The effective authorization of the last holder of a certificate chain (trust anchor first).

    TR-03110-3 §2.7: the bitwise AND of the relative authorizations of every certificate, and of the
    confined authorization the terminal sent with PACE, if any. A certificate whose terminal type
    differs from the terminal's contributes no rights (its relative authorization for the terminal's
    type is missing, step 1 of §2.7): only its role bits are kept, so the chain keeps its roles.
    """
    if not chain:
        raise ChatError("an empty chain has no authorization")
    terminal = chain[-1]
    size = terminal.terminal_type.size
    mask = terminal.mask
    for chat in chain[:-1]:
        if chat.terminal_type is terminal.terminal_type:
            mask &= chat.mask
        else:
            mask &= int(chat.role) << (8 * size - 2)
    if confined is not None:
        if confined.terminal_type is not terminal.terminal_type:
            raise ChatError("the confined authorization names another terminal type than the certificate chain")
        mask &= confined.mask
    return Chat.from_mask(terminal.terminal_type, mask)
