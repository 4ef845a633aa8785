"""The symmetric primitives of PACE, Chip Authentication and secure messaging with AES.

TR-03110-3 §A.2.4.2 and §F.4.2: AES in CBC mode, AES-CMAC truncated to 8 bytes, and the padding of
ISO/IEC 9797-1 method 2 (ISO/IEC 7816-4: ``80`` then zeros up to the block size). Encryption and MAC come
from ``cryptography``; this module only fixes the parameters the eID protocols use.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from eid.errors import MalformedData

BLOCK_SIZE = 16
MAC_SIZE = 8
ZERO_IV = bytes(BLOCK_SIZE)
KEY_SIZES = (16, 24, 32)


class PaddingError(MalformedData):
    """Decrypted data that does not end in ISO/IEC 9797-1 method 2 padding."""


class CipherInputError(MalformedData):
    """Ciphertext that is not a whole number of AES blocks."""


def _check_key(key: bytes) -> None:
    if len(key) not in KEY_SIZES:
        raise ValueError(f"AES keys are 16, 24 or 32 bytes, not {len(key)}")


def pad(data: bytes) -> bytes:
    """ISO/IEC 9797-1 padding method 2: append ``80`` and zeros to a multiple of the block size."""
    padded = data + b"\x80"
    return padded + bytes(-len(padded) % BLOCK_SIZE)


def unpad(data: bytes) -> bytes:
    """Remove ISO/IEC 9797-1 method 2 padding; PaddingError if there is none."""
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80 or len(data) - len(stripped) >= BLOCK_SIZE:
        raise PaddingError("decrypted data does not end in 80 00…00 padding")
    return stripped[:-1]


def encrypt_cbc(key: bytes, data: bytes, iv: bytes = ZERO_IV) -> bytes:
    """AES-CBC of already padded ``data`` (ISO/IEC 10116)."""
    _check_key(key)
    if len(data) % BLOCK_SIZE:
        raise CipherInputError(f"{len(data)} bytes are not a whole number of AES blocks")
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def decrypt_cbc(key: bytes, data: bytes, iv: bytes = ZERO_IV) -> bytes:
    """AES-CBC decryption; the result still carries its padding."""
    _check_key(key)
    if len(data) % BLOCK_SIZE or not data:
        raise CipherInputError(f"ciphertext of {len(data)} bytes is not a whole number of AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def encrypt_block(key: bytes, block: bytes) -> bytes:
    """One AES block in ECB mode — how secure messaging derives its IV from the SSC (§F.4.2.1)."""
    _check_key(key)
    if len(block) != BLOCK_SIZE:
        raise CipherInputError(f"an AES block has {BLOCK_SIZE} bytes, not {len(block)}")
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def mac(key: bytes, data: bytes) -> bytes:
    """AES-CMAC (NIST SP 800-38B) truncated to 8 bytes; ``data`` is MACed as given (pad it first where
    secure messaging requires)."""
    _check_key(key)
    c = CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()[:MAC_SIZE]
