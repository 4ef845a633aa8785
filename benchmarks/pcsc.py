"""What a card costs through the real PC/SC stack: pyscard → a private pcscd → vsmartcard vpcd → the virtual
ID card served by ``cardreader.virtual.vpcd``.

    .venv/bin/python benchmarks/pcsc.py [runs]

Prints the median APDU round trip (µs) through pcscd and vpcd next to the same command in-process, and a
full ``card read`` (PACE, TA, passive authentication, CA, every data group the test terminal may read,
RI, age and validity verification): wall time in ms, median of ``runs`` (default 20), and its APDU count
— in-process (connect included) and as an ``eid-broker card read`` process (Python start included).
Needs root (or user namespaces) for the private pcscd, like the tests.
"""

from __future__ import annotations

import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.pcscd import PrivatePcscd, wait_for_card  # noqa: E402

PIN = "123456"
SELECT_MF = bytes.fromhex("00A4000C023F00")


def median(values: list[float]) -> float:
    return statistics.median(values)


def main(runs: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="eid-broker-bench-pcsc-"))
    daemon = PrivatePcscd(directory)
    # Before the first PC/SC context of this process: pcsc-lite reads the socket path once.
    os.environ["PCSCLITE_CSOCK_NAME"] = str(daemon.socket_path)
    daemon.start()
    try:
        measure(directory, daemon, runs)
    finally:
        daemon.stop()
        shutil.rmtree(directory, ignore_errors=True)


def measure(directory: Path, daemon: PrivatePcscd, runs: int) -> None:
    from broker.cli.card import connect, load_terminal, read_card
    from cardreader.pcsc import Pcsc
    from cardreader.virtual import VirtualCard
    from cardreader.virtual.vpcd import VpcdSlot
    from eid import pki
    from eid.card_profile import dump
    from eid.pace import Password, PasswordType

    today = datetime.datetime.now(datetime.UTC).date()
    test_pki = pki.create_test_pki(today=today)
    profile = pki.create_card_profile(test_pki, today=today)
    terminal_dir = directory / "pki"
    terminal_dir.mkdir()
    for name, content in test_pki.files().items():
        (terminal_dir / name).write_bytes(content)
    (terminal_dir / "card.json").write_text(dump(profile), encoding="utf-8")

    card = VirtualCard(profile)
    reader = daemon.reader_names[0]
    with VpcdSlot(card, "127.0.0.1", daemon.ports[0]):
        wait_for_card(reader, present=True, daemon=daemon)

        with Pcsc() as pcsc, pcsc.connect(reader) as connection:
            for _ in range(50):
                connection.transmit(SELECT_MF)
            through_pcscd = []
            for _ in range(max(runs * 100, 1000)):
                started = time.perf_counter()
                connection.transmit(SELECT_MF)
                through_pcscd.append(time.perf_counter() - started)
        in_process = []
        for _ in range(max(runs * 100, 1000)):
            started = time.perf_counter()
            card.transmit(SELECT_MF)
            in_process.append(time.perf_counter() - started)

        files = load_terminal(terminal_dir)
        now = datetime.datetime.now(datetime.UTC)
        walls, apdus, groups = [], 0, 0
        for _ in range(runs):
            started = time.perf_counter()
            session = connect(reader, 0, 10, trace=False)
            try:
                result = read_card(session, files, [Password(PasswordType.PIN, PIN)], in_reader=False, age=18,
                                   community_id=None, today=today, now=now)
            finally:
                session.close()
            walls.append(time.perf_counter() - started)
            apdus, groups = result["apdus"], len(result["data_groups"])
            assert result["pseudonym"] and result["passive_authentication"]["verified"]

        command = [str(Path(sys.executable).with_name("eid-broker")), "card", "read", "--pin-stdin", "--json",
                   "--terminal", str(terminal_dir)]
        processes = []
        for _ in range(max(3, runs // 4)):
            started = time.perf_counter()
            subprocess.run(command, input=PIN + "\n", capture_output=True, text=True, check=True)
            processes.append(time.perf_counter() - started)

    print(f"APDU round trip (SELECT MF), median of {len(through_pcscd)}:")
    print(f"  through pyscard, pcscd and vpcd   {median(through_pcscd) * 1e6:8.0f} µs")
    print(f"  the virtual card in-process       {median(in_process) * 1e6:8.0f} µs")
    print(f"full card read (PACE, TA, passive authentication, CA, {groups} data groups read, RI, VERIFY age and "
          f"validity), {apdus} APDUs:")
    print(f"  in-process, connect included      {median(walls) * 1000:8.1f} ms (median of {runs})")
    print(f"  'eid-broker card read' process    {median(processes) * 1000:8.1f} ms (median of {len(processes)})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
