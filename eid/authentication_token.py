"""The authentication token of PACE and Chip Authentication version 2 (TR-03110-3 §A.2.4, §D.3).

``T = CMAC(K_mac, 7F49 { 06 protocol-OID, 86 ephemeral-public-point })`` truncated to 8 bytes, where
the point is the *other* party's ephemeral public key.
"""

from __future__ import annotations

import hmac

from eid import cipher, oid
from eid.tlv import encode

TAG_PUBLIC_KEY = 0x7F49
TAG_EC_PUBLIC_POINT = 0x86


def public_key_data(protocol: str, public_point: bytes) -> bytes:
    """The public key data object the token is computed over."""
    return encode(TAG_PUBLIC_KEY, [oid.encode(protocol), encode(TAG_EC_PUBLIC_POINT, public_point)])


def compute(k_mac: bytes, protocol: str, public_point: bytes) -> bytes:
    return cipher.mac(k_mac, public_key_data(protocol, public_point))


def matches(token: bytes, k_mac: bytes, protocol: str, public_point: bytes) -> bool:
    """Constant-time comparison of a received token with the expected one."""
    return hmac.compare_digest(token, compute(k_mac, protocol, public_point))
