"""Terminal Authentication version 2 (BSI TR-03110-2 §3.3; APDUs TR-03110-3 §B.3, §B.14), both roles.

Terminal: for each certificate of the chain MSE:Set DST (select the issuer's key by its CHR) and
PSO:Verify Certificate; MSE:Set AT with the terminal's CHR, its compressed ephemeral CA key and the
auxiliary data; GET CHALLENGE; EXTERNAL AUTHENTICATE with the signature over
``ID_PICC ‖ r_PICC ‖ Comp(ephemeral PK) ‖ auxiliary data``.

Chip: the same steps as typed objects — :class:`CertificateImport` (Set DST / Verify Certificate,
repeatable) → :class:`AuthenticationSelected` (Set AT) → :class:`ChallengeIssued` (Get Challenge) →
:class:`TerminalAuthenticated` (External Authenticate): effective CHAT, terminal certificate (sector
hashes for RI), committed auxiliary data and ephemeral key, the chip's new current date and trust
points. :func:`status_word` gives the status word a chip answers for each error.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from eid import oid
from eid.apdu import CommandApdu
from eid.auxiliary_data import AuxiliaryData, AuxiliaryDataError
from eid.chat import Chat, ChatError, Role, effective_authorization
from eid.cvc import (
    CertificateRejected,
    CvcError,
    CvCertificate,
    ImportedKey,
    KeyNotFound,
    decode_reference,
    encode_reference,
    find_key,
    import_certificate,
)
from eid.errors import EidError, MalformedData, VerificationFailed
from eid.signature import SignatureInvalid, Signer
from eid.tlv import Tlv, TlvError, decode_all, encode

INS_MSE = 0x22
P1_P2_SET_DST = (0x81, 0xB6)
P1_P2_SET_AT_EXTERNAL = (0x81, 0xA4)
INS_PSO = 0x2A
P1_P2_VERIFY_CERTIFICATE = (0x00, 0xBE)
INS_GET_CHALLENGE = 0x84
INS_EXTERNAL_AUTHENTICATE = 0x82
CHALLENGE_LENGTH = 8

TAG_MECHANISM = 0x80
TAG_PUBLIC_KEY_REFERENCE = 0x83
TAG_EPHEMERAL_PUBLIC_KEY = 0x91
TAG_AUXILIARY_DATA = 0x67

Rng = Callable[[int], bytes]


class TerminalAuthenticationError(MalformedData):
    """A TA command whose data does not have the structure TR-03110-3 demands."""


class TerminalAuthenticationFailed(VerificationFailed):
    """The terminal's signature does not verify (6300)."""


class TerminalTypeMismatch(VerificationFailed):
    """The terminal type of the chain differs from the one PACE was run for (6985)."""


class WrongState(EidError):
    """A TA command out of order, e.g. External Authenticate before Get Challenge (6985)."""


