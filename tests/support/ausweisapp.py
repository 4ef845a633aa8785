"""Debian's AusweisApp2 (1.26.2) run headless as a test peer, driven through its SDK WebSocket.

The app runs with ``--ui websocket --keep --port N`` and its own HOME / XDG_CONFIG_HOME / XDG_RUNTIME_DIR /
TMPDIR in a temp dir, with pre-verification switched off in its settings file (our test CVCA is no BSI
CVCA). :meth:`AusweisApp.authenticate` runs one online authentication: GET_INFO, RUN_AUTH with the
tcTokenURL, ACCEPT the access rights, SET_CARD "Simulator" when asked to insert a card, SET_PIN / SET_CAN
without a value (the Simulator reports a keypad), and returns every SDK message and the final AUTH result.

The 1.26.2 Simulator fails a run with "Card is already connected" when SET_CARD arrives while the app is
still starting its Simulator plug-in for the INSERT_CARD it just sent (the card-info connection of the
insertion is then still open when the workflow connects): here most runs did (12 to 18 of 20), a pause of
50 ms before SET_CARD left none in 60. So :meth:`AusweisApp.authenticate` pauses ``card_delay`` (0.1 s)
before it inserts the card, as a citizen would; should the race still hit, :func:`authenticate_with_retries`
restarts the app and tries again, up to 8 runs. The app is stopped by its PID. Its debug log
(``AusweisApp2.*.log`` in the temp dir) shows every APDU and PAOS message: see :attr:`AusweisApp.log_paths`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from tests.support.network import free_port
from tests.support.processes import stop_process

EXECUTABLE = "AusweisApp2"
START_TIMEOUT = 30.0
AUTH_TIMEOUT = 60.0
MAX_RUNS = 8
CARD_DELAY = 0.1
"""Seconds between INSERT_CARD and SET_CARD (the card-connect race, see above)."""
CARD_RACE = "Card is already connected"  # in the app's log; the SDK only says "error … communicating with the ID card"


class AusweisAppError(Exception):
    """The app did not start, or the SDK conversation broke off."""


@dataclass
class AuthRun:
    """One RUN_AUTH: every SDK message in order, the final AUTH message, and the time it took."""

    messages: list[dict] = field(default_factory=list)
    result: dict | None = None
    seconds: float = 0.0
    log: str = ""
    """What the app wrote to its debug log during this run."""

    @property
    def major(self) -> str:
        return (self.result or {}).get("result", {}).get("major", "")

    @property
    def ok(self) -> bool:
        return self.major.endswith("#ok")

    @property
    def card_race(self) -> bool:
        """The Simulator's "Card is already connected" race hit this run."""
        return CARD_RACE in self.log

    def named(self, name: str) -> list[dict]:
        return [m for m in self.messages if m.get("msg") == name]


