import pytest
from hypothesis import given
from hypothesis import strategies as st

from eid.apdu import EXTENDED_MAX_NE, SHORT_MAX_NE, ApduError, CommandApdu, ResponseApdu
from tests.support.properties import result_or_our_error


@pytest.mark.parametrize("apdu,encoded", [
    (CommandApdu(0x00, 0xA4, 0x02, 0x0C, bytes.fromhex("011C")), "00A4020C02011C"),  # case 3S: SELECT EF.CardAccess
    (CommandApdu(0x00, 0xB0, 0x9C, 0x00, ne=SHORT_MAX_NE), "00B09C0000"),  # case 2S, Le 00 = 256
    (CommandApdu(0x00, 0x84, 0x00, 0x00, ne=8), "0084000008"),
    (CommandApdu(0x00, 0x22, 0xC1, 0xA4), "0022C1A4"),  # case 1
    (CommandApdu(0x10, 0x86, 0x00, 0x00, b"\x7c\x00", ne=SHORT_MAX_NE), "10860000027C0000"),  # case 4S
    (CommandApdu(0x00, 0xB0, 0x00, 0x00, ne=EXTENDED_MAX_NE), "00B00000000000"),  # case 2E, Le 0000 = 65536
    (CommandApdu(0x00, 0xB0, 0x00, 0x00, ne=1000), "00B000000003E8"),
    (CommandApdu(0x00, 0x2A, 0x00, 0xBE, bytes(300)), "002A00BE00012C" + "00" * 300),  # case 3E
    (CommandApdu(0x0C, 0xB0, 0x00, 0x00, bytes(300), ne=EXTENDED_MAX_NE), "0CB0000000012C" + "00" * 300 + "0000"),  # 4E
])
def test_known_encodings(apdu, encoded):
    assert apdu.encode().hex().upper() == encoded
    assert CommandApdu.parse(bytes.fromhex(encoded)) == apdu


def test_extended_when_either_length_needs_it():
    assert not CommandApdu(0, 0xB0, 0, 0, bytes(255), ne=256).extended
    assert CommandApdu(0, 0xB0, 0, 0, bytes(256)).extended
    assert CommandApdu(0, 0xB0, 0, 0, ne=257).extended


@pytest.mark.parametrize("kwargs", [dict(cla=256), dict(ins=-1), dict(data=bytes(65536)), dict(ne=0), dict(ne=65537)])
def test_invalid_commands(kwargs):
    fields = dict(cla=0, ins=0xB0, p1=0, p2=0) | kwargs
    with pytest.raises(ApduError):
        CommandApdu(**fields)


@pytest.mark.parametrize("raw", ["00B000", "FFB00000", "00B0000005AABB", "00B000000000", "00B00000000003AA", "00B0000000000501"])
def test_malformed_commands(raw):
    with pytest.raises(ApduError):
        CommandApdu.parse(bytes.fromhex(raw))


def test_responses():
    response = ResponseApdu.parse(bytes.fromhex("01029000"))
    assert response == ResponseApdu(b"\x01\x02", 0x9000) and response.ok
    assert (response.sw1, response.sw2) == (0x90, 0x00)
    assert ResponseApdu(b"", 0x63C2).encode() == bytes.fromhex("63C2")
    with pytest.raises(ApduError):
        ResponseApdu.parse(b"\x90")


commands = st.builds(
    CommandApdu,
    st.integers(0, 0xFE), st.integers(0, 255), st.integers(0, 255), st.integers(0, 255),
    st.binary(max_size=400), st.one_of(st.none(), st.integers(1, EXTENDED_MAX_NE)),
)


@given(commands)
def test_round_trip(apdu):
    assert CommandApdu.parse(apdu.encode()) == apdu


@given(st.binary(max_size=300))
def test_any_bytes_parse_or_raise_our_error(data):
    parsed = result_or_our_error(CommandApdu.parse, data)
    if parsed is not None:
        assert CommandApdu.parse(parsed.encode()) == parsed
    result_or_our_error(ResponseApdu.parse, data)