def compress(ephemeral_public_key: bytes) -> bytes:
    """Comp() of an EC public key (TR-03110-3 §A.2.2.3): the x-coordinate of ``04 ‖ x ‖ y``."""
    if len(ephemeral_public_key) % 2 != 1 or ephemeral_public_key[:1] != b"\x04":
        raise TerminalAuthenticationError("ephemeral public key must be an uncompressed point 04 ‖ x ‖ y")
    return ephemeral_public_key[1 : 1 + len(ephemeral_public_key) // 2]


def signed_data(id_picc: bytes, r_picc: bytes, compressed_ephemeral_key: bytes, aux_data: AuxiliaryData | None) -> bytes:
    """ID_PICC ‖ r_PICC ‖ Comp(PK_PCD) ‖ A_PCD — what the terminal signs (TR-03110-2 §3.3.1)."""
    return id_picc + r_picc + compressed_ephemeral_key + (aux_data.encode() if aux_data else b"")


# -- terminal side ------------------------------------------------------------------------------

def sign_challenge(signer: Signer, id_picc: bytes, r_picc: bytes, ephemeral_public_key: bytes,
                   aux_data: AuxiliaryData | None = None) -> bytes:
    """The terminal's signature s_PCD for EXTERNAL AUTHENTICATE (plain r ‖ s)."""
    return signer.sign(signed_data(id_picc, r_picc, compress(ephemeral_public_key), aux_data))


def set_dst(reference: str) -> CommandApdu:
    """MSE:Set DST selecting the public key (CHR) that verifies the next certificate."""
    return CommandApdu(0x00, INS_MSE, *P1_P2_SET_DST, encode(TAG_PUBLIC_KEY_REFERENCE, encode_reference(reference)))


def verify_certificate(certificate: CvCertificate) -> CommandApdu:
    """PSO:Verify Certificate: the certificate body and signature, without the outer 7F21."""
    data = certificate.body + encode(0x5F37, certificate.signature)
    return CommandApdu(0x00, INS_PSO, *P1_P2_VERIFY_CERTIFICATE, data)


def set_at(terminal: CvCertificate, ephemeral_public_key: bytes, aux_data: AuxiliaryData | None = None) -> CommandApdu:
    """MSE:Set AT for Terminal Authentication version 2."""
    parts = [
        encode(TAG_MECHANISM, oid.encode_value(terminal.public_key.algorithm)),
        encode(TAG_PUBLIC_KEY_REFERENCE, encode_reference(terminal.chr)),
    ]
    if aux_data is not None:
        parts.append(aux_data.encode())
    parts.append(encode(TAG_EPHEMERAL_PUBLIC_KEY, compress(ephemeral_public_key)))
    return CommandApdu(0x00, INS_MSE, *P1_P2_SET_AT_EXTERNAL, b"".join(parts))


def get_challenge() -> CommandApdu:
    return CommandApdu(0x00, INS_GET_CHALLENGE, 0x00, 0x00, ne=CHALLENGE_LENGTH)


def external_authenticate(signature: bytes) -> CommandApdu:
    return CommandApdu(0x00, INS_EXTERNAL_AUTHENTICATE, 0x00, 0x00, signature)


def chain_for(car: str, certificates: Sequence[CvCertificate], terminal: CvCertificate) -> list[CvCertificate]:
    """The certificates to send so that the chip can go from its trust point ``car`` to ``terminal``:
    link certificates, DV certificate and terminal certificate, in that order."""
    by_chr = {c.chr: c for c in certificates}
    path = [terminal]
    while path[0].car != car:
        issuer = by_chr.get(path[0].car)
        if issuer is None or issuer in path:
            raise KeyNotFound(f"no certificate path from {car} to {terminal.chr}")
        path.insert(0, issuer)
    return path


def certificate_commands(chain: Sequence[CvCertificate]) -> list[CommandApdu]:
    """Set DST + Verify Certificate for each certificate of ``chain`` (from :func:`chain_for`)."""
    commands: list[CommandApdu] = []
    for certificate in chain:
        commands += [set_dst(certificate.car), verify_certificate(certificate)]
    return commands


# -- chip side ----------------------------------------------------------------------------------

def _parse_data_objects(data: bytes, what: str) -> list[Tlv]:
    try:
        return decode_all(data)
    except TlvError as exc:
        raise TerminalAuthenticationError(f"{what}: {exc}") from None


def parse_set_dst(data: bytes) -> str:
    objects = _parse_data_objects(data, "MSE:Set DST")
    if len(objects) != 1 or objects[0].tag != TAG_PUBLIC_KEY_REFERENCE:
        raise TerminalAuthenticationError("MSE:Set DST must carry exactly a public key reference (83)")
    try:
        return decode_reference(objects[0].value)
    except CvcError as exc:
        raise TerminalAuthenticationError(f"MSE:Set DST: {exc}") from None


def parse_verify_certificate(data: bytes) -> CvCertificate:
    objects = _parse_data_objects(data, "PSO:Verify Certificate")
    if len(objects) != 2 or objects[0].tag != 0x7F4E or objects[1].tag != 0x5F37:
        raise TerminalAuthenticationError("PSO:Verify Certificate needs a body (7F4E) and a signature (5F37)")
    return CvCertificate.from_body(objects[0].encode(), objects[1].value)


@dataclass(frozen=True)
class TaSelection:
    """The data field of MSE:Set AT for TA."""

    algorithm: str
    terminal_reference: str
    compressed_ephemeral_key: bytes
    aux_data: AuxiliaryData | None

    @classmethod
    def parse(cls, data: bytes) -> TaSelection:
        objects = {}
        for tlv in _parse_data_objects(data, "MSE:Set AT"):
            if tlv.tag in objects:
                raise TerminalAuthenticationError(f"MSE:Set AT repeats tag {tlv.tag:X}")
            objects[tlv.tag] = tlv
        missing = {TAG_MECHANISM, TAG_PUBLIC_KEY_REFERENCE, TAG_EPHEMERAL_PUBLIC_KEY} - objects.keys()
        if missing:
            raise TerminalAuthenticationError(f"MSE:Set AT for TA v2 lacks {', '.join(f'{t:X}' for t in sorted(missing))}")
        try:
            reference = decode_reference(objects[TAG_PUBLIC_KEY_REFERENCE].value)
            aux = AuxiliaryData.from_tlv(objects[TAG_AUXILIARY_DATA]) if TAG_AUXILIARY_DATA in objects else None
        except (CvcError, AuxiliaryDataError) as exc:
            raise TerminalAuthenticationError(f"MSE:Set AT: {exc}") from None
        return cls(oid.decode_value(objects[TAG_MECHANISM].value), reference, objects[TAG_EPHEMERAL_PUBLIC_KEY].value, aux)


@dataclass(frozen=True)
class TerminalAuthenticated:
    """The chip's state after successful Terminal Authentication."""

    effective_chat: Chat
    terminal: CvCertificate
    compressed_ephemeral_key: bytes
    aux_data: AuxiliaryData | None
    current_date: datetime.date
    trust_points: tuple[ImportedKey, ...]

    @property
    def sector_hashes(self) -> tuple[bytes | None, bytes | None]:
        return self.terminal.sector_hashes


@dataclass(frozen=True)
class ChallengeIssued:
    terminal_key: ImportedKey
    selection: TaSelection
    r_picc: bytes
    confined_chat: Chat | None
    current_date: datetime.date
    trust_points: tuple[ImportedKey, ...]

    def external_authenticate(self, signature: bytes, id_picc: bytes) -> TerminalAuthenticated:
        data = signed_data(id_picc, self.r_picc, self.selection.compressed_ephemeral_key, self.selection.aux_data)
        try:
            self.terminal_key.key.verify(signature, data)
        except SignatureInvalid as exc:
            raise TerminalAuthenticationFailed(f"terminal signature: {exc}") from None
        try:
            effective = effective_authorization(self.terminal_key.chats, self.confined_chat)
        except ChatError as exc:
            raise TerminalTypeMismatch(str(exc)) from None
        certificate = self.terminal_key.certificate
        if certificate is None:
            raise WrongState("the selected terminal key has no certificate")
        return TerminalAuthenticated(effective, certificate, self.selection.compressed_ephemeral_key,
                                     self.selection.aux_data, self.current_date, self.trust_points)


@dataclass(frozen=True)
class AuthenticationSelected:
    terminal_key: ImportedKey
    selection: TaSelection
    confined_chat: Chat | None
    current_date: datetime.date
    trust_points: tuple[ImportedKey, ...]

    def get_challenge(self, rng: Rng) -> ChallengeIssued:
        r_picc = rng(CHALLENGE_LENGTH)
        return ChallengeIssued(self.terminal_key, self.selection, r_picc, self.confined_chat,
                               self.current_date, self.trust_points)


@dataclass(frozen=True)
class CertificateImport:
    """The chip before TA: trust points, current date, the confined CHAT from PACE (if any) and the keys
    imported so far in this session."""

    trust_points: tuple[ImportedKey, ...]
    current_date: datetime.date
    confined_chat: Chat | None = None
    imported: tuple[ImportedKey, ...] = ()
    selected: ImportedKey | None = None

    def set_dst(self, data: bytes) -> CertificateImport:
        reference = parse_set_dst(data)
        # the most recently imported key wins over an older one with the same reference
        key = find_key([*reversed(self.imported), *self.trust_points], reference)
        return replace(self, selected=key)

    def verify_certificate(self, data: bytes) -> CertificateImport:
        if self.selected is None:
            raise WrongState("PSO:Verify Certificate without a key selected by MSE:Set DST")
        certificate = parse_verify_certificate(data)
        imported, current_date = import_certificate(self.selected, certificate, self.current_date)
        if imported.permanent:
            points = tuple(p for p in self.trust_points if p.chr != imported.chr) + (imported,)
            return replace(self, trust_points=points, current_date=current_date, selected=None)
        return replace(self, imported=(*self.imported, imported), current_date=current_date, selected=None)

    def set_at(self, data: bytes) -> AuthenticationSelected:
        selection = TaSelection.parse(data)
        candidates = [k for k in reversed(self.imported) if k.chr == selection.terminal_reference]
        if not candidates or candidates[0].role is not Role.TERMINAL:
            raise KeyNotFound(f"no imported terminal key {selection.terminal_reference}")
        terminal_key = candidates[0]
        if selection.algorithm != terminal_key.key.algorithm:
            raise TerminalAuthenticationError(
                f"MSE:Set AT names {oid.name(selection.algorithm)}, the terminal key is {oid.name(terminal_key.key.algorithm)}"
            )
        if not selection.compressed_ephemeral_key:
            raise TerminalAuthenticationError("empty compressed ephemeral key")
        if self.confined_chat is not None and terminal_key.chats[-1].terminal_type is not self.confined_chat.terminal_type:
            raise TerminalTypeMismatch("the certificate chain is for another terminal type than PACE announced")
        return AuthenticationSelected(terminal_key, selection, self.confined_chat, self.current_date, self.trust_points)


def status_word(error: EidError) -> int:
    """The status word a chip answers a TA command with when it raises ``error``."""
    if isinstance(error, KeyNotFound):
        return 0x6A88
    if isinstance(error, (TerminalTypeMismatch, WrongState)):
        return 0x6985
    if isinstance(error, (TerminalAuthenticationFailed, CertificateRejected)):
        return 0x6300
    if isinstance(error, MalformedData):
        return 0x6A80
    return 0x6F00
