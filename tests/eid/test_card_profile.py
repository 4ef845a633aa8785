import dataclasses
import datetime
import json
from pathlib import Path

import pytest

from eid import card_profile
from eid.card_profile import CardProfileError, Passwords
from eid.data_groups import NO_RESIDENCE_IN_GERMANY, FreeTextPlace, PartialDate, Place, Text, decode_data_group
from eid.errors import EidError
from eid.pki import ERIKA_MUSTERMANN, create_card_profile, create_test_pki

TODAY = datetime.date(2025, 3, 1)
DEFAULT = Path(__file__).resolve().parents[2] / "cardreader" / "virtual" / "profiles" / "erika-mustermann.json"


@pytest.fixture(scope="module")
def profile():
    return create_card_profile(create_test_pki(today=TODAY), today=TODAY)


def test_round_trip(profile):
    text = card_profile.dump(profile)
    assert card_profile.load(text) == profile
    assert json.loads(text)["format"] == card_profile.FORMAT


def test_every_kind_of_person_round_trips(profile):
    person = dataclasses.replace(
        ERIKA_MUSTERMANN,
        date_of_birth=PartialDate(1970, 3),
        place_of_birth=Place(city="LYON", country="F"),
        place_of_residence=(NO_RESIDENCE_IN_GERMANY, FreeTextPlace("somewhere")),
        community_id=None,
        residence_permit_i=Text("Auflage", compressed=True),
        phone_number="tel:+49-221-1234567",
        email_address="erika@example.org",
        academic_title="DR.",
    )
    changed = dataclasses.replace(profile, person=person, passwords=Passwords("12345", "123456", "1234567890", transport_pin=True,
                                                                             pin_retries=1, eid_activated=False))
    assert card_profile.load(card_profile.dump(changed)) == changed


def test_data_groups_of_erika(profile):
    groups = profile.data_groups()
    assert decode_data_group(4, groups[4]) == "ERIKA"
    assert decode_data_group(8, groups[8]) == PartialDate(1984, 8, 12)
    assert decode_data_group(18, groups[18]) == bytes.fromhex("02760503150000")
    assert 12 not in groups and 14 not in groups


def test_secrets_stay_out_of_repr(profile):
    text = repr(profile)
    assert "123456" not in text and "500540" not in text and "9876543210" not in text
    assert f"{profile.chip_authentication.private_key:x}" not in text


@pytest.mark.parametrize("change", [
    lambda d: d.update(format="something else"),
    lambda d: d["passwords"].update(pin="12345"),
    lambda d: d["passwords"].update(can="5005"),
    lambda d: d["passwords"].update(pin_retries=4),
    lambda d: d["person"].update(date_of_birth="1984-08-12"),
    lambda d: d["person"].update(place_of_birth={"street": "x"}),
    lambda d: d.pop("card_access"),
    lambda d: d.update(current_date="yesterday"),
    lambda d: d["chip_authentication"].update(private_key="zz"),
    lambda d: d["pace"].update(protocol="not an oid"),
])
def test_rejects_bad_profiles(profile, change):
    data = json.loads(card_profile.dump(profile))
    change(data)
    with pytest.raises(EidError):
        card_profile.load(json.dumps(data))


def test_rejects_non_json():
    with pytest.raises(CardProfileError):
        card_profile.load("{not json")


def test_the_shipped_default_profile_loads():
    default = card_profile.load(DEFAULT.read_text(encoding="utf-8"))
    assert default.person.family_names == "MUSTERMANN"
    assert default.passwords.pin == "123456" and default.passwords.can == "500540"
    assert not default.expired
