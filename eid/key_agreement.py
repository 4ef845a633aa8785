"""Elliptic-curve key pairs and key agreement (ECKA, BSI TR-03111 §4.3.1) for PACE, CA and RI.

Key pairs may live on the curve's own generator (CA, RI, the PACE mapping phase) or on PACE's mapped
generator. Where ``cryptography`` can do the work (public keys on the standard generator, the
x-coordinate of a shared point) it does; only multiples of a foreign generator and the full shared point
H that the Generic Mapping adds go through :mod:`eid.ec`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec

from eid import ec
from eid.domain_parameters import Curve
from eid.ec import Point

Rng = Callable[[int], bytes]


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A private scalar and its public point on ``generator`` (None: the curve's own generator)."""

    curve: Curve
    private: int = field(repr=False)
    public: Point
    generator: Point | None = None

    @property
    def public_bytes(self) -> bytes:
        """Uncompressed encoding 04 ‖ x ‖ y."""
        return ec.encode_point(self.curve, self.public)

    @property
    def compressed(self) -> bytes:
        """Comp(PK) for ECDH: the x-coordinate (TR-03110-3 §A.2.2.3)."""
        return compress(self.curve, self.public)


def random_scalar(curve: Curve, rng: Rng) -> int:
    """A uniform private key in [1, n-1] from ``rng`` (rejection sampling on the order's bit length).

    A known-answer test pins a key by letting ``rng`` return exactly its big-endian bytes.
    """
    bits = curve.n.bit_length()
    while True:
        candidate = int.from_bytes(rng(curve.order_size), "big") & ((1 << bits) - 1)
        if 0 < candidate < curve.n:
            return candidate


def _standard_public(curve: Curve, private: int) -> Point:
    numbers = crypto_ec.derive_private_key(private, curve.curve()).public_key().public_numbers()
    return Point(numbers.x, numbers.y)


def from_private(curve: Curve, private: int, generator: Point | None = None) -> KeyPair:
    if not 0 < private < curve.n:
        raise ValueError("private key out of range")
    if generator is None or generator == ec.generator(curve):
        return KeyPair(curve, private, _standard_public(curve, private), None)
    public = ec.multiply(curve, private, generator)
    if public is None:
        raise ValueError("public key is the point at infinity")
    return KeyPair(curve, private, public, generator)


def generate(curve: Curve, rng: Rng, generator: Point | None = None) -> KeyPair:
    return from_private(curve, random_scalar(curve, rng), generator)


def multiply_generator(curve: Curve, scalar: int) -> Point:
    """scalar·G on the curve's own generator (via ``cryptography``); scalar must be in [1, n-1]."""
    return _standard_public(curve, scalar % curve.n)


def shared_point(curve: Curve, private: int, peer: Point) -> Point:
    """The full point private·peer (the Generic Mapping's H needs both coordinates)."""
    point = ec.multiply(curve, private, peer)
    if point is None:
        raise ValueError("key agreement gave the point at infinity")
    return point


def shared_secret(curve: Curve, private: int, peer: Point) -> bytes:
    """ECKA: the x-coordinate of private·peer as a field-size octet string (cofactor 1 curves)."""
    private_key = crypto_ec.derive_private_key(private, curve.curve())
    public_key = crypto_ec.EllipticCurvePublicNumbers(peer.x, peer.y, curve.curve()).public_key()
    return private_key.exchange(crypto_ec.ECDH(), public_key)


def compress(curve: Curve, point: Point) -> bytes:
    return point.x.to_bytes(curve.size, "big")
