"""A throw-away terminal PKI for the eID-Server tests: CVCA → DV → AT, with a certificate description.

Built with eid.cvc and eid.certificate_description, in memory. The CVCA
holder reference defaults to DETESTeID00005 because AusweisApp 1.26.2's Simulator card names that CVCA as
its trust point. The description's commCertificates hold the hash of the TLS certificate the eID-Server
serves; the AT certificate's id-description extension holds the description's hash (TR-03110-4 §2.2.6).
To be replaced by the project's own `eid-broker pki create-test` once it exists.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from eid import domain_parameters, oid
from eid.certificate_description import CertificateDescription, comm_certificate_hashes, description_hash
from eid.chat import AccessRight, Chat, Role, authentication_terminal
from eid.cvc import CvCertificate, CvPublicKey, create_certificate, description_extension
from eid.server.terminal import TerminalConfig
from eid.signature import PrivateKeySigner

CURVE = domain_parameters.by_name("brainpoolP256r1")
ALGORITHM = oid.ID_TA_ECDSA_SHA_256
#: What the tests ask of the Simulator: given names, family names, date of birth, and the pseudonym (RI).
REQUIRED_RIGHTS = (AccessRight.READ_DG4, AccessRight.READ_DG5, AccessRight.READ_DG8)
OPTIONAL_RIGHTS = (AccessRight.RESTRICTED_IDENTIFICATION,)


@dataclass(frozen=True)
class TerminalPki:
    cvca: CvCertificate
    dv: CvCertificate
    at: CvCertificate
    at_signer: PrivateKeySigner
    description: bytes
    terminal: TerminalConfig


def _key() -> tuple[crypto_ec.EllipticCurvePrivateKey, bytes]:
    private = crypto_ec.generate_private_key(CURVE.curve())
    return private, private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def create(tls_certificate_der: bytes, subject_url: str, cvca_reference: str = "DETESTeID00005",
           today: datetime.date | None = None) -> TerminalPki:
    today = today or datetime.date.today()
    start, end = today - datetime.timedelta(days=1), today + datetime.timedelta(days=30)
    cvca_key, cvca_point = _key()
    dv_key, dv_point = _key()
    at_key, at_point = _key()
    cvca_signer = PrivateKeySigner(cvca_key, ALGORITHM)
    all_rights = authentication_terminal(AccessRight, Role.CVCA)
    cvca = create_certificate(car=cvca_reference, public_key=CvPublicKey(ALGORITHM, cvca_point, CURVE),
                              chr=cvca_reference, chat=all_rights, effective_date=start, expiration_date=end,
                              signer=cvca_signer)
    dv = create_certificate(car=cvca_reference, public_key=CvPublicKey(ALGORITHM, dv_point), chr="DETSTDV00001",
                            chat=Chat(Role.DV_OFFICIAL, all_rights.rights), effective_date=start, expiration_date=end,
                            signer=cvca_signer)
    description = CertificateDescription(
        issuer_name="eid-broker test DV", subject_name="eid-broker test service", subject_url=subject_url,
        terms_of_usage="Terms of usage of the eid-broker tests.",
        comm_certificates=comm_certificate_hashes([tls_certificate_der], dv.public_key.algorithm),
    ).encode()
    at = create_certificate(car=dv.chr, public_key=CvPublicKey(ALGORITHM, at_point), chr="DETSTAT00001",
                            chat=authentication_terminal(REQUIRED_RIGHTS + OPTIONAL_RIGHTS),
                            effective_date=start, expiration_date=end, signer=PrivateKeySigner(dv_key, ALGORITHM),
                            extensions=[description_extension(description_hash(description, ALGORITHM))])
    terminal = TerminalConfig(
        certificates=(dv.encode(), at.encode()),
        certificate_description=description,
        required_chat=authentication_terminal(REQUIRED_RIGHTS),
        optional_chat=authentication_terminal(OPTIONAL_RIGHTS),
    )
    return TerminalPki(cvca, dv, at, PrivateKeySigner(at_key, ALGORITHM), description, terminal)
