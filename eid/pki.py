"""A complete test PKI for the eID function, and a virtual card personalised under it.

CV side (BSI TR-03110-3): a CVCA (self-signed, explicit domain parameters, choosable holder reference —
AusweisApp's simulator insists on ``DETESTeID00005``), a DV and an authentication terminal certificate
with a certificate description (id-description) and two Restricted Identification sectors
(id-sector). X.509 side (ICAO 9303-12): a CSCA and a Document Signer that signs EF.CardSecurity.
Then :func:`create_card_profile` builds a card: EF.CardAccess, EF.CardSecurity, chip keys, trust
point. Everything is returned as values; ``files()`` gives the bytes the CLI writes.

Keys come from the injected ``rng`` (scalars reduced into [1, n-1]), so a seeded rng gives the same
keys; ECDSA signatures are randomised by ``cryptography`` as usual.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec
from cryptography.x509.oid import NameOID

from eid import oid, signature
from eid.card_profile import CardProfile, ChipKey, Passwords, Person
from eid.card_security import build_card_security
from eid.certificate_description import CertificateDescription, comm_certificate_hashes, description_hash
from eid.chat import AccessRight, Chat, Role
from eid.cvc import CvCertificate, CvPublicKey, create_certificate, description_extension, sector_extension
from eid.data_groups import FreeTextPlace, PartialDate, Place
from eid.domain_parameters import Curve, by_name, by_standardized_id
from eid.restricted_identification import SectorPublicKey
from eid.security_infos import (
    ChipAuthenticationDomainParameterInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    DomainParameters,
    PaceInfo,
    ParameterForm,
    RestrictedIdentificationDomainParameterInfo,
    RestrictedIdentificationInfo,
    SubjectPublicKey,
    TerminalAuthenticationInfo,
    encode_security_infos,
)
from eid.signature import PrivateKeySigner

Rng = Callable[[int], bytes]

TERMINAL_RIGHTS = frozenset(
    {AccessRight.read(n) for n in range(1, 22)}
    | {AccessRight.AGE_VERIFICATION, AccessRight.COMMUNITY_ID_VERIFICATION, AccessRight.RESTRICTED_IDENTIFICATION,
       AccessRight.CAN_ALLOWED}
)
"""The default terminal: read DG1–DG21, age and community ID verification, RI, CAN allowed."""


def private_key(curve: Curve, rng: Rng) -> crypto_ec.EllipticCurvePrivateKey:
    scalar = int.from_bytes(rng(curve.order_size + 8), "big") % (curve.n - 1) + 1
    return crypto_ec.derive_private_key(scalar, curve.curve())


def public_point(key: crypto_ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def pem_private_key(key: crypto_ec.EllipticCurvePrivateKey) -> bytes:
    """PKCS#8, PEM, unencrypted (test keys)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@dataclass(frozen=True)
class TestPki:
    cvca: CvCertificate
    dv: CvCertificate
    terminal: CvCertificate
    cvca_key: crypto_ec.EllipticCurvePrivateKey
    dv_key: crypto_ec.EllipticCurvePrivateKey
    terminal_key: crypto_ec.EllipticCurvePrivateKey
    sector_keys: tuple[crypto_ec.EllipticCurvePrivateKey, crypto_ec.EllipticCurvePrivateKey]
    certificate_description: bytes
    csca: x509.Certificate
    csca_key: crypto_ec.EllipticCurvePrivateKey
    document_signer: x509.Certificate
    document_signer_key: crypto_ec.EllipticCurvePrivateKey
    curve: Curve

    def terminal_signer(self) -> PrivateKeySigner:
        return PrivateKeySigner(self.terminal_key, self.terminal.public_key.algorithm)

    def sector_public_keys(self, protocol: str = oid.ID_RI_ECDH_SHA_256) -> tuple[SectorPublicKey, SectorPublicKey]:
        """The two sector public keys the eID-Server sends in Restricted Identification."""
        first, second = (SectorPublicKey(protocol, self.curve, public_point(k)) for k in self.sector_keys)
        return first, second

    def files(self) -> dict[str, bytes]:
        """The files ``eid-broker pki create-test`` writes (without card.json)."""
        pem = serialization.Encoding.PEM
        return {
            "cvca.cvcert": self.cvca.encode(),
            "dv.cvcert": self.dv.encode(),
            "terminal.cvcert": self.terminal.encode(),
            "terminal.key": pem_private_key(self.terminal_key),
            "cvca.key": pem_private_key(self.cvca_key),
            "dv.key": pem_private_key(self.dv_key),
            "sector-1.key": pem_private_key(self.sector_keys[0]),
            "sector-2.key": pem_private_key(self.sector_keys[1]),
            "description.der": self.certificate_description,
            "csca.pem": self.csca.public_bytes(pem),
            "csca.key": pem_private_key(self.csca_key),
            "ds.pem": self.document_signer.public_bytes(pem),
            "ds.key": pem_private_key(self.document_signer_key),
        }


