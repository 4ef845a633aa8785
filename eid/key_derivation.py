"""The key derivation function of TR-03110-3 §A.2.3 and the session keys it yields.

``KDF(K, [r], c) = H(K ‖ r ‖ c)`` with a 32-bit big-endian counter ``c``: 1 for the encryption key,
2 for the MAC key, 3 for the key derived from a PACE password. H is SHA-1 for AES-128 and SHA-256 for
AES-192/256; the key is the leading bytes of the hash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from eid import oid
from eid.errors import EidError

COUNTER_ENC = 1
COUNTER_MAC = 2
COUNTER_PASSWORD = 3


class UnsupportedProtocol(EidError):
    """A PACE or Chip Authentication object identifier this implementation does not support."""


# TR-03110-3 tables 7 and 9: the AES variants with ECDH (3DES and DH are not supported).
_AES_KEY_LENGTHS: dict[str, int] = {
    oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_128: 16,
    oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_192: 24,
    oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_256: 32,
    oid.ID_CA_ECDH_AES_CBC_CMAC_128: 16,
    oid.ID_CA_ECDH_AES_CBC_CMAC_192: 24,
    oid.ID_CA_ECDH_AES_CBC_CMAC_256: 32,
}


def aes_key_length(protocol: str) -> int:
    """Bytes of the AES key a PACE (ECDH, Generic Mapping) or CA (ECDH) protocol OID calls for."""
    try:
        return _AES_KEY_LENGTHS[protocol]
    except KeyError:
        raise UnsupportedProtocol(f"protocol {oid.name(protocol)} is not supported") from None


def kdf(secret: bytes, counter: int, key_length: int, nonce: bytes = b"") -> bytes:
    """KDF(K, [r], c) truncated to ``key_length`` (16, 24 or 32) bytes."""
    if key_length == 16:
        digest = hashlib.sha1(secret + nonce + counter.to_bytes(4, "big")).digest()
    elif key_length in (24, 32):
        digest = hashlib.sha256(secret + nonce + counter.to_bytes(4, "big")).digest()
    else:
        raise ValueError(f"no AES key of {key_length} bytes")
    return digest[:key_length]


@dataclass(frozen=True, slots=True)
class SessionKeys:
    """K_enc and K_mac of one secure-messaging session. Never printed: the repr hides them."""

    k_enc: bytes = field(repr=False)
    k_mac: bytes = field(repr=False)

    @property
    def key_length(self) -> int:
        return len(self.k_enc)


def session_keys(secret: bytes, key_length: int, nonce: bytes = b"") -> SessionKeys:
    """K_enc = KDF_Enc(K, [r]) and K_mac = KDF_MAC(K, [r]) (the nonce r only for CA version 2)."""
    return SessionKeys(kdf(secret, COUNTER_ENC, key_length, nonce), kdf(secret, COUNTER_MAC, key_length, nonce))
