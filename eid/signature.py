"""ECDSA signatures in the plain format of BSI TR-03111 §5.2.1 (r ‖ s, each as long as the group order).

CV certificates and Terminal Authentication carry plain signatures; ``cryptography`` speaks DER
(X9.62). This module converts between the two and defines the ``Signer`` interface through which a
terminal key (in memory, in an HSM, …) signs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from eid import oid
from eid.errors import EidError, VerificationFailed


class UnsupportedAlgorithm(EidError):
    """A signature algorithm this implementation does not support (e.g. TA with RSA)."""


class SignatureInvalid(VerificationFailed):
    """A plain ECDSA signature that does not verify."""


# TR-03110-3 §A.7.4.1, table 18
TA_ECDSA_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    oid.ID_TA_ECDSA_SHA_1: hashes.SHA1,
    oid.ID_TA_ECDSA_SHA_224: hashes.SHA224,
    oid.ID_TA_ECDSA_SHA_256: hashes.SHA256,
    oid.ID_TA_ECDSA_SHA_384: hashes.SHA384,
    oid.ID_TA_ECDSA_SHA_512: hashes.SHA512,
}


def hash_for(algorithm: str) -> hashes.HashAlgorithm:
    """The hash function of a Terminal Authentication ECDSA object identifier."""
    try:
        return TA_ECDSA_HASHES[algorithm]()
    except KeyError:
        raise UnsupportedAlgorithm(f"signature algorithm {oid.name(algorithm)} is not supported") from None


def digest(algorithm: str, data: bytes) -> bytes:
    """Hash ``data`` with the hash function of a TA object identifier (as certificate extensions do)."""
    h = hashes.Hash(hash_for(algorithm))
    h.update(data)
    return h.finalize()


def to_plain(der_signature: bytes, size: int) -> bytes:
    r, s = decode_dss_signature(der_signature)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def from_plain(signature: bytes) -> bytes:
    if not signature or len(signature) % 2:
        raise SignatureInvalid(f"plain ECDSA signature of odd length {len(signature)}")
    half = len(signature) // 2
    return encode_dss_signature(int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big"))


def verify(public_key: ec.EllipticCurvePublicKey, algorithm: str, signature: bytes, data: bytes) -> None:
    """Check a plain ECDSA signature; raises SignatureInvalid."""
    size = (public_key.curve.key_size + 7) // 8
    if len(signature) != 2 * size:
        raise SignatureInvalid(f"plain ECDSA signature of {len(signature)} bytes, expected {2 * size}")
    try:
        public_key.verify(from_plain(signature), data, ec.ECDSA(hash_for(algorithm)))
    except InvalidSignature:
        raise SignatureInvalid("ECDSA signature does not verify") from None


class Signer(Protocol):
    """Something that signs with a terminal (or CA) key: plain r ‖ s under a TA algorithm."""

    algorithm: str
    """The TA object identifier (e.g. id-TA-ECDSA-SHA-256) that fixes the hash function."""

    def sign(self, data: bytes) -> bytes: ...


@dataclass(frozen=True)
class PrivateKeySigner:
    """A Signer around an in-memory ``cryptography`` EC private key."""

    private_key: ec.EllipticCurvePrivateKey
    algorithm: str

    def sign(self, data: bytes) -> bytes:
        der = self.private_key.sign(data, ec.ECDSA(hash_for(self.algorithm)))
        return to_plain(der, (self.private_key.curve.key_size + 7) // 8)
