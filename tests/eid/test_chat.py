import pytest
from hypothesis import given
from hypothesis import strategies as st

from eid.chat import (
    AccessRight,
    Chat,
    ChatError,
    Role,
    TerminalType,
    authentication_terminal,
    effective_authorization,
)
from eid.errors import EidError
from tests.support.properties import result_or_our_error
from tests.support.vectors import hex_value

FIXTURE = "ausweisapp-eac1-input"


def test_required_chat_from_ausweisapp_exchange():
    raw = hex_value(FIXTURE, "required_chat")
    chat = Chat.parse(raw)
    assert chat.role is Role.TERMINAL
    assert chat.terminal_type is TerminalType.AUTHENTICATION_TERMINAL
    assert chat.rights == {
        AccessRight.AGE_VERIFICATION,
        AccessRight.RESTRICTED_IDENTIFICATION,
        AccessRight.READ_DG3,
        AccessRight.READ_DG4,
        AccessRight.READ_DG5,
        AccessRight.READ_DG6,
        AccessRight.READ_DG7,
        AccessRight.READ_DG9,
        AccessRight.READ_DG10,
        AccessRight.READ_DG13,
        AccessRight.READ_DG17,
    }
    assert chat.encode() == raw
    assert Chat.parse(hex_value(FIXTURE, "optional_chat")).rights == frozenset()


def test_bit_positions_follow_tr_03110_4_table_4():
    assert AccessRight.read(1) == 8 and AccessRight.read(21) == 28 and AccessRight.read(22) == 29
    assert AccessRight.write(17) == 37 and AccessRight.write(21) == 33
    chat = authentication_terminal([AccessRight.WRITE_DG17, AccessRight.READ_DG1, AccessRight.AGE_VERIFICATION])
    assert chat.discretionary_data() == bytes.fromhex("2000000101")
    assert Chat(Role.CVCA).discretionary_data() == bytes.fromhex("C000000000")
    assert Chat(Role.DV_OFFICIAL).discretionary_data() == bytes.fromhex("8000000000")
    assert Chat(Role.DV_NON_OFFICIAL).discretionary_data() == bytes.fromhex("4000000000")
    with pytest.raises(ValueError):
        AccessRight.read(23)
    with pytest.raises(ValueError):
        AccessRight.write(16)


def test_inspection_system_keeps_its_own_bits():
    chat = Chat.parse(bytes.fromhex("7F4C0E060904007F0007030102015301C3"))
    assert chat.terminal_type is TerminalType.INSPECTION_SYSTEM
    assert chat.role is Role.CVCA and chat.other_bits == 0x03 and chat.rights == frozenset()
    assert chat.encode() == bytes.fromhex("7F4C0E060904007F0007030102015301C3")
    with pytest.raises(ChatError):
        Chat(Role.TERMINAL, {AccessRight.READ_DG1}, TerminalType.INSPECTION_SYSTEM)


def test_rfu_bits_survive_a_round_trip():
    raw = bytes.fromhex("7F4C12060904007F000703010202530500C0000000")  # bit 31 (RFU) and PSA set, role terminal
    chat = Chat.parse(raw)
    assert AccessRight.PSA in chat and chat.other_bits == 1 << 31
    assert chat.encode() == raw


def test_effective_authorization_is_the_and_of_the_chain():
    cvca = Chat(Role.CVCA, set(AccessRight) - {AccessRight.READ_DG17})
    dv = Chat(Role.DV_OFFICIAL, {AccessRight.READ_DG4, AccessRight.READ_DG17, AccessRight.AGE_VERIFICATION})
    terminal = Chat(Role.TERMINAL, {AccessRight.READ_DG4, AccessRight.READ_DG17, AccessRight.READ_DG5})
    effective = effective_authorization([cvca, dv, terminal])
    assert effective == Chat(Role.TERMINAL, {AccessRight.READ_DG4})
    confined = Chat(Role.TERMINAL, {AccessRight.READ_DG5})
    assert effective_authorization([cvca, dv, terminal], confined).rights == frozenset()
    assert effective_authorization([cvca, dv]).role is Role.DV_OFFICIAL


def test_effective_authorization_drops_rights_of_another_terminal_type():
    cvca_is = Chat(Role.CVCA, terminal_type=TerminalType.INSPECTION_SYSTEM, other_bits=3)
    dv = Chat(Role.DV_OFFICIAL, {AccessRight.READ_DG1})
    terminal = Chat(Role.TERMINAL, {AccessRight.READ_DG1})
    assert effective_authorization([cvca_is, dv, terminal]) == Chat(Role.TERMINAL)
    with pytest.raises(ChatError):
        effective_authorization([dv, terminal], Chat(Role.TERMINAL, terminal_type=TerminalType.SIGNATURE_TERMINAL))
    with pytest.raises(ChatError):
        effective_authorization([])


@pytest.mark.parametrize(
    "raw",
    [
        "7F4C0A06090400 7F000703010202",  # no discretionary data
        "7F4C11060904007F000703010202530400000000",  # 4 bytes for an AT
        "7F4C12060904007F00070301020953050000000000",  # unknown terminal type
        "7F4E12060904007F00070301020253050000000000",  # wrong tag
        "7F4C0753050000000000",
    ],
)
def test_rejects_malformed(raw):
    with pytest.raises(EidError):
        Chat.parse(bytes.fromhex(raw.replace(" ", "")))


@given(st.binary(max_size=30))
def test_any_bytes_parse_or_raise_our_error(data):
    result_or_our_error(Chat.parse, data)


@given(st.integers(min_value=0, max_value=2**40 - 1))
def test_every_mask_round_trips(mask):
    chat = Chat.from_mask(TerminalType.AUTHENTICATION_TERMINAL, mask)
    assert chat.mask == mask
    assert Chat.parse(chat.encode()) == chat