def _x509_name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "eid-broker test PKI"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _moment(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)


def _x509_certificates(curve: Curve, today: datetime.date, rng: Rng):
    csca_key = private_key(curve, rng)
    ds_key = private_key(curve, rng)
    csca_name = _x509_name("eid-broker test CSCA")
    csca = (
        x509.CertificateBuilder()
        .subject_name(csca_name).issuer_name(csca_name)
        .public_key(csca_key.public_key())
        .serial_number(int.from_bytes(rng(8), "big") | 1)
        .not_valid_before(_moment(today - datetime.timedelta(days=1)))
        .not_valid_after(_moment(today + datetime.timedelta(days=15 * 365)))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(csca_key.public_key()), critical=False)
        .sign(csca_key, hashes.SHA256())
    )
    ds = (
        x509.CertificateBuilder()
        .subject_name(_x509_name("eid-broker test Document Signer")).issuer_name(csca_name)
        .public_key(ds_key.public_key())
        .serial_number(int.from_bytes(rng(8), "big") | 1)
        .not_valid_before(_moment(today - datetime.timedelta(days=1)))
        .not_valid_after(_moment(today + datetime.timedelta(days=11 * 365)))
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(csca_key.public_key()), critical=False)
        .sign(csca_key, hashes.SHA256())
    )
    return csca, csca_key, ds, ds_key


def create_test_pki(
    *,
    today: datetime.date,
    rng: Rng = secrets.token_bytes,
    cvca_chr: str = "DETESTeID00005",
    dv_chr: str = "DETESTDV00001",
    terminal_chr: str = "DETESTAT00001",
    chat: Chat | None = None,
    curve_name: str = "brainpoolP256r1",
    algorithm: str = oid.ID_TA_ECDSA_SHA_256,
    validity_days: int = 3 * 365,
    subject_name: str = "eid-broker test service",
    subject_url: str = "https://localhost:8443",
    comm_certificates: Iterable[bytes] = (),
) -> TestPki:
    """CVCA → DV → terminal, sector keys, certificate description, CSCA → Document Signer.

    ``comm_certificates`` are DER TLS certificates whose hashes go into the description;
    ``chat`` is the terminal's CHAT (default :data:`TERMINAL_RIGHTS`).
    """
    curve = by_name(curve_name)
    signature.hash_for(algorithm)
    cvca_key, dv_key, terminal_key = (private_key(curve, rng) for _ in range(3))
    sector_keys = (private_key(curve, rng), private_key(curve, rng))
    until = today + datetime.timedelta(days=validity_days)

    def key(k: crypto_ec.EllipticCurvePrivateKey, explicit: bool = False) -> CvPublicKey:
        return CvPublicKey(algorithm, public_point(k), curve if explicit else None)

    all_rights = frozenset(AccessRight)
    cvca = create_certificate(car=cvca_chr, public_key=key(cvca_key, True), chr=cvca_chr, chat=Chat(Role.CVCA, all_rights),
                              effective_date=today, expiration_date=until, signer=PrivateKeySigner(cvca_key, algorithm))
    dv = create_certificate(car=cvca_chr, public_key=key(dv_key), chr=dv_chr, chat=Chat(Role.DV_NON_OFFICIAL, all_rights),
                            effective_date=today, expiration_date=until, signer=PrivateKeySigner(cvca_key, algorithm))
    description = CertificateDescription(
        issuer_name="eid-broker test DV",
        subject_name=subject_name,
        terms_of_usage=f"Test service of the eid-broker test PKI ({subject_name}). Not for real personal data.",
        subject_url=subject_url,
        comm_certificates=comm_certificate_hashes(comm_certificates, algorithm),
    ).encode()
    sectors = [
        signature.digest(algorithm, SectorPublicKey(oid.ID_RI_ECDH_SHA_256, curve, public_point(k)).public_key_data_object())
        for k in sector_keys
    ]
    terminal = create_certificate(
        car=dv_chr, public_key=key(terminal_key), chr=terminal_chr, chat=chat or Chat(Role.TERMINAL, TERMINAL_RIGHTS),
        effective_date=today, expiration_date=until, signer=PrivateKeySigner(dv_key, algorithm),
        extensions=(description_extension(description_hash(description, algorithm)), sector_extension(*sectors)),
    )
    csca, csca_key, ds, ds_key = _x509_certificates(curve, today, rng)
    return TestPki(cvca, dv, terminal, cvca_key, dv_key, terminal_key, sector_keys, description, csca, csca_key,
                   ds, ds_key, curve)


