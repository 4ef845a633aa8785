"""The card profile (``card.json``): everything a virtual German ID card is personalised with.

Personal data (encoded into data groups by :mod:`eid.data_groups`), the passwords and their state
(PIN retry counter, transport PIN, eID function switched off), PACE parameters, the chip's Chip
Authentication and Restricted Identification keys, EF.CardAccess and EF.CardSecurity, the CVCA trust
points and the chip's current date. ``load``/``dump`` convert between the JSON text and a frozen
:class:`CardProfile`; docs/card-profile.md describes the format. No file I/O here: callers read and
write the text.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Any

from eid import oid
from eid.data_groups import (
    FreeTextPlace,
    GeneralPlace,
    NoPlaceInfo,
    PartialDate,
    Place,
    Text,
    community_id_digits,
    community_id_from_digits,
    encode_data_group,
)
from eid.errors import MalformedData

FORMAT = "eid-broker card profile 1"
PIN_RETRIES = 3


class CardProfileError(MalformedData):
    """A card.json that does not follow the documented format."""


@dataclass(frozen=True)
class Person:
    """The holder's data as the eID application stores it (TR-03127 table 2)."""

    given_names: str
    family_names: str
    date_of_birth: PartialDate
    place_of_birth: GeneralPlace
    date_of_expiry: datetime.date
    place_of_residence: GeneralPlace | tuple[GeneralPlace, ...]
    document_type: str = "ID"
    issuing_state: str = "D"
    nationality: str = "D"
    sex: str | None = None
    nom_de_plume: str = ""
    academic_title: str = ""
    birth_name: str | None = None
    date_of_issuance: datetime.date | None = None
    community_id: bytes | None = None
    residence_permit_i: Text | None = None
    residence_permit_ii: Text | None = None
    phone_number: str | None = None
    email_address: str | None = None

    def data_groups(self) -> dict[int, bytes]:
        """The file contents of the data groups this person has (DG1–DG22, absent ones left out)."""
        values: dict[int, Any] = {
            1: self.document_type, 2: self.issuing_state, 3: self.date_of_expiry, 4: self.given_names,
            5: self.family_names, 6: self.nom_de_plume, 7: self.academic_title, 8: self.date_of_birth,
            9: self.place_of_birth, 10: self.nationality, 11: self.sex, 13: self.birth_name,
            15: self.date_of_issuance, 17: self.place_of_residence, 18: self.community_id,
            19: self.residence_permit_i, 20: self.residence_permit_ii, 21: self.phone_number, 22: self.email_address,
        }
        return {n: encode_data_group(n, v) for n, v in values.items() if v is not None}


@dataclass(frozen=True)
class Passwords:
    """The card's secrets and their state. Never shown in a repr."""

    pin: str = field(repr=False)
    can: str = field(repr=False)
    puk: str = field(repr=False)
    transport_pin: bool = False
    """True while ``pin`` is the 5-digit transport PIN that must be changed before first use."""
    pin_retries: int = PIN_RETRIES
    """3 = fresh, 2 = one wrong try, 1 = suspended (CAN first), 0 = blocked (PUK)."""
    eid_activated: bool = True

    def __post_init__(self) -> None:
        pin_length = 5 if self.transport_pin else 6
        checks = ((self.pin, pin_length, "PIN"), (self.can, 6, "CAN"), (self.puk, 10, "PUK"))
        for value, length, name in checks:
            if not (value.isdigit() and value.isascii() and len(value) == length):
                raise CardProfileError(f"the {name} must be {length} digits")
        if not 0 <= self.pin_retries <= PIN_RETRIES:
            raise CardProfileError(f"PIN retry counter {self.pin_retries} out of range 0–{PIN_RETRIES}")


@dataclass(frozen=True)
class ChipKey:
    """A static key pair of the chip (Chip Authentication or Restricted Identification)."""

    key_id: int
    protocol: str
    private_key: int = field(repr=False)
    parameter_id: int = 13
    authorized_only: bool = False
    """RI only: whether the terminal needs the Restricted Identification right."""


