"""A private pcscd with vsmartcard vpcd readers, started by the tests, and pytest fixtures around it.

pcsc-lite 1.9.9 reads the socket path from ``PCSCLITE_CSOCK_NAME`` only on the client side
(``winscard_msg.c`` ``getSocketName``); the daemon always binds ``/run/pcscd/pcscd.comm`` and writes
``/run/pcscd/pcscd.pid`` (``winscard_msg_srv.c``, ``pcscdaemon.c``). So the private pcscd runs in a
mount namespace of its own (``unshare --mount``) where a directory of ours is bind-mounted over ``/run``:
it never sees or touches a system pcscd, and its socket appears in our directory, where the clients in
this process (and their children) find it through ``PCSCLITE_CSOCK_NAME``. USB driver bundles are hidden
in that namespace, so the private pcscd never grabs a real reader from the system one.

pcsc-lite's client caches the socket path at the first context of a process, so the plugin sets
``PCSCLITE_CSOCK_NAME`` in ``pytest_configure``, before any test can open a context, and restarts always
reuse the same directory.

One vpcd reader entry in Debian's build has two slots, on TCP ports P and P+1, listed as
``"<name> 00 00"`` and ``"<name> 00 01"`` — the two readers of the tests. (A second entry with the same
driver would clash: ifd-vpcd keeps one connection per slot number in a global array.)
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.processes import stop_process

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PCSC_DRIVERS = Path("/usr/lib/pcsc/drivers")
READER_NAME = "eID-Broker Test Reader"
SLOTS = 2
START_TIMEOUT = 15.0


def _free_port_pair() -> int:
    """A port P with P and P+1 both free (vpcd binds every slot on all interfaces)."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("0.0.0.0", 0))
            port = probe.getsockname()[1]
        if port + 1 > 65535:
            continue
        try:
            with socket.socket() as first, socket.socket() as second:
                first.bind(("0.0.0.0", port))
                second.bind(("0.0.0.0", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no two adjacent free TCP ports for vpcd")


class PrivatePcscd:
    """pcscd in the foreground, in its own mount namespace, with one vpcd reader entry (two slots)."""

    def __init__(self, directory: Path, reader_name: str = READER_NAME) -> None:
        self.directory = directory
        self.reader_name = reader_name
        self.run_dir = directory / "run"
        self.config_dir = directory / "reader.conf.d"
        self.starts = 0
        self.base_port = _free_port_pair()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        return self.run_dir / "pcscd" / "pcscd.comm"

    @property
    def ports(self) -> list[int]:
        return [self.base_port + slot for slot in range(SLOTS)]

    @property
    def reader_names(self) -> list[str]:
        return [f"{self.reader_name} 00 {slot:02d}" for slot in range(SLOTS)]

    @property
    def log_path(self) -> Path:
        """pcscd's output of its latest start (each start gets its own file)."""
        return self.directory / f"pcscd.{self.starts}.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _write_config(self, with_readers: bool) -> None:
        shutil.rmtree(self.config_dir, ignore_errors=True)
        self.config_dir.mkdir(parents=True)
        if with_readers:
            (self.config_dir / "vpcd").write_text(
                f'FRIENDLYNAME "{self.reader_name}"\n'
                f"DEVICENAME /dev/null:0x{self.base_port:X}\n"
                f"LIBPATH {VPCD_DRIVER}\n"
                f"CHANNELID 0x{self.base_port:X}\n"
            )

    def start(self, with_readers: bool = True) -> None:
        if self.running:
            raise RuntimeError("pcscd is already running")
        for tool in ("pcscd", "unshare"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is missing: scripts/test.sh installs pcscd and vsmartcard-vpcd")
        if not VPCD_DRIVER.exists():
            raise RuntimeError(f"{VPCD_DRIVER} is missing: install the Debian package vsmartcard-vpcd")
        self._write_config(with_readers)
        shutil.rmtree(self.run_dir, ignore_errors=True)
        self.run_dir.mkdir(parents=True)
        hide_usb_drivers = "".join(f"mount -t tmpfs tmpfs '{bundle}' && "
                                   for bundle in sorted(PCSC_DRIVERS.glob("*.bundle")))
        script = (f"mount --bind '{self.run_dir}' /run && {hide_usb_drivers}"
                  f"exec pcscd --foreground --info --config '{self.config_dir}'")
        namespace = ["unshare", "--mount", "--propagation", "private"]
        if os.geteuid() != 0:
            namespace[1:1] = ["--user", "--map-root-user"]
        self.starts += 1
        log = self.log_path.open("ab")
        # unshare and sh both exec: the PID we hold is pcscd's own.
        self.process = subprocess.Popen([*namespace, "sh", "-c", script], stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"pcscd exited at start:\n{self.log_tail()}")
            if self.socket_path.exists() and "daemon ready" in self.log_path.read_text(errors="replace"):
                with socket.socket(socket.AF_UNIX) as probe:
                    try:
                        probe.connect(str(self.socket_path))
                        return
                    except OSError:
                        pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"pcscd did not become ready within {START_TIMEOUT} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM to our pcscd's PID (never by name), SIGKILL if it does not go within 5 s."""
        process, self.process = self.process, None
        if process is not None:
            stop_process(process, timeout=5)

    def restart(self, with_readers: bool = True) -> None:
        self.stop()
        self.start(with_readers)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


# --- pytest plugin ----------------------------------------------------------------------------------

_SESSION_DIRECTORY: Path | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Point every PC/SC client of the test session at the private pcscd before any can connect."""
    global _SESSION_DIRECTORY
    _SESSION_DIRECTORY = Path(tempfile.mkdtemp(prefix="eid-broker-pcscd-"))
    os.environ["PCSCLITE_CSOCK_NAME"] = str(_SESSION_DIRECTORY / "run" / "pcscd" / "pcscd.comm")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SESSION_DIRECTORY is not None:
        shutil.rmtree(_SESSION_DIRECTORY, ignore_errors=True)


@pytest.fixture(scope="session")
def pcscd_session() -> Iterator[PrivatePcscd]:
    assert _SESSION_DIRECTORY is not None, "tests.support.pcscd must be registered in pytest_plugins"
    daemon = PrivatePcscd(_SESSION_DIRECTORY)
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def pcscd(pcscd_session: PrivatePcscd) -> Iterator[PrivatePcscd]:
    """The private pcscd, running with its two vpcd readers at the start and at the end of the test."""
    if not pcscd_session.running or not (pcscd_session.config_dir / "vpcd").exists():
        pcscd_session.restart()
    yield pcscd_session
    if not pcscd_session.running or not (pcscd_session.config_dir / "vpcd").exists():
        pcscd_session.restart()


@pytest.fixture
def vpcd(pcscd: PrivatePcscd) -> Iterator[Callable[..., object]]:
    """``vpcd(card, slot=0, **options) -> VpcdSlot``: put a card into a reader of the private pcscd and
    wait until pcscd sees it. Every slot is emptied again (and pcscd has noticed) after the test."""
    from cardreader.virtual.vpcd import VpcdSlot

    slots: list[tuple[VpcdSlot, str]] = []

    def serve(card: object, slot: int = 0, wait: bool = True, **options: object) -> VpcdSlot:
        served = VpcdSlot(card, "127.0.0.1", pcscd.ports[slot], **options).start()  # type: ignore[arg-type]
        slots.append((served, pcscd.reader_names[slot]))
        if wait:
            wait_for_card(pcscd.reader_names[slot], present=True, daemon=pcscd)
        return served

    yield serve
    for served, _name in slots:
        served.stop()
    if pcscd.running:
        for _served, name in slots:
            wait_for_card(name, present=False, daemon=pcscd)


def wait_for_card(reader: str, present: bool, timeout: float = 10.0, daemon: PrivatePcscd | None = None) -> None:
    """Block until pcscd reports a card on ``reader`` (or none), polling its state."""
    from cardreader.pcsc import Pcsc

    deadline = time.monotonic() + timeout
    with Pcsc() as pcsc:
        while True:
            states = {state.name: state for state in pcsc.reader_states()}
            state = states.get(reader)
            if state is not None and state.card_present == present and (not present or state.atr):
                return
            if time.monotonic() > deadline:
                log = daemon.log_tail() if daemon is not None else ""
                raise AssertionError(f"pcscd did not see the card {'arrive on' if present else 'leave'} {reader}"
                                     f"\n{log}")
            pcsc.wait_for_events(0.2)
