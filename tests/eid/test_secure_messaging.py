"""Secure messaging: the BSI worked example's protected APDUs, both roles, tampering, desync, batches."""

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eid import cipher
from eid.apdu import CommandApdu, ResponseApdu
from eid.errors import EidError
from eid.key_derivation import SessionKeys
from eid.secure_messaging import ChannelClosed, ChipChannel, SecureMessagingError, TerminalChannel
from tests.eid._vectors import hexval, load

BSI = load("bsi-worked-example-pace-ca-sm.json")
SM = BSI["secure_messaging"]
PACE_KEYS = SessionKeys(hexval(BSI["pace"]["values"]["k_enc"]), hexval(BSI["pace"]["values"]["k_mac"]))


def random_keys(size=16):
    return SessionKeys(os.urandom(size), os.urandom(size))


def test_worked_example_primitives():
    encrypt, authenticate = SM["primitives"]
    iv = cipher.encrypt_block(PACE_KEYS.k_enc, encrypt["ssc"].to_bytes(16, "big"))
    assert cipher.encrypt_cbc(PACE_KEYS.k_enc, cipher.pad(hexval(encrypt["plain"])), iv) == hexval(encrypt["cryptogram"])
    ssc = authenticate["ssc"].to_bytes(16, "big")
    assert cipher.mac(PACE_KEYS.k_mac, ssc + cipher.pad(hexval(authenticate["plain"]))) == hexval(authenticate["mac"])


def test_worked_example_terminal_side():
    channel = TerminalChannel(PACE_KEYS)
    for exchange in SM["exchanges"]:
        assert channel.ssc + 1 == exchange["ssc"], exchange["name"]
        protected = channel.protect(CommandApdu.parse(hexval(exchange["plain_command"])))
        assert protected.encode() == hexval(exchange["protected_command"]), exchange["name"]
        plain = channel.unprotect(ResponseApdu.parse(hexval(exchange["protected_response"])))
        assert plain.encode() == hexval(exchange["plain_response"]), exchange["name"]


def test_worked_example_chip_side():
    channel = ChipChannel(PACE_KEYS)
    for exchange in SM["exchanges"]:
        command = channel.unprotect_command(CommandApdu.parse(hexval(exchange["protected_command"])))
        assert command == CommandApdu.parse(hexval(exchange["plain_command"])), exchange["name"]
        response = channel.protect_response(ResponseApdu.parse(hexval(exchange["plain_response"])))
        assert response.encode() == hexval(exchange["protected_response"]), exchange["name"]


def test_extended_length_command_is_protected_in_extended_form():
    certificate = SM["exchanges"][1]
    command = CommandApdu.parse(hexval(certificate["plain_command"]))
    assert command.extended
    protected = TerminalChannel(PACE_KEYS, ssc=2).protect(command)
    assert protected.extended and protected.encode()[4] == 0  # extended Lc marker


@pytest.mark.parametrize("key_size", (16, 24, 32))
@pytest.mark.parametrize("command", [
    CommandApdu(0x00, 0xA4, 0x02, 0x0C, b"\x01\x01"),                    # case 3
    CommandApdu(0x00, 0xB0, 0x81, 0x00, ne=256),                           # case 2, Le 00
    CommandApdu(0x00, 0xB0, 0x00, 0x00, ne=65536),                         # case 2 extended
    CommandApdu(0x80, 0x20, 0x80, 0x00, b"\x06\x09\x04\x00\x7f\x00\x07\x03\x01\x04\x01"),  # VERIFY, CLA 8C
    CommandApdu(0x10, 0x86, 0x00, 0x00, b"\x7c\x00", ne=256),             # chaining bit kept
    CommandApdu(0x00, 0x2A, 0x00, 0xBE, os.urandom(700)),                 # extended data
    CommandApdu(0x00, 0x44, 0x10, 0x03),                                   # case 1
    CommandApdu(0x00, 0xB1, 0x00, 0x00, b"\x54\x02\x00\x10", ne=200),      # odd INS: DO 85
], ids=("case3", "case2", "case2e", "verify", "chained", "case3e", "case1", "odd-ins"))
def test_both_roles_round_trip(key_size, command):
    keys = random_keys(key_size)
    terminal, chip = TerminalChannel(keys), ChipChannel(keys)
    protected = terminal.protect(command)
    assert protected.cla & 0x0C == 0x0C
    assert chip.unprotect_command(CommandApdu.parse(protected.encode())) == command
    answer = ResponseApdu(os.urandom(300), 0x9000)
    protected_answer = chip.protect_response(answer, odd_ins=bool(command.ins & 1))
    assert terminal.unprotect(ResponseApdu.parse(protected_answer.encode())) == answer
    assert terminal.ssc == chip.ssc == 2


def test_error_status_travels_protected():
    keys = random_keys()
    terminal, chip = TerminalChannel(keys), ChipChannel(keys)
    chip.unprotect_command(terminal.protect(CommandApdu(0, 0xB0, 0x91, 0, ne=256)))
    assert terminal.unprotect(chip.protect_response(ResponseApdu(b"", 0x6982))) == ResponseApdu(b"", 0x6982)


def test_tampered_response_mac_closes_the_channel_for_good():
    keys = random_keys()
    terminal, chip = TerminalChannel(keys), ChipChannel(keys)
    chip.unprotect_command(terminal.protect(CommandApdu(0, 0xB0, 0, 0, ne=16)))
    raw = bytearray(chip.protect_response(ResponseApdu(b"secret data", 0x9000)).encode())
    raw[3] ^= 0x01
    with pytest.raises(SecureMessagingError, match="MAC"):
        terminal.unprotect(ResponseApdu.parse(bytes(raw)))
    assert terminal.closed
    with pytest.raises(ChannelClosed):
        terminal.protect(CommandApdu(0, 0xB0, 0, 0, ne=16))