@dataclass(frozen=True)
class CardProfile:
    person: Person
    passwords: Passwords
    document_number: str
    pace_protocol: str
    pace_parameter_id: int
    chip_authentication: ChipKey
    restricted_identification: tuple[ChipKey, ...]
    card_access: bytes
    card_security: bytes
    trust_points: tuple[bytes, ...]
    """DER CVCA certificates (self-signed or link) the chip trusts, most recent last."""
    current_date: datetime.date

    def data_groups(self) -> dict[int, bytes]:
        return self.person.data_groups()

    @property
    def expired(self) -> bool:
        return self.person.date_of_expiry < self.current_date


# -- JSON ----------------------------------------------------------------------------------------

def _place_to_json(place: GeneralPlace) -> dict[str, Any]:
    if isinstance(place, Place):
        return {k: v for k, v in place.__dict__.items() if v is not None}
    if isinstance(place, FreeTextPlace):
        return {"freetext": place.text}
    return {"no_place_info": place.text}


def _place_from_json(data: Any) -> GeneralPlace:
    if not isinstance(data, dict):
        raise CardProfileError("a place must be an object")
    if "freetext" in data:
        return FreeTextPlace(_str(data, "freetext"))
    if "no_place_info" in data:
        return NoPlaceInfo(_str(data, "no_place_info"))
    allowed = {"city", "country", "street", "state", "zipcode"}
    if not {"city", "country"} <= data.keys() <= allowed or not all(isinstance(v, str) for v in data.values()):
        raise CardProfileError(f"a structured place has text fields {sorted(allowed)}, city and country required")
    return Place(**data)


def _str(data: dict[str, Any], key: str, default: Any = ...) -> Any:
    if key not in data:
        if default is ...:
            raise CardProfileError(f"{key} is missing")
        return default
    value = data[key]
    if value is not None and not isinstance(value, str):
        raise CardProfileError(f"{key} must be text")
    return value


def _date(text: str | None, key: str) -> datetime.date | None:
    if text is None:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise CardProfileError(f"{key} must be a date YYYY-MM-DD") from None


def _text_to_json(text: Text | None) -> dict[str, Any] | None:
    return None if text is None else {"text": text.value, "compressed": text.compressed}


def _text_from_json(data: Any, key: str) -> Text | None:
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise CardProfileError(f"{key} must be {{\"text\": …, \"compressed\": false}}")
    return Text(data["text"], bool(data.get("compressed", False)))


def _person_to_json(person: Person) -> dict[str, Any]:
    residence = person.place_of_residence
    return {
        "document_type": person.document_type,
        "issuing_state": person.issuing_state,
        "date_of_expiry": person.date_of_expiry.isoformat(),
        "given_names": person.given_names,
        "family_names": person.family_names,
        "nom_de_plume": person.nom_de_plume,
        "academic_title": person.academic_title,
        "date_of_birth": person.date_of_birth.encode(),
        "place_of_birth": _place_to_json(person.place_of_birth),
        "nationality": person.nationality,
        "sex": person.sex,
        "birth_name": person.birth_name,
        "date_of_issuance": person.date_of_issuance.isoformat() if person.date_of_issuance else None,
        "place_of_residence": [_place_to_json(p) for p in residence] if isinstance(residence, tuple) else _place_to_json(residence),
        "community_id": community_id_digits(person.community_id) if person.community_id is not None else None,
        "residence_permit_i": _text_to_json(person.residence_permit_i),
        "residence_permit_ii": _text_to_json(person.residence_permit_ii),
        "phone_number": person.phone_number,
        "email_address": person.email_address,
    }


