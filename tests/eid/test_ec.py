import pytest
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec
from hypothesis import given, settings
from hypothesis import strategies as st

from eid import ec
from eid.domain_parameters import CURVES, by_name
from eid.ec import InvalidPoint

BRAINPOOL = by_name("brainpoolP256r1")


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c.name)
def test_multiply_matches_cryptography(curve):
    for k in (1, 2, 3, 15, 16, 17, curve.n - 1, 0x1234567890ABCDEF ** 3 % curve.n):
        mine = ec.multiply(curve, k, ec.generator(curve))
        theirs = crypto_ec.derive_private_key(k, curve.curve()).public_key().public_numbers()
        assert (mine.x, mine.y) == (theirs.x, theirs.y)


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=BRAINPOOL.n - 1), st.integers(min_value=1, max_value=BRAINPOOL.n - 1))
def test_addition_is_scalar_addition(a, b):
    g = ec.generator(BRAINPOOL)
    assert ec.add(BRAINPOOL, ec.multiply(BRAINPOOL, a, g), ec.multiply(BRAINPOOL, b, g)) == ec.multiply(
        BRAINPOOL, a + b, g
    )


def test_infinity_cases():
    g = ec.generator(BRAINPOOL)
    minus_g = ec.Point(g.x, BRAINPOOL.p - g.y)
    assert ec.add(BRAINPOOL, g, minus_g) is None
    assert ec.multiply(BRAINPOOL, BRAINPOOL.n, g) is None
    assert ec.add(BRAINPOOL, None, g) == g
    assert ec.add(BRAINPOOL, g, g) == ec.multiply(BRAINPOOL, 2, g)


def test_point_encoding_round_trip_and_validation():
    g = ec.generator(BRAINPOOL)
    encoded = ec.encode_point(BRAINPOOL, g)
    assert encoded[0] == 4 and len(encoded) == 65
    assert ec.decode_point(BRAINPOOL, encoded) == g
    off_curve = encoded[:-1] + bytes([encoded[-1] ^ 1])
    with pytest.raises(InvalidPoint, match="not on brainpoolP256r1"):
        ec.decode_point(BRAINPOOL, off_curve)
    with pytest.raises(InvalidPoint, match="uncompressed"):
        ec.decode_point(BRAINPOOL, b"\x02" + encoded[1:33])


@given(st.binary(max_size=80))
def test_decode_point_accepts_only_points(data):
    try:
        point = ec.decode_point(BRAINPOOL, data)
    except InvalidPoint:
        return
    assert ec.is_on_curve(BRAINPOOL, point)
