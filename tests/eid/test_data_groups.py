import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eid import data_groups as dg
from eid.data_groups import (
    NO_RESIDENCE_IN_GERMANY,
    DataGroupError,
    FreeTextPlace,
    OptionalData,
    PartialDate,
    Place,
    Text,
    decode_data_group,
    encode_data_group,
)
from eid.errors import EidError

# Encodings as AusweisApp's simulator card and German ID cards write them (explicit tags, TR-03110-4).
KNOWN = [
    (1, "ID", "610413024944"),
    (2, "D", "6203130144"),
    (3, datetime.date(2034, 6, 30), "630A12083230333430363330"),
    (4, "ERIKA", "64070C054552494B41"),
    (8, PartialDate(1984, 8, 12), "680A12083139383430383132"),
    (9, FreeTextPlace("BERLIN"), "690AA1080C064245524C494E"),
    (11, "F", "6B03130146"),
    (17, Place(city="KÖLN", country="D", street="HEIDESTRAẞE 17", zipcode="51147"),
     "712D302BAA120C10484549444553545241E1BA9E45203137AB070C054BC3964C4EAD03130144AE0713053531313437"),
    (18, bytes.fromhex("02760503150000"), "7209040702760503150000"),
    (19, Text("RESIDENCE PERMIT 1"), "7316A1140C125245534944454E4345205045524D49542031"),
    (21, "tel:+49-030-1234567", "7515131374656C3A2B34392D3033302D31323334353637"),
]

from tests.support.properties import corrupt, result_or_our_error


@pytest.mark.parametrize("number,value,encoded", KNOWN, ids=[f"DG{k[0]}" for k in KNOWN])
def test_known_encodings(number, value, encoded):
    assert encode_data_group(number, value).hex().upper() == encoded
    assert decode_data_group(number, bytes.fromhex(encoded)) == value


def test_more_round_trips():
    values = {
        2: Place(city="BERLIN", country="D"),
        12: (OptionalData("1.2.840.10045.1.1", bytes.fromhex("020101")), OptionalData("1.2.3")),
        14: b"\xff\x4f\xff\x51",
        15: datetime.date(2019, 11, 1),
        16: bytes.fromhex("0400"),
        17: NO_RESIDENCE_IN_GERMANY,
        20: Text("Erwerbstätigkeit gestattet " * 20, compressed=True),
        22: "erika@mustermann.de",
    }
    for number, value in values.items():
        decoded = decode_data_group(number, encode_data_group(number, value))
        assert (set(decoded) if number == 12 else decoded) == (set(value) if number == 12 else value)  # SET OF is sorted
    both = (Place(city="KÖLN", country="D"), FreeTextPlace("Zweitwohnsitz"))
    decoded = decode_data_group(17, encode_data_group(17, both))
    assert set(decoded) == set(both)


def test_no_residence_in_germany():
    assert encode_data_group(17, NO_RESIDENCE_IN_GERMANY).hex().upper() == "7125A2230C21" + b"keine Hauptwohnung in Deutschland".hex().upper()


@pytest.mark.parametrize("text,latest", [
    ("19840812", datetime.date(1984, 8, 12)),
    ("198408  ", datetime.date(1984, 8, 31)),
    ("198402  ", datetime.date(1984, 2, 29)),
    ("198412  ", datetime.date(1984, 12, 31)),
    ("1984    ", datetime.date(1984, 12, 31)),
])
def test_dates_with_unknown_parts(text, latest):
    date = PartialDate.parse(text)
    assert date.encode() == text
    assert date.latest() == latest
    assert decode_data_group(8, encode_data_group(8, date)) == date


@pytest.mark.parametrize("text", ["1984  12", "19841301", "19840230", "1984081", "  840812", "1984ab12"])
def test_bad_dates(text):
    with pytest.raises(DataGroupError):
        PartialDate.parse(text)


def test_unknown_date_has_no_latest_value():
    with pytest.raises(DataGroupError):
        PartialDate.parse("        ").latest()
    with pytest.raises(DataGroupError):
        PartialDate(1984, 8).to_date()


def test_community_id_helpers():
    assert dg.community_id_from_digits("02760503150000") == bytes.fromhex("02760503150000")
    assert dg.community_id_digits(bytes.fromhex("02760503150000")) == "02760503150000"
    with pytest.raises(DataGroupError):
        dg.community_id_from_digits("123")
    with pytest.raises(DataGroupError):
        dg.community_id_digits(b"\xab")


@pytest.mark.parametrize("number,raw", [
    (1, "610413024964"),  # lower case is not an ICAO string
    (1, "620413024944"),  # wrong application tag
    (11, "6B03130158"),  # sex X
    (9, "690AA3080C064245524C494E"),  # unknown GeneralPlace choice
    (17, "7108300" "6AB040C024B4C"),  # Place without country
    (3, "630A1208323033343036"),  # truncated
    (20, "7406A204040102030A"),  # not DEFLATE
])
def test_rejects_malformed(number, raw):
    with pytest.raises(EidError):
        decode_data_group(number, bytes.fromhex(raw))


def test_encoding_refuses_bad_values():
    with pytest.raises(DataGroupError):
        encode_data_group(1, "id")
    with pytest.raises(DataGroupError):
        encode_data_group(11, "X")
    with pytest.raises(ValueError):
        encode_data_group(23, "x")


@settings(max_examples=200)
@given(st.sampled_from(list(dg.NUMBERS)), st.binary(max_size=60))
def test_any_bytes_decode_or_raise_our_error(number, data):
    result_or_our_error(decode_data_group, number, data)


@settings(max_examples=200)
@given(st.sampled_from(KNOWN), st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_corrupted_data_groups_decode_or_raise_our_error(known, position, value):
    number, _, encoded = known
    raw = corrupt(bytes.fromhex(encoded), position, value)
    result_or_our_error(decode_data_group, number, raw)


@given(st.text(max_size=40))
def test_names_round_trip(name):
    assert decode_data_group(4, encode_data_group(4, name)) == name
