"""cardreader.pcsc through the real stack: pyscard → a private pcscd → vsmartcard vpcd → a card served by
cardreader.virtual.vpcd in this process."""

from __future__ import annotations

import os
import threading
import time

import pytest

from cardreader import part10
from cardreader.errors import (
    CardRemoved,
    CardUnresponsive,
    FeatureNotSupported,
    NoCard,
    NoReader,
    PcscdNotRunning,
    ReaderBusy,
    ReaderNotFound,
)
from cardreader.pcsc import EventKind, Pcsc, Protocol, ShareMode
from cardreader.virtual import VirtualCard
from cardreader.virtual.card import ATR as ID_CARD_ATR
from eid.apdu import CommandApdu, ResponseApdu
from tests.cardreader.file_card import ATR, FileCard
from tests.support import eid_world
from tests.support.pcscd import wait_for_card

pytestmark = pytest.mark.pcscd

EF_SMALL = 0x011C
EF_LARGE = 0x0101


def select(fid: int) -> bytes:
    return CommandApdu(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")).encode()


def read_binary(ne: int, offset: int = 0) -> bytes:
    return CommandApdu(0x00, 0xB0, offset >> 8, offset & 0xFF, ne=ne).encode()


SELECT_MF = CommandApdu(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00").encode()
READ_CARD_ACCESS = CommandApdu(0x00, 0xB0, 0x80 | 0x1C, 0x00, ne=65536).encode()


def a_card(marker: bytes = b"card one") -> FileCard:
    """A transport-only card (files, no eID protocols) for extended length, hanging and markers."""
    return FileCard({EF_SMALL: marker, EF_LARGE: bytes(60000)})


def an_id_card() -> VirtualCard:
    return VirtualCard(eid_world.profile())


def test_the_private_pcscd_is_not_the_system_one(pcscd):
    assert os.environ["PCSCLITE_CSOCK_NAME"] == str(pcscd.socket_path)
    assert pcscd.running and pcscd.socket_path.is_socket()


def test_lists_the_two_vpcd_readers(pcscd):
    with Pcsc() as pcsc:
        assert pcsc.readers() == pcscd.reader_names
        states = pcsc.reader_states()
    assert [state.card_present for state in states] == [False, False]


def test_connect_gives_atr_protocol_and_apdu_round_trips(pcscd, vpcd):
    vpcd(an_id_card())
    with Pcsc() as pcsc, pcsc.connect(pcscd.reader_names[0]) as connection:
        assert connection.atr == ID_CARD_ATR
        assert connection.protocol == Protocol.T1
        assert connection.transmit(SELECT_MF) == b"\x90\x00"
        response = ResponseApdu.parse(connection.transmit(READ_CARD_ACCESS))
        refused = ResponseApdu.parse(connection.transmit(select(0x0101)))  # DG1 lives in the eID application
    assert response.sw == 0x9000 and response.data == eid_world.profile().card_access
    assert refused.sw == 0x6A82


def test_answers_pass_through_untouched(pcscd, vpcd):
    vpcd(a_card())
    with Pcsc() as pcsc, pcsc.connect(pcscd.reader_names[0]) as connection:
        assert connection.transmit(select(EF_SMALL)) == b"\x90\x00"
        response = ResponseApdu.parse(connection.transmit(read_binary(256)))
    assert response.data == b"card one"
    assert response.sw == 0x6282  # fewer bytes than asked for


def test_extended_length_in_both_directions(pcscd, vpcd):
    card = a_card()
    vpcd(card)
    content = os.urandom(60000)
    with Pcsc() as pcsc, pcsc.connect() as connection:
        connection.transmit(select(EF_LARGE))
        update = CommandApdu(0x00, 0xD6, 0x00, 0x00, content)
        assert update.extended
        assert connection.transmit(update.encode()) == b"\x90\x00"
        response = ResponseApdu.parse(connection.transmit(read_binary(65536)))
    assert response.data == content
    assert bytes(card.files[EF_LARGE]) == content


def test_a_transaction_keeps_other_programs_out_until_it_ends(pcscd, vpcd):
    card = a_card()
    vpcd(card)
    with Pcsc() as first, Pcsc(timeout=1.0) as second:
        mine = first.connect()
        theirs = second.connect()
        with mine.transaction():
            assert mine.transmit(select(EF_SMALL)) == b"\x90\x00"
            started = time.monotonic()
            with pytest.raises(ReaderBusy):
                with theirs.transaction():
                    pass
            assert time.monotonic() - started < 2
            resets = card.power_ons
        mine.close()
        # The abandoned attempt gets the lock now and gives it up with its context: pcscd resets the
        # card so that nothing a dead transaction did stays unlocked.
        deadline = time.monotonic() + 3
        while card.power_ons == resets and time.monotonic() < deadline:
            time.sleep(0.02)
        assert card.power_ons == resets + 1
        with second.connect() as again, again.transaction():
            assert again.transmit(select(EF_SMALL)) == b"\x90\x00"


def test_exclusive_use_by_another_program_is_reader_busy(pcscd, vpcd):
    vpcd(a_card())
    with Pcsc() as other_program, Pcsc() as pcsc:
        with other_program.connect(share=ShareMode.EXCLUSIVE):
            with pytest.raises(ReaderBusy) as raised:
                pcsc.connect(pcscd.reader_names[0])
    assert "used by another program" in str(raised.value)
    assert pcscd.reader_names[0] in str(raised.value)


def test_two_readers_chosen_by_name(pcscd, vpcd):
    vpcd(a_card(b"first card"), slot=0)
    vpcd(a_card(b"second card"), slot=1)
    with Pcsc() as pcsc:
        assert all(state.card_present for state in pcsc.reader_states())
        for name, expected in zip(pcscd.reader_names, (b"first card", b"second card"), strict=True):
            with pcsc.connect(name) as connection:
                connection.transmit(select(EF_SMALL))
                assert ResponseApdu.parse(connection.transmit(read_binary(11))).data == expected
        with pcsc.connect("00 01") as by_part_of_the_name:
            assert by_part_of_the_name.reader == pcscd.reader_names[1]
        with pytest.raises(ReaderNotFound) as raised:
            pcsc.connect("cyberJack")
    assert raised.value.available == pcscd.reader_names


def test_without_a_name_the_reader_with_a_card_is_taken(pcscd, vpcd):
    vpcd(a_card(), slot=1)
    with Pcsc() as pcsc, pcsc.connect() as connection:
        assert connection.reader == pcscd.reader_names[1]


def test_no_card(pcscd):
    with Pcsc() as pcsc:
        with pytest.raises(NoCard) as raised:
            pcsc.connect(pcscd.reader_names[0])
        assert "Put your ID card on the reader" in str(raised.value)
        with pytest.raises(NoCard):
            pcsc.connect()
        started = time.monotonic()
        with pytest.raises(NoCard):
            pcsc.wait_for_card(pcscd.reader_names[0], timeout=0.5)
        assert time.monotonic() - started < 3


def test_no_reader(pcscd):
    pcscd.restart(with_readers=False)
    with Pcsc() as pcsc:
        assert pcsc.readers() == []
        assert pcsc.reader_states() == []
        with pytest.raises(NoReader) as raised:
            pcsc.connect()
        with pytest.raises(NoReader):
            pcsc.connect("eID-Broker")
    assert "Connect your card reader" in str(raised.value)


def test_pcscd_stopped_and_started_again(pcscd, vpcd):
    slot = vpcd(an_id_card())
    pcsc = Pcsc()
    assert pcsc.readers() == pcscd.reader_names
    pcscd.stop()
    with pytest.raises(PcscdNotRunning) as raised:
        pcsc.readers()
    assert "systemctl start pcscd" in str(raised.value)
    with pytest.raises(PcscdNotRunning):
        Pcsc()
    pcscd.start()
    # The same context object recovers, and the card comes back by itself (the slot reconnects).
    assert pcsc.readers() == pcscd.reader_names
    wait_for_card(pcscd.reader_names[0], present=True)
    assert slot.connected
    with pcsc.connect() as connection:
        assert connection.transmit(SELECT_MF) == b"\x90\x00"
    pcsc.close()


def test_card_removed_mid_command_is_reported_promptly_and_the_next_attempt_works(pcscd, vpcd):
    slot = vpcd(an_id_card(), remove_when=lambda command: command[1] == 0xB0)
    with Pcsc() as pcsc:
        with pcsc.connect() as connection:
            assert connection.transmit(SELECT_MF) == b"\x90\x00"
            started = time.monotonic()
            with pytest.raises(CardRemoved) as raised:
                connection.transmit(READ_CARD_ACCESS)
            assert time.monotonic() - started < 3
            assert "removed" in str(raised.value)
        with pytest.raises(NoCard):
            pcsc.connect(pcscd.reader_names[0])
        slot.remove_when = None
        slot.insert()
        assert pcsc.wait_for_card(timeout=5) == pcscd.reader_names[0]
        with pcsc.connect() as connection:
            response = ResponseApdu.parse(connection.transmit(READ_CARD_ACCESS))
            assert response.data == eid_world.profile().card_access


def test_a_card_that_stops_answering_gives_an_error_after_the_timeout(pcscd, vpcd):
    card = a_card()
    slot = vpcd(card)
    try:
        with Pcsc(timeout=1.0) as pcsc:
            connection = pcsc.connect()
            card.hang.set()
            started = time.monotonic()
            with pytest.raises(CardUnresponsive) as raised:
                connection.transmit(select(EF_SMALL))
            assert 0.9 < time.monotonic() - started < 2.0
            assert "did not answer within 1 seconds" in str(raised.value)
    finally:
        card.release.set()
        slot.remove()


def test_insertion_and_removal_events(pcscd, vpcd):
    with Pcsc() as pcsc:
        assert pcsc.wait_for_events(0.1) == []
        slot = vpcd(an_id_card(), wait=False)
        events = _events_until(pcsc, EventKind.CARD_INSERTED)
        assert events[-1].reader == pcscd.reader_names[0] and events[-1].atr == ID_CARD_ATR
        slot.remove()
        events = _events_until(pcsc, EventKind.CARD_REMOVED)
        assert events[-1].reader == pcscd.reader_names[0]


def test_wait_for_card_returns_when_a_card_arrives(pcscd, vpcd):
    with Pcsc() as pcsc:
        timer = threading.Timer(0.3, lambda: vpcd(a_card(), slot=1, wait=False))
        timer.start()
        try:
            assert pcsc.wait_for_card(timeout=10) == pcscd.reader_names[1]
        finally:
            timer.join()


def test_reset_reaches_the_card(pcscd, vpcd):
    card = a_card()
    vpcd(card)
    with Pcsc() as pcsc, pcsc.connect() as connection:
        before = card.power_ons
        connection.transmit(select(EF_SMALL))
        connection.reconnect(reset=True)
        assert card.power_ons == before + 1
        assert card.selected is None
        assert connection.atr == ATR


def test_a_reader_without_part10_features_gets_software_pace(pcscd, vpcd):
    """Debian's vpcd 3.3 answers no control command at all (upstream later added GET_FEATURE_REQUEST
    with FEATURE_GET_TLV_PROPERTIES only): no PACE in the reader, no PIN pad — PACE runs in software with
    the PIN typed on the computer. The reader-side paths are covered by the encoding tests in
    test_part10.py."""
    vpcd(a_card())
    with Pcsc() as pcsc, pcsc.connect() as connection:
        assert connection.features() == {}
        assert connection.supports_reader_pace() is False
        with pytest.raises(FeatureNotSupported) as raised:
            connection.establish_pace_channel(part10.EstablishPaceChannelInput(part10.PasswordId.PIN))
        assert "does not offer PACE in the reader" in str(raised.value)
        with pytest.raises(FeatureNotSupported):
            connection.verify_pin_direct(part10.PinVerifyStructure(b"\x00\x20\x00\x03", 6, 6))
        with pytest.raises(FeatureNotSupported):
            connection.tlv_properties()
        # The connection is still fine after the refused control commands.
        assert connection.transmit(select(EF_SMALL)) == b"\x90\x00"


def test_direct_connection_to_a_reader_without_a_card(pcscd):
    with Pcsc() as pcsc, pcsc.connect(pcscd.reader_names[1], share=ShareMode.DIRECT) as reader:
        assert reader.reader == pcscd.reader_names[1]
        assert reader.protocol == Protocol.UNDEFINED
        assert reader.features() == {}


def _events_until(pcsc: Pcsc, kind: EventKind, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        seen.extend(pcsc.wait_for_events(0.5))
        if seen and seen[-1].kind == kind:
            return seen
    raise AssertionError(f"no {kind} event; saw {seen}")


def test_a_reset_ends_the_chips_session(pcscd, vpcd):
    """PACE over pcscd, then a reset through pcscd: the chip forgets the secure-messaging session."""
    from eid.pace import Password, PasswordType
    from eid.terminal import EF_CARD_SECURITY, CardSession, ReadBinary

    vpcd(an_id_card())
    with Pcsc() as pcsc, pcsc.connect() as connection:
        session = CardSession(connection)
        session.pace(Password(PasswordType.PIN, eid_world.PIN), os.urandom, chat=eid_world.terminal_chat())
        assert session.run(ReadBinary(EF_CARD_SECURITY))[0] == eid_world.profile().card_security
        connection.reconnect(reset=True)
        plain = CommandApdu(0x00, 0xB0, 0x80 | EF_CARD_SECURITY, 0x00, ne=65536).encode()
        assert ResponseApdu.parse(connection.transmit(plain)).sw == 0x6982
