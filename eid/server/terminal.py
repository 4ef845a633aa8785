"""The terminal an eID-Server speaks as: CV certificates, terminal key, description, CSCAs, sector key.

What DIDAuthenticate(EAC1InputType) carries (TR-03112-7 §3.6.4.1): exactly one terminal (AT) certificate
with its DV certificate, the certificate description whose hash the AT certificate's id-description
extension holds, and the CHATs of the request. After that the server needs the terminal key (for the
Terminal Authentication signature, through the :class:`eid.signature.Signer` interface: a key file now, an
HSM later), the CSCA certificates for passive authentication, the sector public key for Restricted
Identification, and the blocklist of revoked cards and Document Signers (:mod:`eid.server.blocklist`).

:meth:`EidTerminal.load` reads a directory as ``eid-broker pki create-test`` writes it (``dv.cvcert``,
``terminal.cvcert``, ``terminal.key``, ``description.der``, ``csca.pem``, ``sector-1.key``, and
``cvca.cvcert`` for the complete chain of rights).

commCertificates: an eID client accepts a TLS certificate only if its hash is in the description's
commCertificates (TR-03124-1 §2.7.3). The description is fixed by the AT certificate, so the certificates a
deployment serves must be listed when the PKI is made (``pki create-test --comm-certificate``);
:meth:`EidTerminal.check_comm_certificates` compares the list with the TLS certificates actually served
— the listener's, and every other one the client meets, e.g. the broker's origin that serves the
tcTokenURL redirect and the RefreshAddress — and names each one missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec

from eid import oid
from eid.certificate_description import CertificateDescription, comm_certificate_hash, verify_binding
from eid.chat import Chat, Role, effective_authorization
from eid.cvc import CvCertificate
from eid.domain_parameters import by_name
from eid.errors import EidError
from eid.passive_authentication import load_csca_list
from eid.server.blocklist import BlocklistSource, DocumentBlocklist
from eid.restricted_identification import SectorPublicKey
from eid.server.request import EidRequest, InvalidRequest
from eid.signature import PrivateKeySigner, Signer


class TerminalConfigError(Exception):
    """The terminal's files are missing, unreadable or do not fit together."""


