"""PC/SC part 10 encodings against published byte strings (tests/vectors/pcsc-part10.json names each
source), plus properties: every parser of reader output gives a result or MalformedReaderData."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardreader import errors, part10
from cardreader.part10 import (
    EstablishPaceChannelInput,
    EstablishPaceChannelOutput,
    ExecutePaceResponse,
    Feature,
    PaceCapabilities,
    PasswordId,
    PinModifyStructure,
    PinVerifyStructure,
)
from eid import status

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "pcsc-part10.json").read_text())


@pytest.mark.parametrize("case", VECTORS["establish_pace_channel_input"], ids=lambda case: case["name"])
def test_establish_pace_channel_input(case):
    request = EstablishPaceChannelInput(
        PasswordId(case["password_id"]),
        chat=bytes.fromhex(case["chat"]),
        password=bytes.fromhex(case["password"]),
        certificate_description=bytes.fromhex(case["certificate_description"]),
    )
    control_input = bytes.fromhex(case["control_input"])
    assert request.command() == control_input
    assert EstablishPaceChannelInput.parse(control_input[3:]) == request


def test_the_password_never_shows_in_repr():
    request = EstablishPaceChannelInput(PasswordId.CAN, password=b"123456")
    assert "123456" not in repr(request)
    assert "CAN" in repr(request)


def test_hash_oid_extension_of_tr_03119():
    sha256 = bytes.fromhex("608648016503040201")
    request = EstablishPaceChannelInput(PasswordId.PIN, certificate_description=b"\x30\x00", hash_oid=sha256)
    encoded = request.encode()
    assert encoded[-11:] == b"\x09\x00" + sha256
    assert EstablishPaceChannelInput.parse(encoded) == request


def test_establish_pace_channel_response_with_current_car():
    case = VECTORS["establish_pace_channel_response"][0]
    response = ExecutePaceResponse.parse(bytes.fromhex(case["response"]))
    assert response.result == case["result"]
    assert part10.pace_result_error(response.result, "reader", PasswordId.PIN) is None
    output = EstablishPaceChannelOutput.parse(response.output)
    assert output.mse_set_at_status == int(case["mse_set_at_status"], 16)
    assert output.ef_card_access == bytes.fromhex(case["ef_card_access"])
    assert output.car_current == case["car_current"]
    assert output.car_previous is case["car_previous"]
    assert output.id_icc == bytes.fromhex(case["id_icc"])
    assert output.pin_tries_left is None
    assert response.encode() == bytes.fromhex(case["response"])


def test_establish_pace_channel_output_with_both_cars_round_trips():
    case = VECTORS["establish_pace_channel_response"][1]
    raw = bytes.fromhex(case["output"])
    output = EstablishPaceChannelOutput.parse(raw)
    assert (output.car_current, output.car_previous) == (case["car_current"], case["car_previous"])
    assert output.ef_card_access == bytes.fromhex(case["ef_card_access"])
    assert output.id_icc == bytes.fromhex(case["id_icc"])
    assert output.encode() == raw


def test_output_without_terminal_authentication_data():
    output = EstablishPaceChannelOutput(0x63C2, bytes.fromhex("3100"))
    assert output.encode() == bytes.fromhex("63C202003100")
    assert EstablishPaceChannelOutput.parse(output.encode()) == output
    assert output.pin_tries_left == 2


@pytest.mark.parametrize("case", VECTORS["execute_pace_results"]["cases"], ids=lambda case: case["bytes"])
def test_execute_pace_results(case):
    result = int.from_bytes(bytes.fromhex(case["bytes"]), "little")
    response = ExecutePaceResponse.parse(bytes.fromhex(case["bytes"]) + b"\x00\x00")
    assert response == ExecutePaceResponse(result, b"")
    error = part10.pace_result_error(result, "Test Reader", PasswordId.PIN)
    if case["error"] is None:
        assert error is None
        return
    expected = getattr(errors, case["error"], None) or getattr(status, case["error"])
    assert type(error) is expected
    if "tries_left" in case:
        assert error.tries_left == case["tries_left"]


@pytest.mark.parametrize(
    ("result", "password_id", "expected"),
    [
        (0xF00263C1, PasswordId.PIN, status.PinSuspended),
        (0xF00263C0, PasswordId.PIN, status.PinBlocked),
        (0xF0026283, PasswordId.PIN, status.PinDeactivated),
        (0xF0026283, PasswordId.CAN, status.PinDeactivated),
        (0xF00263C1, PasswordId.CAN, status.WrongPin),
        (0xF0016A82, PasswordId.PIN, status.FileNotFound),
        (0xF8016300, PasswordId.PIN, errors.ReaderPaceFailed),
        (0xF0200003, PasswordId.PIN, errors.ReaderPaceFailed),
        (0x12345678, PasswordId.PIN, errors.ReaderPaceFailed),
    ],
)
def test_card_states_inside_reader_results(result, password_id, expected):
    """TR-03119 D.1.2: 0xF002SW1SW2 is MSE:Set AT's status; with the PIN, 63C1 means suspended (CAN
    first), 63C0 blocked (PUK), 6283 the eID function deactivated (TR-03110-3 B.14.1)."""
    error = part10.pace_result_error(result, "Test Reader", password_id)
    assert type(error) is expected
    assert str(error)


def test_reader_errors_name_the_reader():
    error = part10.pace_result_error(0xF0100001, "REINER SCT cyberJack RFID komfort", PasswordId.PIN)
    assert isinstance(error, errors.CardRemoved)
    assert "REINER SCT cyberJack RFID komfort" in str(error)
    assert error.code == 0xF0100001


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("01", PaceCapabilities(pace=False, eid=False, esign=False, destroy=False)),
        ("60", PaceCapabilities(pace=True, eid=True, esign=False, destroy=False)),
        ("01F0", PaceCapabilities(pace=True, eid=True, esign=True, destroy=True)),
    ],
)
def test_pace_capabilities_with_and_without_length_byte(output, expected):
    """Amendment 1 has a length byte before the bit map; REINER SCT komfort readers send the bit map alone
    (noted in AusweisApp's PcscReaderPaceCapability.cpp). OpenSC's internal-winscard.h has the bits."""
    parsed = PaceCapabilities.parse(bytes.fromhex(output))
    assert parsed == expected
    assert parsed.bitmap == bytes.fromhex(output)[-1] & 0xF0


def test_get_reader_pace_capabilities_command():
    assert part10.execute_pace_command(part10.PaceFunction.GET_READER_PACE_CAPABILITIES) == b"\x01\x00\x00"
    assert part10.execute_pace_command(part10.PaceFunction.DESTROY_PACE_CHANNEL) == b"\x03\x00\x00"


def test_pin_modify_structure():
    case = VECTORS["pin_modify_structure"]
    structure = PinModifyStructure(
        apdu=bytes.fromhex(case["apdu"]),
        min_pin_size=case["min_pin_size"],
        max_pin_size=case["max_pin_size"],
        format_string=case["format_string"],
        confirm_pin=case["confirm_pin"],
        timeout=case["timeout"],
        timeout_after_first_key=case["timeout_after_first_key"],
        entry_validation_condition=case["entry_validation_condition"],
        number_message=case["number_message"],
        lang_id=case["lang_id"],
        msg_index1=case["msg_index1"],
        msg_index2=case["msg_index2"],
        msg_index3=case["msg_index3"],
    )
    assert structure.encode() == bytes.fromhex(case["encoded"])
    assert PinModifyStructure.parse(bytes.fromhex(case["encoded"])) == structure


def test_pin_verify_structure_layout():
    """PIN_VERIFY_STRUCTURE of pcsc-lite reader.h: 5 single bytes, wPINMaxExtraDigit, 2 bytes, wLangId,
    bMsgIndex, 3 prologue bytes, ulDataLength, the APDU; 16-bit and 32-bit fields little-endian."""
    structure = PinVerifyStructure(apdu=bytes.fromhex("0020000306"), min_pin_size=6, max_pin_size=8,
                                   timeout=30, timeout_after_first_key=15)
    encoded = structure.encode()
    assert encoded == bytes.fromhex("1E0F820000" "0806" "0201" "0704" "00" "000000" "05000000" "0020000306")
    assert PinVerifyStructure.parse(encoded) == structure


def test_feature_list():
    case = VECTORS["feature_list"]
    features = part10.parse_feature_list(bytes.fromhex(case["bytes"]))
    assert {int(tag): code for tag, code in features.items()} == {int(k): v for k, v in case["features"].items()}
    assert Feature.EXECUTE_PACE in features and Feature.VERIFY_PIN_DIRECT in features
    assert part10.encode_feature_list(features) == bytes.fromhex(case["bytes"])


def test_unknown_feature_tags_are_kept():
    assert part10.parse_feature_list(bytes.fromhex("7704DEADBEEF")) == {0x77: 0xDEADBEEF}


def test_tlv_properties():
    case = VECTORS["tlv_properties"]
    properties = part10.parse_tlv_properties(bytes.fromhex(case["bytes"]))
    assert properties == {part10.TlvProperty.MAX_APDU_DATA_SIZE: case["max_apdu_data_size"]}
    firmware = part10.parse_tlv_properties(bytes.fromhex("0803763132" "0B02E604"))
    assert firmware == {part10.TlvProperty.FIRMWARE_ID: b"v12", part10.TlvProperty.VENDOR_ID: 0x04E6}


@pytest.mark.parametrize(
    ("sw", "expected"),
    [
        (0x9000, None),
        (0x6400, errors.PinEntryTimeout),
        (0x6401, errors.PinEntryCancelled),
        (0x6402, errors.PinPadInputRejected),
        (0x6403, errors.PinPadInputRejected),
        (0x63C1, status.WrongPin),
        (0x6982, status.SecurityStatusNotSatisfied),
    ],
)
def test_pin_pad_status_words(sw, expected):
    """PC/SC part 10 §2.5 (also AusweisApp test_PinModifyOutput.cpp): 6400 timeout, 6401 cancelled,
    6402 new PINs differ, 6403 wrong length; other status words are the card's."""
    error = part10.pin_pad_error(sw)
    assert (error is None) if expected is None else (type(error) is expected)


@pytest.mark.parametrize(
    ("parser", "data", "message"),
    [
        (part10.parse_feature_list, "0604423300", "not a sequence of 6-byte entries"),
        (part10.parse_feature_list, "060342330006", "control code of 3 bytes"),
        (part10.parse_tlv_properties, "0A04000001", "claims 4 bytes, 3 follow"),
        (ExecutePaceResponse.parse, "0000000005000102", "announces 5 bytes of output, 2 follow"),
        (EstablishPaceChannelOutput.parse, "9000C4003100", "ends after 6 bytes"),
        (EstablishPaceChannelOutput.parse, "900002003100" "01FF" "00" "0000", "not ASCII"),
        (EstablishPaceChannelOutput.parse, "900002003100" "00" "00" "0000" "FF", "unexpected bytes"),
        (EstablishPaceChannelInput.parse, "09000000", "unknown PACE password ID"),
        (PaceCapabilities.parse, "0240", "PACE capabilities of 2 bytes"),
        (PinModifyStructure.parse, "0000", "PIN_MODIFY_STRUCTURE ends after 2 of its 24 header bytes"),
        (PinVerifyStructure.parse, "1E0F8200000806020107040000000005000000002000",
         "announces an APDU of 5 bytes, 3 follow"),
    ],
)
def test_malformed_reader_output_is_named(parser, data, message):
    with pytest.raises(errors.MalformedReaderData) as raised:
        parser(bytes.fromhex(data))
    assert message in str(raised.value)


PARSERS = [
    part10.parse_feature_list,
    part10.parse_tlv_properties,
    ExecutePaceResponse.parse,
    EstablishPaceChannelOutput.parse,
    EstablishPaceChannelInput.parse,
    PaceCapabilities.parse,
    PinVerifyStructure.parse,
    PinModifyStructure.parse,
]


@pytest.mark.parametrize("parser", PARSERS, ids=lambda parser: parser.__qualname__)
@given(data=st.binary(max_size=300))
def test_any_bytes_parse_or_raise_malformed_reader_data(parser, data):
    try:
        parser(data)
    except errors.MalformedReaderData:
        pass