def test_tampered_command_closes_the_chip_side():
    keys = random_keys()
    terminal, chip = TerminalChannel(keys), ChipChannel(keys)
    raw = bytearray(terminal.protect(CommandApdu(0, 0xA4, 2, 0x0C, b"\x01\x01")).encode())
    raw[-3] ^= 0x80
    with pytest.raises(SecureMessagingError):
        chip.unprotect_command(CommandApdu.parse(bytes(raw)))
    assert chip.closed
    with pytest.raises(ChannelClosed):
        chip.protect_response(ResponseApdu(b"", 0x9000))


def test_ssc_desync_is_detected():
    keys = random_keys()
    terminal, chip = TerminalChannel(keys), ChipChannel(keys, ssc=2)  # the chip is one exchange ahead
    with pytest.raises(SecureMessagingError):
        chip.unprotect_command(terminal.protect(CommandApdu(0, 0xB0, 0, 0, ne=16)))
    terminal2, chip2 = TerminalChannel(keys), ChipChannel(keys)
    chip2.unprotect_command(terminal2.protect(CommandApdu(0, 0xB0, 0, 0, ne=16)))
    replayed = chip2.protect_response(ResponseApdu(b"x", 0x9000))
    terminal2.unprotect(replayed)
    chip2.unprotect_command(terminal2.protect(CommandApdu(0, 0xB0, 0, 0, ne=16)))
    chip2.protect_response(ResponseApdu(b"y", 0x9000))
    with pytest.raises(SecureMessagingError):
        terminal2.unprotect(replayed)  # an old response under a newer SSC


def test_plain_answer_inside_a_session_ends_it():
    terminal = TerminalChannel(random_keys())
    terminal.protect(CommandApdu(0, 0xB0, 0, 0, ne=16))
    with pytest.raises(SecureMessagingError, match="without secure messaging"):
        terminal.unprotect(ResponseApdu(b"", 0x6988))
    assert terminal.closed


def test_plain_command_inside_a_session_ends_it():
    chip = ChipChannel(random_keys())
    with pytest.raises(SecureMessagingError):
        chip.unprotect_command(CommandApdu(0, 0xB0, 0, 0, ne=16))
    assert chip.closed


def test_batch_then_answers():
    keys = random_keys()
    terminal, chip = TerminalChannel(keys), ChipChannel(keys)
    commands = [CommandApdu(0, 0xB0, 0x80 | i, 0, ne=256) for i in range(1, 5)]
    protected = terminal.protect_batch(commands)
    answers = []
    for command in protected:
        plain = chip.unprotect_command(command)
        answers.append(chip.protect_response(ResponseApdu(bytes([plain.p1]) * 10, 0x9000)))
    assert [r.data for r in terminal.unprotect_batch(answers)] == [bytes([0x80 | i]) * 10 for i in range(1, 5)]
    follow_up = terminal.protect(CommandApdu(0, 0xB0, 0, 0, ne=1))
    assert chip.unprotect_command(follow_up).ne == 1


def test_batch_cut_short_continues_after_the_last_answer():
    keys = random_keys()
    terminal, chip = TerminalChannel(keys), ChipChannel(keys)
    protected = terminal.protect_batch([CommandApdu(0, 0xB0, 0x81, 0, ne=256), CommandApdu(0, 0xB0, 0x91, 0, ne=256),
                                        CommandApdu(0, 0xB0, 0x82, 0, ne=256)])
    chip.unprotect_command(protected[0])
    first = chip.protect_response(ResponseApdu(b"dg1", 0x9000))
    chip.unprotect_command(protected[1])
    second = chip.protect_response(ResponseApdu(b"", 0x6982))  # the client stops at this status word
    assert [r.sw for r in terminal.unprotect_batch([first, second])] == [0x9000, 0x6982]
    nxt = terminal.protect(CommandApdu(0, 0xB0, 0x84, 0, ne=256))
    assert chip.unprotect_command(nxt).p1 == 0x84


def test_session_keys_are_not_shown():
    keys = random_keys()
    assert keys.k_enc.hex() not in repr(keys) and repr(keys.k_mac) not in repr(keys)
    assert repr(keys.k_enc) not in repr(TerminalChannel(keys))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.integers(min_value=0, max_value=0xFFFF))
def test_any_response_unprotects_or_raises_our_error(data, sw):
    """The parser of protected responses: any bytes give a response or one of our exceptions."""
    terminal = TerminalChannel(PACE_KEYS)
    terminal.protect(CommandApdu(0, 0xB0, 0, 0, ne=256))
    try:
        terminal.unprotect(ResponseApdu(data, sw))
    except EidError:
        assert terminal.closed


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_protected_command_unprotects_or_raises_our_error(data):
    chip = ChipChannel(PACE_KEYS)
    try:
        chip.unprotect_command(CommandApdu(0x0C, 0xB0, 0, 0, data, 256))
    except EidError:
        assert chip.closed


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_unpad_accepts_only_padding(data):
    padded = cipher.pad(data)
    assert len(padded) % 16 == 0 and cipher.unpad(padded) == data
    try:
        cipher.unpad(data)
    except cipher.PaddingError:
        pass
