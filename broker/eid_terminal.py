"""The broker's eID terminal: its CV certificates and keys, and the TLS certificate its listener serves.

An eID client trusts a TLS certificate only if its hash is in the certificate description's
``commCertificates`` and the description's ``subjectURL`` is the origin of the tcTokenURL (TR-03124-1
§2.7.3). Both are fixed in the terminal certificate (its id-description extension), so a deployment's
terminal must be made for the TLS certificates it serves: the broker's own (the tcTokenURL and the
RefreshAddress live on the broker's origin) and the eID listener's.

- ``eid_terminal_dir`` set: a directory as ``eid-broker pki create-test`` (or a real DV) writes it; the
  broker refuses to start the eID function when its description lacks a served certificate.
- ``eid_terminal_dir`` empty (the demo): the terminal of the shipped test PKI
  (``cardreader/virtual/profiles/erika-mustermann-pki``) — its CVCA, DV, CSCA and keys — with a terminal
  certificate re-issued by the shipped DV in ``<data dir>/eid-terminal`` whose description names this
  broker's origin and TLS certificates. The shipped Erika Mustermann card trusts that CVCA and its
  EF.CardSecurity is signed under that CSCA, so the demo card works with every data directory. The
  certificate is issued again whenever the origin or a TLS certificate changes. Never for production.
"""

from __future__ import annotations

import datetime
import shutil
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

import cardreader.virtual
from eid import oid
from eid.certificate_description import CertificateDescription, comm_certificate_hashes, description_hash
from eid.cvc import CvCertificate, create_certificate, description_extension
from eid.server.terminal import EidTerminal, TerminalConfigError
from eid.signature import PrivateKeySigner

SHIPPED_PKI = Path(cardreader.virtual.__file__).resolve().parent / "profiles" / "erika-mustermann-pki"
SHIPPED_CARD = SHIPPED_PKI.parent / "erika-mustermann.json"
DEMO_TERMINAL_DIR = "eid-terminal"
COPIED = ("cvca.cvcert", "dv.cvcert", "terminal.key", "csca.pem", "sector-1.key", "sector-2.key")
DEMO_VALIDITY = datetime.timedelta(days=90)


def certificate_der(pem_path: Path) -> bytes:
    """The DER of the first certificate in a PEM file."""
    return x509.load_pem_x509_certificate(pem_path.read_bytes()).public_bytes(serialization.Encoding.DER)


def _fits(directory: Path, subject_url: str, served: Sequence[bytes], today: datetime.date) -> bool:
    try:
        terminal = EidTerminal.load(directory, served_certificates=served)
    except TerminalConfigError:
        return False
    return terminal.description.subject_url == subject_url and terminal.terminal.is_valid_on(today)


def demo_terminal(data_dir: Path, subject_url: str, served: Sequence[bytes], today: datetime.date,
                  shipped: Path = SHIPPED_PKI) -> Path:
    """``<data_dir>/eid-terminal``, (re-)issued from the shipped test PKI when it does not fit ``subject_url``
    and the ``served`` TLS certificates (DER)."""
    directory = data_dir / DEMO_TERMINAL_DIR
    if _fits(directory, subject_url, served, today):
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        shutil.copyfile(shipped / name, directory / name)
        if name.endswith(".key"):
            (directory / name).chmod(0o600)
    shipped_terminal = CvCertificate.parse((shipped / "terminal.cvcert").read_bytes())
    dv = CvCertificate.parse((shipped / "dv.cvcert").read_bytes())
    algorithm = shipped_terminal.public_key.algorithm
    shipped_description = CertificateDescription.parse((shipped / "description.der").read_bytes())
    description = CertificateDescription(
        issuer_name=shipped_description.issuer_name,
        subject_name="eid-broker demo",
        terms_of_usage="Demo of the eid-broker citizen account with a virtual test ID card. Not for real "
                       "personal data.",
        subject_url=subject_url,
        comm_certificates=comm_certificate_hashes(served, algorithm),
    ).encode()
    extensions = tuple(e for e in shipped_terminal.extensions if e.oid != oid.ID_DESCRIPTION)
    terminal = create_certificate(
        car=dv.chr, public_key=shipped_terminal.public_key, chr=shipped_terminal.chr, chat=shipped_terminal.chat,
        effective_date=today, expiration_date=min(today + DEMO_VALIDITY, dv.expiration_date),
        signer=PrivateKeySigner(serialization.load_pem_private_key((shipped / "dv.key").read_bytes(), None), algorithm),
        extensions=(description_extension(description_hash(description, algorithm)), *extensions),
    )
    (directory / "description.der").write_bytes(description)
    (directory / "terminal.cvcert").write_bytes(terminal.encode())
    return directory

