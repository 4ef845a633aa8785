import pytest
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec

from eid import oid, signature
from eid.signature import PrivateKeySigner, SignatureInvalid, UnsupportedAlgorithm


@pytest.mark.parametrize("curve", [crypto_ec.BrainpoolP256R1(), crypto_ec.BrainpoolP512R1(), crypto_ec.SECP521R1()])
def test_plain_signatures_have_fixed_length_and_verify(curve):
    key = crypto_ec.generate_private_key(curve)
    signer = PrivateKeySigner(key, oid.ID_TA_ECDSA_SHA_256)
    size = (curve.key_size + 7) // 8
    for message in (b"", b"abc", bytes(1000)):
        sig = signer.sign(message)
        assert len(sig) == 2 * size
        signature.verify(key.public_key(), oid.ID_TA_ECDSA_SHA_256, sig, message)
        with pytest.raises(SignatureInvalid):
            signature.verify(key.public_key(), oid.ID_TA_ECDSA_SHA_256, sig, message + b"x")
        with pytest.raises(SignatureInvalid):
            signature.verify(key.public_key(), oid.ID_TA_ECDSA_SHA_256, sig[:-1], message)


def test_plain_and_der_convert_both_ways():
    der = signature.from_plain(bytes.fromhex("0001" + "0002"))
    assert der == bytes.fromhex("3006020101020102")
    assert signature.to_plain(der, 2) == bytes.fromhex("00010002")


def test_rsa_terminal_authentication_is_not_supported():
    with pytest.raises(UnsupportedAlgorithm):
        signature.hash_for(oid.ID_TA_RSA_PSS_SHA_256)


def test_digest_follows_the_algorithm():
    assert len(signature.digest(oid.ID_TA_ECDSA_SHA_224, b"x")) == 28
    assert len(signature.digest(oid.ID_TA_ECDSA_SHA_512, b"x")) == 64
