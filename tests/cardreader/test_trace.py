"""APDU traces mask what carries a password and show everything else."""

from __future__ import annotations

from cardreader.part10 import EstablishPaceChannelInput, PasswordId
from cardreader.trace import TracedChannel, describe_command, describe_control, describe_response
from eid.apdu import CommandApdu
from tests.cardreader.file_card import FileCard

PIN_HEX = "313233343536"


def test_plain_verify_change_and_reset_retry_counter_are_masked():
    for ins, name in ((0x20, "VERIFY"), (0x24, "CHANGE REFERENCE DATA"), (0x2C, "RESET RETRY COUNTER")):
        line = describe_command(CommandApdu(0x00, ins, 0x02, 0x03, b"123456").encode())
        assert PIN_HEX not in line
        assert line == f"00{ins:02X}0203 <masked> (6 bytes of {name} data)"


def test_secure_messaging_wrapped_pin_data_is_masked_too():
    wrapped = CommandApdu(0x0C, 0x2C, 0x02, 0x03, bytes.fromhex("871101") + bytes(16) + bytes.fromhex("8E08")
                          + bytes(8), ne=256).encode()
    line = describe_command(wrapped)
    assert line.startswith("0C2C0203 <masked> (29 bytes of RESET RETRY COUNTER data) Ne=256")


def test_other_commands_and_data_free_ones_are_shown_whole():
    select = CommandApdu(0x00, 0xA4, 0x04, 0x0C, bytes.fromhex("E80704007F00070302")).encode()
    assert describe_command(select) == select.hex().upper()
    unblock = CommandApdu(0x00, 0x2C, 0x03, 0x03).encode()
    assert describe_command(unblock) == "002C0303"
    general_authenticate = bytes.fromhex("10860000027C0000")
    assert describe_command(general_authenticate) == "10860000027C0000"


def test_malformed_password_commands_are_masked_whole():
    line = describe_command(bytes.fromhex("00200003FF313233"))
    assert "313233" not in line and line.startswith("00200003 <masked>")


def test_responses():
    assert describe_response(bytes.fromhex("01029000")) == "0102 9000"
    assert describe_response(bytes.fromhex("6982")) == "6982"
    assert describe_response(b"") == "(empty)"


def test_establish_pace_channel_input_masks_the_can_and_says_when_the_pin_is_typed_on_the_reader():
    with_can = EstablishPaceChannelInput(PasswordId.CAN, chat=bytes.fromhex("7F4C0E"), password=b"500540").command()
    line = describe_control(0x42330020, with_can)
    assert "500540" not in line and "353030353430" not in line.upper()
    assert "CAN, password <masked> (6 digits)" in line
    typed = describe_control(0x42330020, EstablishPaceChannelInput(PasswordId.PIN).command())
    assert "PIN, password typed on the reader" in typed
    assert describe_control(0x42000D48, b"") == "control 0x42000D48 "


def test_traced_channel_counts_and_writes_both_directions():
    lines: list[str] = []
    card = FileCard({0x011C: b"ab"})
    card.power_on()
    traced = TracedChannel(card, lines.append)
    traced.transmit(bytes.fromhex("00A4020C02011C"))
    traced.transmit(CommandApdu(0x00, 0x20, 0x00, 0x03, b"123456").encode())
    assert traced.exchanges == 2
    assert lines == ["> 00A4020C02011C", "< 9000", "> 00200003 <masked> (6 bytes of VERIFY data)", "< 6D00"]
    silent = TracedChannel(card)
    silent.transmit(bytes.fromhex("00B0000002"))
    assert silent.exchanges == 1
