"""Key pairs and ECKA: our arithmetic agrees with cryptography's ECDH on every supported curve."""

import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec

from eid import ec, key_agreement
from eid.domain_parameters import CURVES


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c.name)
def test_shared_secret_and_point(curve):
    a, b = key_agreement.generate(curve, os.urandom), key_agreement.generate(curve, os.urandom)
    secret = key_agreement.shared_secret(curve, a.private, b.public)
    assert secret == key_agreement.shared_secret(curve, b.private, a.public)
    assert secret == key_agreement.shared_point(curve, a.private, b.public).x.to_bytes(curve.size, "big")
    theirs = crypto_ec.derive_private_key(b.private, curve.curve()).exchange(
        crypto_ec.ECDH(), crypto_ec.derive_private_key(a.private, curve.curve()).public_key())
    assert secret == theirs


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c.name)
def test_keys_on_a_foreign_generator(curve):
    generator = ec.multiply(curve, 7, ec.generator(curve))
    pair = key_agreement.generate(curve, os.urandom, generator)
    assert pair.public == ec.multiply(curve, pair.private * 7, ec.generator(curve))
    assert pair.compressed == pair.public.x.to_bytes(curve.size, "big")
    assert str(pair.private) not in repr(pair)


def test_random_scalar_rejects_out_of_range_draws():
    curve = CURVES[1]
    draws = iter([b"\xff" * curve.order_size, bytes(curve.order_size), (5).to_bytes(curve.order_size, "big")])
    assert key_agreement.random_scalar(curve, lambda n: next(draws)) == 5
