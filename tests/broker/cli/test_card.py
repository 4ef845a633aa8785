"""``eid-broker card`` through the real stack: the CLI's pyscard → a private pcscd → vsmartcard vpcd → the
virtual ID card (cardreader.virtual.VirtualCard) in a vpcd slot, with a test PKI from ``pki create-test``."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from broker.cli import main
from cardreader.virtual import VirtualCard
from eid import card_profile
from eid.card_profile import CardProfile
from tests.support.pcscd import wait_for_card

pytestmark = pytest.mark.pcscd

PIN, CAN, PUK = "123456", "500540", "9876543210"
GA, READ_BINARY = 0x86, 0xB0


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory) -> Path:
    """The test PKI exactly as the README makes it."""
    out = tmp_path_factory.mktemp("pki")
    result = CliRunner().invoke(main, ["--data-dir", str(out / "data"), "pki", "create-test", "--out", str(out), "--force"])
    assert result.exit_code == 0, result.output
    return out


def profile(pki_dir: Path, **passwords: object) -> CardProfile:
    base = card_profile.load((pki_dir / "card.json").read_text(encoding="utf-8"))
    return dataclasses.replace(base, passwords=dataclasses.replace(base.passwords, **passwords))


def card(pki_dir: Path, **passwords: object) -> VirtualCard:
    return VirtualCard(profile(pki_dir, **passwords))


def run(*arguments: str, stdin: str = ""):
    return CliRunner().invoke(main, ["card", *arguments], input=stdin)


def read(pki_dir: Path, *arguments: str, stdin: str = PIN + "\n"):
    options = list(arguments) or ["--pin-stdin"]
    return run("read", "--terminal", str(pki_dir), "--json", *options, stdin=stdin)


def test_card_read_returns_the_test_persons_data(pcscd, vpcd, pki_dir):
    vpcd(card(pki_dir))
    result = read(pki_dir)
    assert result.exit_code == 0, result.output
    reading = json.loads(result.stdout)
    groups = reading["data_groups"]
    assert groups["DG4"] == {"name": "given names", "value": "ERIKA"}
    assert groups["DG5"]["value"] == "MUSTERMANN"
    assert groups["DG8"]["value"] == "19840812"
    assert groups["DG17"]["value"]["city"] == "KÖLN" and groups["DG17"]["value"]["zipcode"] == "51147"
    assert groups["DG18"]["value"] == "02760503150000"
    assert reading["pace"] == {"passwords": ["PIN"], "in_reader": False, "cars": ["DETESTeID00005"]}
    assert reading["passive_authentication"]["verified"] is True
    assert reading["verification"] == {"age": True, "validity": True}
    assert len(bytes.fromhex(reading["pseudonym"])) == 32
    assert reading["reader"] == pcscd.reader_names[0]
    assert reading["apdus"] > 20
    # The same card in the same sector gives the same pseudonym; the community ID prefix verifies.
    again = json.loads(read(pki_dir, "--pin-stdin", "--community-id", "0276050315").stdout)
    assert again["pseudonym"] == reading["pseudonym"]
    assert again["verification"]["community_id"] is True


def test_human_readable_output(pcscd, vpcd, pki_dir):
    vpcd(card(pki_dir))
    result = run("read", "--terminal", str(pki_dir), "--pin-stdin", stdin=PIN + "\n")
    assert result.exit_code == 0, result.output
    assert "DG4   given names          ERIKA" in result.stdout
    assert "Verify age: yes" in result.stdout
    assert PIN not in result.output


def test_pace_with_the_can(pcscd, vpcd, pki_dir):
    vpcd(card(pki_dir))
    result = read(pki_dir, "--can-stdin", stdin=CAN + "\n")
    assert result.exit_code == 0, result.output
    reading = json.loads(result.stdout)
    assert reading["pace"]["passwords"] == ["CAN"]
    assert reading["data_groups"]["DG4"]["value"] == "ERIKA"


def test_wrong_pin_counts_down_then_the_suspended_pin_needs_the_can(pcscd, vpcd, pki_dir):
    vpcd(card(pki_dir))
    first = read(pki_dir, stdin="111111\n")
    assert first.exit_code == 1
    assert "The PIN is wrong. 2 attempts left." in first.stderr
    second = read(pki_dir, stdin="111111\n")
    assert "The PIN is wrong. The PIN is suspended after two wrong attempts" in second.stderr
    suspended = read(pki_dir, stdin=PIN + "\n")
    assert suspended.exit_code == 1
    assert "The PIN is suspended after two wrong attempts" in suspended.stderr and "CAN" in suspended.stderr
    resumed = read(pki_dir, "--can-stdin", "--pin-stdin", stdin=f"{CAN}\n{PIN}\n")
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["pace"]["passwords"] == ["CAN", "PIN"]
    assert read(pki_dir).exit_code == 0  # the counter is back at three


def test_a_blocked_pin_is_unblocked_with_the_puk(pcscd, vpcd, pki_dir):
    vpcd(card(pki_dir, pin_retries=0))
    blocked = read(pki_dir)
    assert blocked.exit_code == 1 and "The PIN is blocked" in blocked.stderr and "unblock" in blocked.stderr
    wrong_puk = run("unblock", "--puk-stdin", stdin="1111111111\n")
    assert wrong_puk.exit_code == 1 and "The PUK is wrong." in wrong_puk.stderr
    unblocked = run("unblock", "--puk-stdin", stdin=PUK + "\n")
    assert unblocked.exit_code == 0, unblocked.output
    assert "unblocked" in unblocked.stdout
    assert read(pki_dir).exit_code == 0


def test_the_transport_pin_is_changed_to_a_pin(pcscd, vpcd, pki_dir):
    vpcd(card(pki_dir, pin="12345", transport_pin=True))
    refused = read(pki_dir, stdin="12345\n")
    assert refused.exit_code == 1
    assert "five-digit transport PIN" in refused.stderr and "change-pin" in refused.stderr
    bad_new_pin = run("change-pin", "--pin-stdin", stdin="12345\n1234\n")
    assert bad_new_pin.exit_code == 1 and "six digits" in bad_new_pin.stderr
    changed = run("change-pin", "--pin-stdin", "--trace", stdin="12345\n654321\n")
    assert changed.exit_code == 0, changed.output
    assert "The PIN was changed." in changed.stdout
    reset_retry_counter = [line for line in changed.stderr.splitlines() if line.startswith("> 0C2C0203")]
    assert len(reset_retry_counter) == 1 and "<masked>" in reset_retry_counter[0]
    for secret in ("12345", "654321", "3132333435", "363534333231"):
        assert secret not in changed.output
    assert read(pki_dir, stdin="654321\n").exit_code == 0
    assert read(pki_dir, stdin="12345\n").exit_code == 1


def test_a_deactivated_eid_function_gets_the_citizen_facing_message(pcscd, vpcd, pki_dir):
    vpcd(card(pki_dir, eid_activated=False))
    result = read(pki_dir)
    assert result.exit_code == 1
    assert "The online ID function of this card is switched off" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("moment", "removed_at"), [
    ("in the middle of PACE", lambda command: command[1] == GA),
    ("in the middle of reading", lambda command: command[1] == READ_BINARY and command[0] & 0x0C),
])
def test_card_removed_mid_protocol_is_a_clear_error_and_the_next_attempt_works(pcscd, vpcd, pki_dir, moment,
                                                                               removed_at):
    slot = vpcd(card(pki_dir), remove_when=removed_at)
    started = time.monotonic()
    result = read(pki_dir)
    assert time.monotonic() - started < 5, moment
    assert result.exit_code == 1
    assert "The card was removed from the card reader" in result.stderr, result.output
    slot.remove_when = None
    slot.insert()
    wait_for_card(pcscd.reader_names[0], present=True, daemon=pcscd)
    again = read(pki_dir)
    assert again.exit_code == 0, again.output


def test_no_card(pcscd, pki_dir):
    result = read(pki_dir)
    assert result.exit_code == 1
    assert "There is no card on the card reader" in result.stderr
    waited = read(pki_dir, "--pin-stdin", "--reader", "00 01", "--wait", "0.5")
    assert waited.exit_code == 1 and pcscd.reader_names[1] in waited.stderr


def test_no_reader(pcscd, pki_dir):
    pcscd.restart(with_readers=False)
    result = read(pki_dir)
    assert result.exit_code == 1
    assert "No card reader was found. Connect your card reader" in result.stderr
    readers = run("readers")
    assert readers.exit_code == 0 and readers.stdout == "no card reader\n"


def test_pcscd_stopped(pcscd, pki_dir):
    pcscd.stop()
    result = read(pki_dir)
    assert result.exit_code == 1
    assert "The smart-card service (pcscd) is not running" in result.stderr
    assert "systemctl start pcscd" in result.stderr


def test_two_readers_chosen_by_name(pcscd, vpcd, pki_dir):
    erika = profile(pki_dir)
    other = dataclasses.replace(erika, person=dataclasses.replace(erika.person, given_names="MAX"))
    vpcd(VirtualCard(erika), slot=0)
    vpcd(VirtualCard(other), slot=1)
    listing = run("readers")
    assert listing.stdout.count(": card, ATR") == 2
    for reader, given_names in ((pcscd.reader_names[0], "ERIKA"), (pcscd.reader_names[1], "MAX")):
        result = read(pki_dir, "--pin-stdin", "--reader", reader)
        assert result.exit_code == 0, result.output
        reading = json.loads(result.stdout)
        assert reading["reader"] == reader and reading["data_groups"]["DG4"]["value"] == given_names
    unknown = read(pki_dir, "--pin-stdin", "--reader", "cyberJack")
    assert unknown.exit_code == 1
    assert "There is no card reader named 'cyberJack'" in unknown.stderr
    assert pcscd.reader_names[1] in unknown.stderr


def test_a_trace_shows_the_apdus_without_the_pin(pcscd, vpcd, pki_dir):
    vpcd(card(pki_dir))
    result = read(pki_dir, "--pin-stdin", "--trace")
    assert result.exit_code == 0, result.output
    trace = [line for line in result.stderr.splitlines() if line.startswith((">", "<"))]
    assert len(trace) == 2 * json.loads(result.stdout)["apdus"]
    assert trace[0] == "> 00A4000C023F00"  # SELECT MF, then EF.CardAccess for the PACE parameters
    assert PIN.encode().hex() not in result.stderr.lower()


def test_pace_in_the_reader_is_refused_when_the_reader_has_none(pcscd, vpcd, pki_dir):
    vpcd(card(pki_dir))
    result = read(pki_dir, "--pin-stdin", "--pace", "reader")
    assert result.exit_code == 1
    assert "does not offer PACE in the reader" in result.stderr


def test_the_readme_commands_as_processes(pcscd, pki_dir, tmp_path):
    """`card serve` and `card read` as real processes, as the README shows them; signals take the card out
    and put it back, SIGTERM ends the server cleanly."""
    environment = dict(os.environ)  # PCSCLITE_CSOCK_NAME points at the private pcscd
    command = [str(Path(sys.executable).with_name("eid-broker"))]
    server = subprocess.Popen([*command, "card", "serve", "--profile", str(pki_dir / "card.json"),
                               "--port", str(pcscd.ports[1])], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env=environment, text=True)
    reader = pcscd.reader_names[1]
    try:
        assert "serving the card of ERIKA MUSTERMANN" in server.stdout.readline()
        wait_for_card(reader, present=True, daemon=pcscd)
        result = subprocess.run([*command, "card", "read", "--pin-stdin", "--terminal", str(pki_dir), "--json"],
                                input=PIN + "\n", capture_output=True, text=True, env=environment, timeout=60)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["data_groups"]["DG5"]["value"] == "MUSTERMANN"
        server.send_signal(signal.SIGUSR1)
        assert server.stdout.readline().strip() == "card taken out"
        wait_for_card(reader, present=False, daemon=pcscd)
        server.send_signal(signal.SIGUSR2)
        assert server.stdout.readline().strip() == "card put back"
        wait_for_card(reader, present=True, daemon=pcscd)
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(10) == 0
    assert server.stdout.read().strip() == "stopped"
    wait_for_card(reader, present=False, daemon=pcscd)


def test_serve_takes_the_card_out_after_some_commands_and_traces_masked(pcscd, pki_dir):
    command = [str(Path(sys.executable).with_name("eid-broker")), "card"]
    server = subprocess.Popen([*command, "serve", "--profile", str(pki_dir / "card.json"), "--port",
                               str(pcscd.ports[0]), "--remove-after", "5", "--trace"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reader = pcscd.reader_names[0]
    try:
        assert "serving the card" in server.stdout.readline()
        wait_for_card(reader, present=True, daemon=pcscd)
        started = time.monotonic()
        removed = read(pki_dir)
        assert time.monotonic() - started < 5
        assert removed.exit_code == 1 and "The card was removed" in removed.stderr
        assert server.stdout.readline().startswith("card taken out after 5 commands")
        server.send_signal(signal.SIGUSR2)
        assert server.stdout.readline().strip() == "card put back"
        wait_for_card(reader, present=True, daemon=pcscd)
        assert read(pki_dir).exit_code == 0
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(10) == 0
    trace = server.stderr.read().splitlines()
    assert trace[:2] == ["> 00A4000C023F00", "< 9000"]
    assert len([line for line in trace if line.startswith(">")]) > 5 + 20
    assert PIN.encode().hex() not in "\n".join(trace).lower()
