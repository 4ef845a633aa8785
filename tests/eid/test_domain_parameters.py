import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from eid import domain_parameters
from eid.domain_parameters import CURVES, UnsupportedDomainParameters


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c.name)
def test_generator_and_order_agree_with_cryptography(curve):
    one = ec.derive_private_key(1, curve.curve()).public_key().public_numbers()
    minus_one = ec.derive_private_key(curve.n - 1, curve.curve()).public_key().public_numbers()
    assert (one.x, one.y) == (curve.gx, curve.gy)
    assert (minus_one.x, minus_one.y) == (curve.gx, curve.p - curve.gy)
    assert curve.curve().key_size == curve.p.bit_length()


def test_lookup_by_id_name_and_explicit_parameters():
    brainpool = domain_parameters.by_standardized_id(13)
    assert brainpool.name == "brainpoolP256r1" and brainpool.size == 32
    assert domain_parameters.by_name("prime256v1").standardized_id == 12
    c = brainpool
    assert domain_parameters.by_explicit(c.p, c.a, c.b, c.gx, c.gy, c.n) is brainpool


def test_unsupported_parameters_are_named():
    with pytest.raises(UnsupportedDomainParameters, match="standardized domain parameters 0"):
        domain_parameters.by_standardized_id(0)
    c = domain_parameters.by_standardized_id(13)
    with pytest.raises(UnsupportedDomainParameters):
        domain_parameters.by_explicit(c.p, c.a, c.b + 1, c.gx, c.gy, c.n)
