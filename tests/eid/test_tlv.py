import pytest
from hypothesis import given
from hypothesis import strategies as st

from eid import tlv
from eid.tlv import Tlv, TlvError
from tests.support.properties import result_or_our_error

tags = st.one_of(
    st.integers(min_value=0x01, max_value=0xFE).filter(lambda t: t & 0x1F != 0x1F),
    st.integers(min_value=0x1F, max_value=0xFF).filter(lambda t: t & 0x1F == 0x1F).map(lambda t: t << 8 | 0x21),
    st.sampled_from([0x5F29, 0x7F21, 0x7F4E, 0x7F49, 0x5F37, 0x9F1F, 0xBF8101]),
)


@pytest.mark.parametrize("length,encoded", [(0, "00"), (127, "7F"), (128, "8180"), (255, "81FF"), (256, "820100"),
                                            (65535, "82FFFF"), (65536, "83010000")])
def test_length_forms(length, encoded):
    assert tlv.encode_length(length).hex().upper() == encoded
    data = tlv.encode(0x04, bytes(length))
    assert tlv.decode_single(data) == Tlv(0x04, bytes(length))


def test_constructed_children():
    data = tlv.encode(0x7F4C, [tlv.encode(0x06, b"\x04\x00"), tlv.encode(0x53, b"\x01")])
    outer = tlv.decode_single(data, 0x7F4C)
    assert outer.constructed
    assert outer.child(0x53).value == b"\x01"
    assert outer.optional_child(0x54) is None
    with pytest.raises(TlvError, match="missing"):
        outer.child(0x54)
    with pytest.raises(TlvError, match="primitive"):
        outer.child(0x53).children
    repeated = tlv.decode_single(tlv.encode(0x30, [tlv.encode(0x02, b"\x01")] * 2))
    with pytest.raises(TlvError, match="repeated"):
        repeated.child(0x02)
    with pytest.raises(TlvError, match="repeated"):
        repeated.optional_child(0x02)


@pytest.mark.parametrize("raw,message", [
    ("", "no TLV"),
    ("5F", "tag runs past"),
    ("5F8080808001", "longer than 4"),
    ("04", "no length"),
    ("0480", "indefinite"),
    ("0485FFFFFFFFFF", "5-byte length"),
    ("0482FF", "runs past"),
    ("040301", "runs past"),
])
def test_malformed(raw, message):
    with pytest.raises(TlvError, match=message):
        tlv.decode_one(bytes.fromhex(raw))


def test_decode_single_checks_rest_and_tag():
    with pytest.raises(TlvError, match="bytes after"):
        tlv.decode_single(bytes.fromhex("040000"))
    with pytest.raises(TlvError, match="expected tag"):
        tlv.decode_single(bytes.fromhex("0400"), 0x05)
    assert tlv.decode_all(bytes.fromhex("04000501FF")) == [Tlv(4, b""), Tlv(5, b"\xff")]


@given(tags, st.binary(max_size=300))
def test_round_trip(tag, value):
    encoded = tlv.encode(tag, value)
    assert tlv.decode_single(encoded) == Tlv(tag, value)
    assert Tlv(tag, value).encode() == encoded


@given(st.lists(st.tuples(tags, st.binary(max_size=40)), max_size=6))
def test_sequences_round_trip(items):
    data = b"".join(tlv.encode(t, v) for t, v in items)
    assert tlv.decode_all(data) == [Tlv(t, v) for t, v in items]


@given(st.binary(max_size=64))
def test_any_bytes_decode_or_raise_our_error(data):
    result_or_our_error(tlv.decode_all, data)
    decoded = result_or_our_error(tlv.decode_single, data)
    if decoded is not None and decoded.constructed:
        result_or_our_error(lambda _: decoded.children, data)
