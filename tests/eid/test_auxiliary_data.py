import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eid import auxiliary_data as aux
from eid import oid
from eid.auxiliary_data import AuxiliaryData, AuxiliaryDataError, NotCommitted

BIRTH = datetime.date(1984, 8, 12)

from tests.support.properties import result_or_our_error


def test_encoding_follows_table_19():
    data = aux.build(required_date_of_birth=datetime.date(2007, 3, 1), validity_date=datetime.date(2025, 3, 1),
                     community_id=bytes.fromhex("02760503"))
    assert data.encode().hex().upper() == (
        "6741"
        "7315060904007F00070301040153083230303730333031"
        "7315060904007F00070301040253083230323530333031"
        "7311060904007F000703010403530402760503"
    )
    assert AuxiliaryData.parse(data.encode()) == data
    assert data.required_date_of_birth == datetime.date(2007, 3, 1)
    assert data.validity_date == datetime.date(2025, 3, 1)
    assert data.community_id == bytes.fromhex("02760503")


def test_empty_auxiliary_data_is_allowed():
    assert AuxiliaryData.parse(bytes.fromhex("6700")) == AuxiliaryData(())


def test_last_template_with_an_oid_counts():
    data = AuxiliaryData(((oid.ID_MUNICIPALITY_ID, b"\x02"), (oid.ID_MUNICIPALITY_ID, b"\x03")))
    assert data.community_id == b"\x03"


@pytest.mark.parametrize("age,today,expected", [
    (18, datetime.date(2025, 3, 1), datetime.date(2007, 3, 1)),
    (18, datetime.date(2024, 2, 29), datetime.date(2006, 2, 28)),
])
def test_required_birth_date_for_age(age, today, expected):
    assert aux.required_birth_date_for_age(age, today) == expected


def test_age_verification_compares_like_the_chip():
    data = aux.build(required_date_of_birth=aux.required_birth_date_for_age(18, datetime.date(2002, 8, 12)))
    kw = dict(date_of_expiry=None, community_id=None)
    assert aux.verify(data, oid.ID_DATE_OF_BIRTH, latest_date_of_birth=BIRTH, **kw)  # 18 that very day
    older = aux.build(required_date_of_birth=datetime.date(1984, 8, 11))
    assert not aux.verify(older, oid.ID_DATE_OF_BIRTH, latest_date_of_birth=BIRTH, **kw)


def test_document_validity_and_community_id():
    kw = dict(latest_date_of_birth=None)
    expiry = datetime.date(2034, 6, 30)
    assert aux.verify(aux.build(validity_date=expiry), oid.ID_DATE_OF_EXPIRY, date_of_expiry=expiry, community_id=None, **kw)
    assert not aux.verify(aux.build(validity_date=expiry + datetime.timedelta(days=1)), oid.ID_DATE_OF_EXPIRY,
                          date_of_expiry=expiry, community_id=None, **kw)
    stored = bytes.fromhex("02760503150000")
    for prefix, expected in (("0276", True), ("02760503", True), ("02760503150000", True), ("02760504", False)):
        assert aux.verify(aux.build(community_id=bytes.fromhex(prefix)), oid.ID_MUNICIPALITY_ID,
                          date_of_expiry=None, community_id=stored, **kw) is expected


def test_verify_without_commitment():
    with pytest.raises(NotCommitted):
        aux.verify(aux.build(), oid.ID_DATE_OF_BIRTH, latest_date_of_birth=BIRTH, date_of_expiry=None, community_id=None)
    with pytest.raises(NotCommitted):
        aux.verify(aux.build(), oid.ID_PSM_MESSAGE, latest_date_of_birth=BIRTH, date_of_expiry=None, community_id=None)


def test_verify_command():
    command = aux.verify_command(oid.ID_DATE_OF_BIRTH)
    assert command.encode().hex().upper() == "802080000B060904007F000703010401"
    assert aux.parse_verify_command(command.data) == oid.ID_DATE_OF_BIRTH
    with pytest.raises(AuxiliaryDataError):
        aux.parse_verify_command(b"\x53\x00")


@pytest.mark.parametrize("raw", [
    "670B7309060904007F000703010401",  # no data object
    "67177315060904007F00070301040153083230303731333031",  # month 13
    "6604530100",
])
def test_rejects_malformed(raw):
    with pytest.raises(AuxiliaryDataError):
        AuxiliaryData.parse(bytes.fromhex(raw))


@given(st.binary(max_size=80))
def test_any_bytes_parse_or_raise_our_error(data):
    result_or_our_error(AuxiliaryData.parse, data)
