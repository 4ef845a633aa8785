"""A small CV certificate chain (CVCA → DV → terminal) built with eid.cvc, for tests of the modules
that consume certificates."""

from __future__ import annotations

import datetime
from functools import cache

from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from eid import oid
from eid.chat import AccessRight, Chat, Role
from eid.cvc import CvPublicKey, ImportedKey, create_certificate, description_extension, sector_extension
from eid.domain_parameters import by_name
from eid.signature import PrivateKeySigner

DAY = datetime.date(2025, 3, 1)


def public_point(private: crypto_ec.EllipticCurvePrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


class Pki:
    """A three-level chain made with this module, on any curve."""

    def __init__(self, curve_name="brainpoolP256r1", algorithm=oid.ID_TA_ECDSA_SHA_256, cvca_chr="DETESTeID00005"):
        self.curve = by_name(curve_name)
        self.algorithm = algorithm
        self.cvca_key = crypto_ec.generate_private_key(self.curve.curve())
        self.dv_key = crypto_ec.generate_private_key(self.curve.curve())
        self.terminal_key = crypto_ec.generate_private_key(self.curve.curve())
        self.cvca = self.issue(self.cvca_key, cvca_chr, self.cvca_key, cvca_chr, Chat(Role.CVCA, set(AccessRight)), explicit=True)
        self.dv = self.issue(self.cvca_key, cvca_chr, self.dv_key, "DEDVTEST00001", Chat(Role.DV_OFFICIAL, set(AccessRight)))
        self.terminal = self.issue(
            self.dv_key, "DEDVTEST00001", self.terminal_key, "DETERMTEST00001",
            Chat(Role.TERMINAL, {AccessRight.READ_DG4, AccessRight.AGE_VERIFICATION}),
            extensions=(description_extension(b"\x11" * 32), sector_extension(b"\x22" * 32, b"\x33" * 32)),
        )

    def key(self, private, explicit=False):
        return CvPublicKey(self.algorithm, public_point(private), self.curve if explicit else None)

    def issue(self, signer_key, car, holder_key, chr, chat, explicit=False, effective=DAY, days=90, extensions=()):
        return create_certificate(
            car=car, public_key=self.key(holder_key, explicit), chr=chr, chat=chat,
            effective_date=effective, expiration_date=effective + datetime.timedelta(days=days),
            signer=PrivateKeySigner(signer_key, self.algorithm), extensions=extensions,
        )

    def trust_point(self):
        return ImportedKey.trust_point(self.cvca)

    @staticmethod
    @cache
    def shared() -> Pki:
        """One chain for property tests, which should not make keys for every example."""
        return Pki()