ERIKA_MUSTERMANN = Person(
    given_names="ERIKA",
    family_names="MUSTERMANN",
    birth_name="GABLER",
    date_of_birth=PartialDate(1984, 8, 12),
    place_of_birth=FreeTextPlace("BERLIN"),
    date_of_expiry=datetime.date(2034, 6, 30),
    date_of_issuance=datetime.date(2024, 7, 1),
    place_of_residence=Place(city="KÖLN", country="D", street="HEIDESTRASSE 17", zipcode="51147"),
    community_id=bytes.fromhex("02760503150000"),
    sex="F",
)
"""The BSI's sample holder (as on the specimen ID card and in AusweisApp's simulator)."""

ERIKA_PASSWORDS = Passwords(pin="123456", can="500540", puk="9876543210")


def create_card_profile(
    pki: TestPki,
    *,
    today: datetime.date,
    rng: Rng = secrets.token_bytes,
    person: Person = ERIKA_MUSTERMANN,
    passwords: Passwords = ERIKA_PASSWORDS,
    document_number: str = "T22000129",
    pace_protocol: str = oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_128,
    parameter_id: int = 13,
    ca_protocol: str = oid.ID_CA_ECDH_AES_CBC_CMAC_128,
    ri_protocol: str = oid.ID_RI_ECDH_SHA_256,
) -> CardProfile:
    """A card personalised under ``pki``: its CVCA as trust point, EF.CardSecurity signed by its DS."""
    curve = by_standardized_id(parameter_id)
    ca_key = ChipKey(1, ca_protocol, private_key(curve, rng).private_numbers().private_value, parameter_id)
    ri_keys = (
        ChipKey(1, ri_protocol, private_key(curve, rng).private_numbers().private_value, parameter_id, authorized_only=False),
        ChipKey(2, ri_protocol, private_key(curve, rng).private_numbers().private_value, parameter_id, authorized_only=True),
    )
    standardized = DomainParameters(curve)
    ca_point = public_point(crypto_ec.derive_private_key(ca_key.private_key, curve.curve()))
    card_access_infos = [
        PaceInfo(pace_protocol, 2, parameter_id),
        ChipAuthenticationInfo(ca_protocol, 2, ca_key.key_id),
        ChipAuthenticationDomainParameterInfo(oid.ID_CA_ECDH, standardized, ca_key.key_id),
        TerminalAuthenticationInfo(),
    ]
    card_security_infos = card_access_infos + [
        ChipAuthenticationPublicKeyInfo(oid.ID_PK_ECDH, SubjectPublicKey(DomainParameters(curve, ParameterForm.EXPLICIT), ca_point), ca_key.key_id),
        *(RestrictedIdentificationInfo(k.protocol, k.key_id, k.authorized_only) for k in ri_keys),
        RestrictedIdentificationDomainParameterInfo(oid.ID_RI_ECDH, standardized),
    ]
    card_security = build_card_security(encode_security_infos(card_security_infos), pki.document_signer,
                                        pki.document_signer_key, signing_time=_moment(today))
    return CardProfile(
        person=person,
        passwords=passwords,
        document_number=document_number,
        pace_protocol=pace_protocol,
        pace_parameter_id=parameter_id,
        chip_authentication=ca_key,
        restricted_identification=ri_keys,
        card_access=encode_security_infos(card_access_infos),
        card_security=card_security,
        trust_points=(pki.cvca.encode(),),
        current_date=today,
    )

