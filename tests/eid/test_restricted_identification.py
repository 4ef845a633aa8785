"""Restricted Identification: same card and sector → same pseudonym; other sector or card → another."""

import hashlib
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eid import key_agreement, oid
from eid import restricted_identification as ri
from eid.apdu import ResponseApdu
from eid.chip_authentication import ChipAuthenticationSelection
from eid.domain_parameters import by_standardized_id
from eid.errors import EidError
from eid.tlv import decode_single

CURVE = by_standardized_id(13)
PROTOCOL = oid.ID_RI_ECDH_SHA_256


def sector():
    return ri.SectorPublicKey(PROTOCOL, CURVE, key_agreement.generate(CURVE, os.urandom).public_bytes)


def run(card_key, first, second=None):
    request = ri.RestrictedIdentification(PROTOCOL, 1, first, second)
    mse, general_authenticate = request.request()
    selection = ChipAuthenticationSelection.parse(mse.data)
    assert (selection.protocol, selection.key_id) == (PROTOCOL, 1)
    got_first, got_second = ri.parse_sector_keys(general_authenticate.data)
    assert (got_first, got_second) == (first, second)
    data = ri.chip_respond(PROTOCOL, CURVE, card_key.private, got_first, got_second)
    return request.evaluate([ResponseApdu(b"", 0x9000), ResponseApdu(data, 0x9000)])


def test_pseudonyms_are_stable_per_sector_and_unlinkable_across():
    card, other_card = key_agreement.generate(CURVE, os.urandom), key_agreement.generate(CURVE, os.urandom)
    a, b = sector(), sector()
    first = run(card, a)
    assert run(card, a).first == first.first
    assert len(first.first) == 32 and first.second is None
    assert run(card, b).first != first.first
    assert run(other_card, a).first != first.first
    both = run(card, a, b)
    assert (both.first, both.second) == (first.first, run(card, b).first)


def test_identifier_is_the_hash_of_the_shared_x_coordinate():
    card = key_agreement.generate(CURVE, os.urandom)
    sector_key = key_agreement.generate(CURVE, os.urandom)
    expected = hashlib.sha256(key_agreement.shared_secret(CURVE, sector_key.private, card.public)).digest()
    assert ri.sector_identifier(PROTOCOL, CURVE, card.private, sector_key.public_bytes) == expected


def test_sector_key_object_carries_domain_parameters_and_round_trips():
    key = sector()
    as_ri = decode_single(key.encode(ri.TAG_SECOND_SECTOR_KEY), ri.TAG_SECOND_SECTOR_KEY)
    as_object = decode_single(key.public_key_data_object(), 0x7F49)
    assert as_ri.value == as_object.value
    assert [c.tag for c in as_object.children] == [0x06, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87]
    assert ri.SectorPublicKey.parse(as_object.value) == key


def test_unknown_protocol_is_refused():
    with pytest.raises(EidError):
        ri.RestrictedIdentification("0.4.0.127.0.7.2.2.5.1.3", 1, sector())


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_chip_answer_parses_or_raises_our_error(data):
    try:
        ri.RestrictedIdentification(PROTOCOL, 1, sector()).evaluate([ResponseApdu(b"", 0x9000),
                                                                      ResponseApdu(data, 0x9000)])
    except EidError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_sector_key_data_parses_or_raises_our_error(data):
    for parse in (ri.parse_sector_keys, ri.SectorPublicKey.parse):
        try:
            parse(data)
        except EidError:
            pass
