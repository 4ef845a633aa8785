"""The KDF of TR-03110-3 §A.2.3: hash choice per key length, counters, nonce."""

import hashlib

import pytest

from eid import oid
from eid.key_derivation import UnsupportedProtocol, aes_key_length, kdf, session_keys


def test_hash_by_key_length():
    secret = bytes(range(32))
    assert kdf(secret, 1, 16) == hashlib.sha1(secret + b"\x00\x00\x00\x01").digest()[:16]
    assert kdf(secret, 2, 24) == hashlib.sha256(secret + b"\x00\x00\x00\x02").digest()[:24]
    assert kdf(secret, 3, 32) == hashlib.sha256(secret + b"\x00\x00\x00\x03").digest()
    assert kdf(secret, 1, 16, b"nonce123") == hashlib.sha1(secret + b"nonce123\x00\x00\x00\x01").digest()[:16]


def test_session_keys_and_protocols():
    keys = session_keys(b"k", 32, b"r")
    assert (keys.k_enc, keys.k_mac) == (kdf(b"k", 1, 32, b"r"), kdf(b"k", 2, 32, b"r"))
    assert aes_key_length(oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_192) == 24
    assert aes_key_length(oid.ID_CA_ECDH_AES_CBC_CMAC_256) == 32
    with pytest.raises(UnsupportedProtocol):
        aes_key_length(oid.ID_PACE_ECDH_GM_3DES_CBC_CBC)
