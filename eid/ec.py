"""Elliptic-curve point arithmetic over prime fields — only what ``cryptography`` does not expose.

PACE's Generic Mapping (ICAO 9303-11 §4.4.3.3.1, TR-03110-3 §A.3.4.1) computes the new generator
G' = s·G + H and key pairs on G'; ``cryptography`` offers neither point addition nor scalar
multiplication with a generator other than the curve's. This module does exactly that, with Jacobian
coordinates, and nothing else: ordinary key generation, ECDH on the standard generator and ECDSA stay
with ``cryptography``.
"""

from __future__ import annotations

from dataclasses import dataclass

from eid.domain_parameters import Curve
from eid.errors import MalformedData


class InvalidPoint(MalformedData):
    """Bytes that do not encode a point on the curve (or encode the point at infinity)."""


@dataclass(frozen=True, slots=True)
class Point:
    """An affine point; ``None`` coordinates never occur — infinity is represented by ``INFINITY``."""

    x: int
    y: int


INFINITY: Point | None = None

_Jacobian = tuple[int, int, int]


def generator(curve: Curve) -> Point:
    return Point(curve.gx, curve.gy)


def is_on_curve(curve: Curve, point: Point) -> bool:
    p = curve.p
    if not (0 <= point.x < p and 0 <= point.y < p):
        return False
    return (point.y * point.y - (point.x * point.x * point.x + curve.a * point.x + curve.b)) % p == 0


def encode_point(curve: Curve, point: Point) -> bytes:
    """Uncompressed encoding 04 ‖ x ‖ y (TR-03111 §3.2.1)."""
    size = curve.size
    return b"\x04" + point.x.to_bytes(size, "big") + point.y.to_bytes(size, "big")


def decode_point(curve: Curve, data: bytes) -> Point:
    """Decode and validate an uncompressed point: on the curve, not infinity."""
    size = curve.size
    if len(data) != 1 + 2 * size or data[0] != 0x04:
        raise InvalidPoint(f"expected an uncompressed {curve.name} point of {1 + 2 * size} bytes")
    point = Point(int.from_bytes(data[1 : 1 + size], "big"), int.from_bytes(data[1 + size :], "big"))
    if not is_on_curve(curve, point):
        raise InvalidPoint(f"point is not on {curve.name}")
    return point


def _to_jacobian(point: Point | None) -> _Jacobian:
    if point is None:
        return (1, 1, 0)
    return (point.x, point.y, 1)


def _to_affine(curve: Curve, jp: _Jacobian) -> Point | None:
    x, y, z = jp
    if z == 0:
        return None
    p = curve.p
    z_inv = pow(z, -1, p)
    z_inv2 = z_inv * z_inv % p
    return Point(x * z_inv2 % p, y * z_inv2 * z_inv % p)


def _double(curve: Curve, jp: _Jacobian) -> _Jacobian:
    x, y, z = jp
    if z == 0 or y == 0:
        return (1, 1, 0)
    p = curve.p
    yy = y * y % p
    s = 4 * x * yy % p
    zz = z * z % p
    m = (3 * x * x + curve.a * zz * zz) % p
    x3 = (m * m - 2 * s) % p
    y3 = (m * (s - x3) - 8 * yy * yy) % p
    z3 = 2 * y * z % p
    return (x3, y3, z3)


def _add(curve: Curve, jp: _Jacobian, jq: _Jacobian) -> _Jacobian:
    x1, y1, z1 = jp
    x2, y2, z2 = jq
    if z1 == 0:
        return jq
    if z2 == 0:
        return jp
    p = curve.p
    z1z1 = z1 * z1 % p
    z2z2 = z2 * z2 % p
    u1 = x1 * z2z2 % p
    u2 = x2 * z1z1 % p
    s1 = y1 * z2 * z2z2 % p
    s2 = y2 * z1 * z1z1 % p
    if u1 == u2:
        if s1 == s2:
            return _double(curve, jp)
        return (1, 1, 0)
    h = (u2 - u1) % p
    r = (s2 - s1) % p
    hh = h * h % p
    hhh = h * hh % p
    v = u1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    y3 = (r * (v - x3) - s1 * hhh) % p
    z3 = h * z1 * z2 % p
    return (x3, y3, z3)


def add(curve: Curve, p1: Point | None, p2: Point | None) -> Point | None:
    return _to_affine(curve, _add(curve, _to_jacobian(p1), _to_jacobian(p2)))


def multiply(curve: Curve, k: int, point: Point | None) -> Point | None:
    """k·P by a fixed-window (4-bit) method; k is reduced modulo the group order."""
    k %= curve.n
    if k == 0 or point is None:
        return None
    base = _to_jacobian(point)
    table: list[_Jacobian] = [(1, 1, 0), base]
    for _ in range(14):
        table.append(_add(curve, table[-1], base))
    acc: _Jacobian = (1, 1, 0)
    for shift in range((k.bit_length() + 3) // 4 * 4 - 4, -4, -4):
        for _ in range(4):
            acc = _double(curve, acc)
        digit = (k >> shift) & 0xF
        if digit:
            acc = _add(curve, acc, table[digit])
    return _to_affine(curve, acc)
