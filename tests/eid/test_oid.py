import pytest
from hypothesis import given
from hypothesis import strategies as st

from eid import oid
from eid.oid import OidError
from tests.support.properties import result_or_our_error


@pytest.mark.parametrize(
    "dotted,der",
    [
        ("1.2.840.10045.2.1", "06072A8648CE3D0201"),  # id-ecPublicKey, RFC 5480
        ("2.100.3", "0603813403"),  # X.690 §8.19.5 example
        (oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_128, "060A04007F00070202040202"),  # TR-03110 worked example EF.CardAccess
        (oid.ID_AT, "060904007F00070301020 2".replace(" ", "")),
    ],
)
def test_known_encodings(dotted, der):
    assert oid.encode(dotted) == bytes.fromhex(der)
    assert oid.decode(bytes.fromhex(der)) == dotted


def test_names():
    assert oid.name(oid.ID_TA_ECDSA_SHA_256) == "id-ta-ecdsa-sha-256"
    assert oid.name("1.2.3") == "1.2.3"


@pytest.mark.parametrize("bad", ["", "1", "3.1", "1.40", "1..2", "1.02", "a.b"])
def test_rejects_bad_dotted(bad):
    with pytest.raises(OidError):
        oid.encode_value(bad)


@pytest.mark.parametrize("bad", ["", "80", "2A86", "2A8001"])
def test_rejects_bad_content(bad):
    with pytest.raises(OidError):
        oid.decode_value(bytes.fromhex(bad))


@given(st.lists(st.integers(min_value=0, max_value=2**70), min_size=0, max_size=8), st.integers(0, 2), st.integers(0, 39))
def test_round_trip(rest, first, second):
    dotted = ".".join(str(n) for n in [first, second, *rest])
    assert oid.decode_value(oid.encode_value(dotted)) == dotted


@given(st.binary(max_size=40))
def test_any_bytes_decode_or_raise_our_error(data):
    decoded = result_or_our_error(oid.decode_value, data)
    assert decoded is None or isinstance(decoded, str)
