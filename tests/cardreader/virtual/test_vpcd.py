"""cardreader.virtual.vpcd against Debian's vpcd driver inside the private pcscd."""

from __future__ import annotations

import logging

import pytest

from cardreader.pcsc import Pcsc
from eid.apdu import CommandApdu
from tests.cardreader.file_card import FileCard
from tests.support.pcscd import wait_for_card

pytestmark = pytest.mark.pcscd

SELECT = CommandApdu(0x00, 0xA4, 0x02, 0x0C, b"\x01\x1c").encode()


class BrokenCard(FileCard):
    def transmit(self, command: bytes) -> bytes:
        raise RuntimeError("a bug in the card")


def test_every_exchange_is_seen_and_counted(pcscd, vpcd):
    exchanges = []
    slot = vpcd(FileCard({0x011C: b"x"}),
                on_exchange=lambda command, response: exchanges.append((command, response)))
    with Pcsc() as pcsc, pcsc.connect() as card:
        card.transmit(SELECT)
        card.transmit(bytes.fromhex("00B0000001"))
    assert exchanges == [(SELECT, b"\x90\x00"), (bytes.fromhex("00B0000001"), b"x\x90\x00")]
    assert slot.commands == 2


def test_a_failing_card_answers_6f00_instead_of_going_silent(pcscd, vpcd, caplog):
    vpcd(BrokenCard({}))
    with caplog.at_level(logging.ERROR, logger="cardreader.virtual.vpcd"):
        with Pcsc() as pcsc, pcsc.connect() as card:
            assert card.transmit(SELECT) == b"\x6f\x00"
    assert "the card failed on a command (INS A4)" in caplog.text


def test_swapping_cards_and_a_clean_stop(pcscd, vpcd):
    first, second = FileCard({0x011C: b"first"}), FileCard({0x011C: b"second"})
    slot = vpcd(first)
    reader = pcscd.reader_names[0]
    slot.remove()
    wait_for_card(reader, present=False, daemon=pcscd)
    assert not slot.connected and not first.powered
    slot.insert(second)
    wait_for_card(reader, present=True, daemon=pcscd)
    with Pcsc() as pcsc, pcsc.connect(reader) as card:
        card.transmit(SELECT)
        assert card.transmit(bytes.fromhex("00B0000006")) == b"second\x90\x00"
    slot.stop()
    assert not slot.connected and not second.powered
    wait_for_card(reader, present=False, daemon=pcscd)


def test_a_card_inserted_before_pcscd_starts_appears_when_it_does(pcscd, vpcd):
    pcscd.stop()
    card = FileCard({0x011C: b"early"})
    slot = vpcd(card, wait=False)
    assert not slot.wait_connected(0.3)
    pcscd.start()
    wait_for_card(pcscd.reader_names[0], present=True, daemon=pcscd)
    assert slot.connected and card.powered