@dataclass(frozen=True)
class EidTerminal:
    dv: CvCertificate
    terminal: CvCertificate
    signer: Signer
    certificate_description: bytes
    cscas: tuple[x509.Certificate, ...]
    sector: SectorPublicKey | None = None
    """The sector public key for Restricted Identification (the first of the id-sector extension; the second
    one only matters while a sector key is replaced, which is not supported)."""
    cvca: CvCertificate | None = None
    blocklist: BlocklistSource | None = None

    def __post_init__(self) -> None:
        if self.terminal.role is not Role.TERMINAL or self.terminal.car != self.dv.chr:
            raise TerminalConfigError(f"{self.terminal.chr} is not a terminal certificate issued by {self.dv.chr}")
        try:
            verify_binding(self.certificate_description, self.terminal)
            self.description
        except EidError as error:
            raise TerminalConfigError(f"certificate description: {error}") from None
        if self.signer.algorithm != self.terminal.public_key.algorithm:
            raise TerminalConfigError("the terminal key's algorithm differs from the terminal certificate's")
        if self.revocation_wanted() and self.sector is None:
            raise TerminalConfigError("the blocklist lists card identifiers, but without a sector key (sector-1.key) "
                                      "the cards cannot give theirs")

    def current_blocklist(self) -> DocumentBlocklist | None:
        return None if self.blocklist is None else self.blocklist.current()

    def revocation_wanted(self) -> bool:
        """Whether each card's revocation identifier must be read: the blocklist has card identifiers."""
        current = self.current_blocklist()
        return current is not None and bool(current.sector_identifiers)

    @property
    def certificates(self) -> tuple[bytes, bytes]:
        """As DIDAuthenticate(EAC1InputType) sends them: the DV certificate, then the AT certificate."""
        return self.dv.encode(), self.terminal.encode()

    @property
    def description(self) -> CertificateDescription:
        return CertificateDescription.parse(self.certificate_description)

    @property
    def rights(self) -> Chat:
        """The terminal's effective rights: its CHAT limited by those of the DV (and CVCA, when known)."""
        chain = [c.chat for c in (self.cvca, self.dv, self.terminal) if c is not None]
        return effective_authorization(chain)

    def chats_for(self, request: EidRequest) -> tuple[Chat, Chat | None]:
        """The required and optional CHAT of a request, limited to the terminal's rights. A required right
        the terminal lacks is an error (the authentication could never deliver it); optional ones it
        lacks are left out."""
        granted = self.rights.rights
        missing = request.required - granted
        if missing:
            raise InvalidRequest(f"the terminal certificate {self.terminal.chr} does not grant "
                                 f"{', '.join(sorted(r.name for r in missing))}")
        required = Chat(Role.TERMINAL, request.required)
        optional = request.optional & granted
        return required, (Chat(Role.TERMINAL, optional) if optional else None)

    def check_comm_certificates(self, served: Iterable[bytes]) -> None:
        """Raise TerminalConfigError unless every DER TLS certificate in ``served`` is in commCertificates."""
        listed = set(self.description.comm_certificates)
        missing = []
        for certificate in served:
            if comm_certificate_hash(certificate, self.dv) not in listed:
                missing.append(x509.load_der_x509_certificate(certificate).subject.rfc4514_string())
        if missing:
            raise TerminalConfigError(
                "the certificate description's commCertificates lack the TLS certificate(s) "
                f"{'; '.join(missing)}: eID clients would refuse the connection. Make the terminal "
                "certificate with every served TLS certificate (pki create-test --comm-certificate).")

    @classmethod
    def load(cls, directory: Path, *, served_certificates: Sequence[bytes] = (),
             cscas: Sequence[x509.Certificate] | None = None, blocklist: BlocklistSource | None = None) -> EidTerminal:
        """The terminal of a ``pki create-test`` directory. ``cscas`` replaces the directory's csca.pem;
        ``served_certificates`` (DER) must all be in commCertificates."""

        def read(name: str) -> bytes:
            try:
                return (directory / name).read_bytes()
            except OSError as error:
                raise TerminalConfigError(f"{directory / name}: {error.strerror}") from None

        try:
            dv = CvCertificate.parse(read("dv.cvcert"))
            terminal = CvCertificate.parse(read("terminal.cvcert"))
            cvca = CvCertificate.parse(read("cvca.cvcert")) if (directory / "cvca.cvcert").exists() else None
            trust = tuple(cscas) if cscas is not None else load_csca_list(read("csca.pem"))
        except EidError as error:
            raise TerminalConfigError(f"{directory}: {error}") from None
        key = _private_key(read("terminal.key"), "terminal.key")
        point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        if point != terminal.public_key.point:
            raise TerminalConfigError(f"{directory}/terminal.key is not the key of {terminal.chr}")
        sector = None
        if (directory / "sector-1.key").exists():
            public = _private_key(read("sector-1.key"), "sector-1.key").public_key()
            sector = SectorPublicKey(oid.ID_RI_ECDH_SHA_256, by_name(public.curve.name), public.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
        loaded = cls(dv=dv, terminal=terminal, signer=PrivateKeySigner(key, terminal.public_key.algorithm),
                     certificate_description=read("description.der"), cscas=trust, sector=sector,
                     cvca=cvca, blocklist=blocklist)
        loaded.check_comm_certificates(served_certificates)
        return loaded


def _private_key(pem: bytes, name: str) -> crypto_ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as error:
        raise TerminalConfigError(f"{name} is not an unencrypted PEM private key: {error}") from None
    if not isinstance(key, crypto_ec.EllipticCurvePrivateKey):
        raise TerminalConfigError(f"{name} is not an elliptic-curve key")
    return key
