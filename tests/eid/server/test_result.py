"""eid/server/result.py and serialisation.py: the broker's view of an authentication, and client errors mapped."""

import datetime

import pytest

from eid import paos
from eid.data_groups import PartialDate, encode_data_group
from eid.paos import Result
from eid.server import serialisation
from eid.server.result import EidResult, Failure, ServerChecks, client_failure

AT = datetime.datetime(2026, 3, 2, 12, tzinfo=datetime.UTC)
MINOR = "http://www.bsi.bund.de/ecard/api/1.1/resultminor"


def test_a_result_round_trips_through_json_values():
    result = EidResult(AT, contents={4: encode_data_group(4, "ERIKA"), 8: encode_data_group(8, PartialDate(1984, 8))},
                       pseudonym=b"\x01" * 32, age_verified=True, document_valid=True, not_read=(17,),
                       checks=ServerChecks(True, "CN=DS", "CN=CSCA", True, 7), released=b"\x7f\x4c\x00")
    again = EidResult.from_dict(result.to_dict())
    assert again == result and again.given_names == "ERIKA" and again.date_of_birth == PartialDate(1984, 8)
    assert again.family_names is None and again.ok
    assert "ERIKA" not in repr(result) and "0101" not in repr(result)  # contents and pseudonym stay out of logs


def test_a_failure_round_trips_too():
    result = EidResult(AT, Failure.WRONG_PIN, "wrong PIN", 2)
    assert EidResult.from_dict(result.to_dict()) == result and not result.ok


def test_stored_values_of_the_wrong_shape_are_refused():
    data = EidResult(AT).to_dict()
    with pytest.raises(serialisation.SerialisationError):
        EidResult.from_dict({**data, "contents": {"4": 12}})
    with pytest.raises(serialisation.SerialisationError):
        EidResult.from_dict({**data, "failure": "no_such_failure"})
    with pytest.raises(serialisation.SerialisationError):
        EidResult.from_dict({k: v for k, v in data.items() if k != "finished_at"})


def test_a_field_added_later_takes_its_default_when_an_older_version_stored_the_value():
    stored = EidResult(AT, checks=ServerChecks(True, "CN=DS", "CN=CSCA", True, 7)).to_dict()
    del stored["checks"]["revocation_checked"]
    assert EidResult.from_dict(stored).checks == ServerChecks(True, "CN=DS", "CN=CSCA", True, 7, False)


@pytest.mark.parametrize("minor,message,retry_counter,expected", [
    (f"{MINOR}/sal#cancellationByUser", "The process has been cancelled.", None, (Failure.CANCELLED, None)),
    (f"{MINOR}/sal#cancellationByUser", "cancelled", 3, (Failure.CANCELLED, None)),
    (f"{MINOR}/sal#cancellationByUser", "wrong PIN", 2, (Failure.WRONG_PIN, 2)),
    (f"{MINOR}/sal#cancellationByUser", "", 1, (Failure.CAN_REQUIRED, 1)),
    (f"{MINOR}/sal#cancellationByUser", "", 0, (Failure.PIN_BLOCKED, 0)),
    (f"{MINOR}/ifdl#cancellationByUser", None, None, (Failure.CANCELLED, None)),
    (f"{MINOR}/al/common#noPermission", "The online identification function of your ID card is deactivated.", None,
     (Failure.EID_DEACTIVATED, None)),
    (f"{MINOR}/al/common#noPermission", "The PUK is blocked.", None, (Failure.PIN_BLOCKED, None)),
    (f"{MINOR}/al/common#noPermission", "Not allowed.", None, (Failure.CLIENT_ERROR, None)),
    (f"{MINOR}/ifdl/terminal#noCard", None, None, (Failure.NO_CARD, None)),
    (f"{MINOR}/dp#timeout", None, None, (Failure.TIMEOUT, None)),
    (f"{MINOR}/dp#trustedChannelEstablishmentFailed", None, None, (Failure.COMMUNICATION_ERROR, None)),
    (f"{MINOR}/al/common#communicationError", None, None, (Failure.COMMUNICATION_ERROR, None)),
    (f"{MINOR}/al/common#unknownError", "An error occurred while communicating with the ID card.", None,
     (Failure.CLIENT_ERROR, None)),
    (None, None, None, (Failure.CLIENT_ERROR, None)),
])
def test_client_results_map_to_reasons(minor, message, retry_counter, expected):
    result = Result(paos.RESULT_MAJOR_ERROR, minor, message)
    assert client_failure(result, retry_counter) == expected
