"""AES-CBC, CMAC-8 and ISO/IEC 9797-1 padding against published test vectors."""

import pytest

from eid import cipher

# NIST SP 800-38B appendix D.1 (AES-128 CMAC), examples 1 and 2; truncated to 8 bytes.
K128 = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")


def test_cmac_nist_examples_truncated():
    assert cipher.mac(K128, b"") == bytes.fromhex("bb1d6929e9593728")
    assert cipher.mac(K128, bytes.fromhex("6bc1bee22e409f96e93d7e117393172a")) == bytes.fromhex("070a16b46b4d4144")


def test_cbc_nist_sp800_38a_f21():
    # NIST SP 800-38A F.2.1 CBC-AES128.Encrypt, first block.
    iv = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
    plain = bytes.fromhex("6bc1bee22e409f96e93d7e117393172a")
    assert cipher.encrypt_cbc(K128, plain, iv) == bytes.fromhex("7649abac8119b246cee98e9b12e9197d")
    assert cipher.decrypt_cbc(K128, bytes.fromhex("7649abac8119b246cee98e9b12e9197d"), iv) == plain


def test_padding_method_2():
    assert cipher.pad(b"") == b"\x80" + bytes(15)
    assert cipher.pad(bytes(15)) == bytes(15) + b"\x80"
    assert cipher.pad(bytes(16)) == bytes(16) + b"\x80" + bytes(15)
    with pytest.raises(cipher.PaddingError):
        cipher.unpad(bytes(16))
    with pytest.raises(cipher.PaddingError):
        cipher.unpad(b"\x01" + b"\x80" + bytes(30))  # more than a block of zeros


def test_wrong_sizes():
    with pytest.raises(cipher.CipherInputError):
        cipher.decrypt_cbc(K128, bytes(15))
    with pytest.raises(ValueError):
        cipher.mac(bytes(10), b"")
