import pytest
from hypothesis import given
from hypothesis import strategies as st

from eid import der
from eid.der import DerError
from eid.tlv import Tlv, decode_single


@pytest.mark.parametrize("value,encoded", [(0, "020100"), (127, "02017F"), (128, "02020080"), (256, "02020100"),
                                           (-1, "0201FF"), (-129, "0202FF7F")])
def test_integers(value, encoded):
    assert der.encode_integer(value).hex().upper() == encoded
    assert der.decode_integer(decode_single(bytes.fromhex(encoded))) == value


@given(st.integers(min_value=-(2**600), max_value=2**600))
def test_integer_round_trip(value):
    assert der.decode_integer(decode_single(der.encode_integer(value))) == value


@pytest.mark.parametrize("raw", ["0200", "02020001", "0202FF80"])
def test_non_minimal_integers_are_refused(raw):
    with pytest.raises(DerError):
        der.decode_integer(decode_single(bytes.fromhex(raw)))


def test_unsigned_boolean_bitstring_strings():
    with pytest.raises(DerError):
        der.decode_unsigned(decode_single(der.encode_integer(-5)))
    assert der.decode_boolean(decode_single(der.encode_boolean(True))) is True
    with pytest.raises(DerError):
        der.decode_boolean(Tlv(der.BOOLEAN, b"\x01"))
    assert der.decode_bit_string(decode_single(der.encode_bit_string(b"\x04\x01"))) == b"\x04\x01"
    with pytest.raises(DerError):
        der.decode_bit_string(Tlv(der.BIT_STRING, b"\x03\x80"))
    assert der.decode_string(decode_single(der.encode_string(der.UTF8_STRING, "KÖLN")), der.UTF8_STRING, "x") == "KÖLN"
    with pytest.raises(DerError):
        der.decode_string(Tlv(der.PRINTABLE_STRING, b"a*b"), der.PRINTABLE_STRING, "x")
    with pytest.raises(DerError):
        der.decode_string(Tlv(der.NUMERIC_STRING, b"12a"), der.NUMERIC_STRING, "x")
    with pytest.raises(DerError):
        der.decode_string(Tlv(der.UTF8_STRING, b"\xff"), der.UTF8_STRING, "x")
    with pytest.raises(DerError):
        der.encode_string(der.PRINTABLE_STRING, "ä")


def test_set_of_is_sorted():
    assert der.encode_set_of([b"\x02\x01\x05", b"\x02\x01\x01"]) == bytes.fromhex("3106020101020105")