class AusweisApp:
    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/eID-Kernel"

    @property
    def log_paths(self) -> list[Path]:
        return sorted(self.directory.rglob("AusweisApp2*.log"))

    def log_text(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in self.log_paths)

    def _log_sizes(self) -> dict[Path, int]:
        return {path: path.stat().st_size for path in self.log_paths}

    def _log_since(self, sizes: dict[Path, int]) -> str:
        parts = []
        for path in self.log_paths:
            with path.open("rb") as log:
                log.seek(sizes.get(path, 0))
                parts.append(log.read().decode(errors="replace"))
        return "".join(parts)

    def _environment(self) -> dict[str, str]:
        home = self.directory / "home"
        config = self.directory / "config"
        runtime = self.directory / "runtime"
        temp = self.directory / "tmp"
        for path in (home, config, runtime, temp):
            path.mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)
        settings = config / "Unknown Organization" / "AusweisApp2.conf"
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text("[preverification]\nenabled=false\n")
        environment = {key: value for key, value in os.environ.items() if not key.startswith(("XDG_", "QT_"))}
        environment.update(HOME=str(home), XDG_CONFIG_HOME=str(config), XDG_RUNTIME_DIR=str(runtime),
                           XDG_CACHE_HOME=str(home / ".cache"), XDG_DATA_HOME=str(home / ".local/share"),
                           TMPDIR=str(temp), QT_QPA_PLATFORM="offscreen")
        return environment

    def start(self) -> None:
        if shutil.which(EXECUTABLE) is None:
            raise AusweisAppError(f"{EXECUTABLE} is not installed (Debian package ausweisapp2)")
        self.starts += 1
        self.directory.mkdir(parents=True, exist_ok=True)
        output = open(self.directory / f"stdout-{self.starts}.txt", "wb")
        self.process = subprocess.Popen(
            [EXECUTABLE, "--ui", "websocket", "--keep", "--port", str(self.port), "--address", "127.0.0.1"],
            env=self._environment(), stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=self.directory)
        output.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AusweisAppError(f"{EXECUTABLE} exited with {self.process.returncode} while starting")
            try:
                with connect(self.url, open_timeout=2) as websocket:
                    websocket.send(json.dumps({"cmd": "GET_INFO"}))
                    if self._receive(websocket, 5).get("msg") == "INFO":
                        return
            except (OSError, WebSocketException, TimeoutError):
                time.sleep(0.2)
        raise AusweisAppError(f"{EXECUTABLE} did not open its SDK port {self.port} in {START_TIMEOUT} s")

    def stop(self) -> None:
        if self.process is None:
            return
        stop_process(self.process, timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @staticmethod
    def _receive(websocket: ClientConnection, timeout: float) -> dict:
        return json.loads(websocket.recv(timeout=timeout))

    def authenticate(self, tc_token_url: str, timeout: float = AUTH_TIMEOUT,
                     on_message: Callable[[dict], None] | None = None, card_delay: float = CARD_DELAY) -> AuthRun:
        """One RUN_AUTH through the SDK; answers the app's questions as a consenting citizen would, inserting
        the card ``card_delay`` seconds after the app asks for it."""
        run = AuthRun()
        deadline = time.monotonic() + timeout
        sizes = self._log_sizes()
        with connect(self.url, open_timeout=5, max_size=2**22) as websocket:
            started = time.perf_counter()
            websocket.send(json.dumps({"cmd": "RUN_AUTH", "tcTokenURL": tc_token_url, "developerMode": False,
                                       "handleInterrupt": False, "status": False}))
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AusweisAppError(f"no AUTH result within {timeout} s; messages: {run.messages}")
                message = self._receive(websocket, remaining)
                run.messages.append(message)
                if on_message is not None:
                    on_message(message)
                kind = message.get("msg")
                if kind == "AUTH" and ("result" in message or "error" in message):
                    run.result = message
                    run.seconds = time.perf_counter() - started
                    run.log = self._log_since(sizes)
                    return run
                reply = self._answer(kind, message)
                if kind == "INSERT_CARD" and card_delay:
                    time.sleep(card_delay)
                if reply is not None:
                    websocket.send(json.dumps(reply))

    @staticmethod
    def _answer(kind: str | None, message: dict) -> dict | None:
        if kind == "ACCESS_RIGHTS":
            return {"cmd": "ACCEPT"}
        if kind == "INSERT_CARD":
            return {"cmd": "SET_CARD", "name": "Simulator"}
        if kind == "ENTER_PIN":
            return {"cmd": "SET_PIN"}
        if kind == "ENTER_CAN":
            return {"cmd": "SET_CAN"}
        if kind in ("ENTER_PUK", "ENTER_NEW_PIN"):
            return {"cmd": "CANCEL"}
        return None


def authenticate_with_retries(app: AusweisApp, tc_token_url: Callable[[], str], runs: int = MAX_RUNS) -> list[AuthRun]:
    """Run authentications until one is not hit by the Simulator's card-connect race (up to ``runs``).

    ``tc_token_url`` makes a fresh session for each run (a TC token is single-use). Returns all runs;
    the last one is the one that counts.
    """
    history: list[AuthRun] = []
    for attempt in range(runs):
        if attempt:
            app.restart()
        run = app.authenticate(tc_token_url())
        history.append(run)
        if not run.card_race:
            break
    return history


@pytest.fixture
def ausweisapp(tmp_path_factory):
    """A running AusweisApp2 with its own settings and temp dir; stopped (by PID) after the test."""
    app = AusweisApp(tmp_path_factory.mktemp("ausweisapp"))
    app.start()
    try:
        yield app
    finally:
        app.stop()
