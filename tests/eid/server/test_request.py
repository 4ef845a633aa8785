"""eid/server/request.py: what a service may ask, and the auxiliary data it commits the card to."""

import datetime

import pytest

from eid import oid
from eid.chat import AccessRight
from eid.server.request import EidRequest, InvalidRequest, read_rights

TODAY = datetime.date(2026, 3, 2)


def test_auxiliary_data_for_age_validity_and_community():
    request = EidRequest(required=frozenset({AccessRight.AGE_VERIFICATION, AccessRight.COMMUNITY_ID_VERIFICATION}),
                         minimum_age=18, community_id="02760503")
    aux = request.auxiliary_data(TODAY)
    assert aux.required_date_of_birth == datetime.date(2008, 3, 2)
    assert aux.validity_date == TODAY and aux.community_id == bytes.fromhex("02760503")
    assert [entry for entry, _ in aux.entries] == [oid.ID_DATE_OF_BIRTH, oid.ID_DATE_OF_EXPIRY, oid.ID_MUNICIPALITY_ID]


def test_nothing_to_commit_without_verifications():
    request = EidRequest(required=frozenset({AccessRight.READ_DG4}), verify_validity=False)
    assert request.auxiliary_data(TODAY) is None


@pytest.mark.parametrize("arguments,message", [
    (dict(required={AccessRight.PIN_MANAGEMENT}), "does not perform PIN_MANAGEMENT"),
    (dict(required={AccessRight.READ_DG4}, optional={AccessRight.READ_DG4}), "both required and optional"),
    (dict(required=set(), verify_validity=False), "asks for nothing"),
    (dict(required={AccessRight.AGE_VERIFICATION}), "minimum_age"),
    (dict(required={AccessRight.READ_DG4}, minimum_age=18), "minimum_age"),
    (dict(required={AccessRight.AGE_VERIFICATION}, minimum_age=0), "out of range"),
    (dict(required={AccessRight.COMMUNITY_ID_VERIFICATION}), "community_id"),
    (dict(required={AccessRight.COMMUNITY_ID_VERIFICATION}, community_id="0276x"), "digits"),
    (dict(required={AccessRight.COMMUNITY_ID_VERIFICATION}, community_id="027"), "even number"),
])
def test_impossible_requests_are_refused(arguments, message):
    with pytest.raises(InvalidRequest, match=message):
        EidRequest(**arguments)


def test_read_rights_in_data_group_order():
    assert read_rights(frozenset({AccessRight.READ_DG17, AccessRight.READ_DG4, AccessRight.AGE_VERIFICATION})) == (4, 17)