def _person_from_json(data: Any) -> Person:
    if not isinstance(data, dict):
        raise CardProfileError("person must be an object")
    residence_json = data.get("place_of_residence")
    residence = tuple(_place_from_json(p) for p in residence_json) if isinstance(residence_json, list) else _place_from_json(residence_json)
    community = _str(data, "community_id", None)
    return Person(
        given_names=_str(data, "given_names"),
        family_names=_str(data, "family_names"),
        date_of_birth=PartialDate.parse(_str(data, "date_of_birth")),
        place_of_birth=_place_from_json(data.get("place_of_birth")),
        date_of_expiry=_date(_str(data, "date_of_expiry"), "date_of_expiry"),  # type: ignore[arg-type]
        place_of_residence=residence,
        document_type=_str(data, "document_type", "ID"),
        issuing_state=_str(data, "issuing_state", "D"),
        nationality=_str(data, "nationality", "D"),
        sex=_str(data, "sex", None),
        nom_de_plume=_str(data, "nom_de_plume", ""),
        academic_title=_str(data, "academic_title", ""),
        birth_name=_str(data, "birth_name", None),
        date_of_issuance=_date(_str(data, "date_of_issuance", None), "date_of_issuance"),
        community_id=community_id_from_digits(community) if community is not None else None,
        residence_permit_i=_text_from_json(data.get("residence_permit_i"), "residence_permit_i"),
        residence_permit_ii=_text_from_json(data.get("residence_permit_ii"), "residence_permit_ii"),
        phone_number=_str(data, "phone_number", None),
        email_address=_str(data, "email_address", None),
    )


def _key_to_json(key: ChipKey) -> dict[str, Any]:
    return {
        "key_id": key.key_id, "protocol": key.protocol, "parameter_id": key.parameter_id,
        "private_key": f"{key.private_key:x}", "authorized_only": key.authorized_only,
    }


def _key_from_json(data: Any) -> ChipKey:
    if not isinstance(data, dict):
        raise CardProfileError("a chip key must be an object")
    try:
        return ChipKey(
            key_id=int(data["key_id"]),
            protocol=oid.decode_value(oid.encode_value(data["protocol"])),
            private_key=int(data["private_key"], 16),
            parameter_id=int(data.get("parameter_id", 13)),
            authorized_only=bool(data.get("authorized_only", False)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CardProfileError(f"bad chip key: {exc}") from None


def dump(profile: CardProfile) -> str:
    """The JSON text of a profile (the secrets included: this is the card's personalisation)."""
    p = profile.passwords
    data = {
        "format": FORMAT,
        "person": _person_to_json(profile.person),
        "document_number": profile.document_number,
        "passwords": {"pin": p.pin, "can": p.can, "puk": p.puk, "transport_pin": p.transport_pin,
                      "pin_retries": p.pin_retries, "eid_activated": p.eid_activated},
        "pace": {"protocol": profile.pace_protocol, "parameter_id": profile.pace_parameter_id},
        "chip_authentication": _key_to_json(profile.chip_authentication),
        "restricted_identification": [_key_to_json(k) for k in profile.restricted_identification],
        "card_access": profile.card_access.hex(),
        "card_security": profile.card_security.hex(),
        "trust_points": [t.hex() for t in profile.trust_points],
        "current_date": profile.current_date.isoformat(),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def load(text: str) -> CardProfile:
    """Parse card.json text; CardProfileError (or another EidError) names what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CardProfileError(f"card profile is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CardProfileError(f"not a card profile: format must be {FORMAT!r}")
    try:
        passwords = data["passwords"]
        pace = data["pace"]
        return CardProfile(
            person=_person_from_json(data["person"]),
            passwords=Passwords(
                pin=str(passwords["pin"]), can=str(passwords["can"]), puk=str(passwords["puk"]),
                transport_pin=bool(passwords.get("transport_pin", False)),
                pin_retries=int(passwords.get("pin_retries", PIN_RETRIES)),
                eid_activated=bool(passwords.get("eid_activated", True)),
            ),
            document_number=str(data["document_number"]),
            pace_protocol=oid.decode_value(oid.encode_value(pace["protocol"])),
            pace_parameter_id=int(pace["parameter_id"]),
            chip_authentication=_key_from_json(data["chip_authentication"]),
            restricted_identification=tuple(_key_from_json(k) for k in data["restricted_identification"]),
            card_access=bytes.fromhex(data["card_access"]),
            card_security=bytes.fromhex(data["card_security"]),
            trust_points=tuple(bytes.fromhex(t) for t in data["trust_points"]),
            current_date=_date(data["current_date"], "current_date"),  # type: ignore[arg-type]
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CardProfileError(f"bad card profile: {type(exc).__name__} {exc}") from None
