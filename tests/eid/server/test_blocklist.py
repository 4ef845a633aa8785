"""eid/server/blocklist.py: the blocklist file, its parser, and reading it again when it changes."""

import logging
import os

import pytest

from eid import passive_authentication
from eid.server.blocklist import BlocklistError, BlocklistFile, DocumentBlocklist
from eid.server.terminal import TerminalConfigError
from tests.eid.server.common import terminal
from tests.support import eid_world

CARD = bytes.fromhex("5b0c0a84c1d0d1e0b61d2f5f9e1e3c2a7d4b1b5a3a2c1e0f9d8c7b6a5a4b3c2d")


def test_the_file_format():
    parsed = DocumentBlocklist.parse(f"""
        # revoked cards of our sector
        {CARD.hex().upper()}   # reported stolen
        ds:0A1b2c
        DS: ff

    """)
    assert parsed.sector_identifiers == {CARD}
    assert parsed.document_signers == {0x0A1B2C, 0xFF}
    assert parsed.card_revoked(None, CARD) and not parsed.card_revoked(None, b"\x00" * 32)
    assert DocumentBlocklist.parse("# nothing\n") == DocumentBlocklist()


@pytest.mark.parametrize("line", ["not hex", "abcd", "ds:", "ds:xyz", CARD.hex()[:-1]])
def test_a_bad_entry_names_its_line(line):
    with pytest.raises(BlocklistError, match="line 2"):
        DocumentBlocklist.parse(f"{CARD.hex()}\n{line}\n")


def test_the_document_signer_hook_of_passive_authentication():
    test_pki = eid_world.shared_pki()
    card_security = eid_world.profile().card_security
    serial = test_pki.document_signer.serial_number
    blocked = DocumentBlocklist(document_signers=frozenset({serial}))
    with pytest.raises(passive_authentication.DocumentBlocked, match="is revoked"):
        passive_authentication.verify(card_security, [test_pki.csca], eid_world.NOW, blocked.document_signer_revoked)
    other = DocumentBlocklist(document_signers=frozenset({serial + 1}))
    assert passive_authentication.verify(card_security, [test_pki.csca], eid_world.NOW, other.document_signer_revoked)


def test_the_file_is_read_again_when_it_changes(tmp_path, caplog):
    path = tmp_path / "blocklist.txt"
    path.write_text("# empty at first\n")
    source = BlocklistFile(path)
    assert source.current() == DocumentBlocklist()
    path.write_text(CARD.hex() + "\n")
    os.utime(path, ns=(1, 1))  # a new modification time even within the file system's time resolution
    assert source.current().sector_identifiers == {CARD}
    # a malformed version is reported once and the last good list stays in force
    path.write_text(CARD.hex() + "\nnonsense\n")
    os.utime(path, ns=(2, 2))
    with caplog.at_level(logging.ERROR, "eid.server.blocklist"):
        assert source.current().sector_identifiers == {CARD}
        assert source.current().sector_identifiers == {CARD}
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "line 2" in caplog.records[0].message
    path.unlink()
    assert source.current().sector_identifiers == {CARD}


def test_a_bad_file_at_start_is_an_error(tmp_path):
    path = tmp_path / "blocklist.txt"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(BlocklistError, match="not UTF-8"):
        BlocklistFile(path)
    with pytest.raises(FileNotFoundError):
        BlocklistFile(tmp_path / "missing.txt")


def test_card_identifiers_need_the_terminal_sector_key():
    with pytest.raises(TerminalConfigError, match="sector key"):
        terminal(sector=None, blocklist=DocumentBlocklist(frozenset({CARD})))
    assert terminal(sector=None, blocklist=DocumentBlocklist(document_signers=frozenset({1}))).blocklist
