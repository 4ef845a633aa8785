"""The README's first command as a person uses it: ``bash scripts/demo.sh`` in a terminal (a pseudo-terminal
here), a browser that logs in as the demo citizen and raises the login with the eID step-up, and the demo's eID
client, which shows the provider's request and asks its questions and the card's PIN in that terminal — which
shows them, and not the broker's log lines (those go to ``demo.log``)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.network import free_port, wait_for_port
from tests.support.processes import stop_process

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0


class Terminal:
    """A pseudo-terminal with a program in it: what it shows, and typing into it."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
                                        start_new_session=True)
        os.close(slave)
        self.shown = ""

    def read(self, seconds: float = 0.1) -> None:
        ready, _, _ = select.select([self.master], [], [], seconds)
        if ready:
            try:
                self.shown += os.read(self.master, 65536).decode(errors="replace")
            except OSError:  # the program ended and closed the terminal
                pass

    def wait_for(self, text: str, timeout: float = 60.0, after: int = 0) -> int:
        """Where ``text`` appears (after position ``after``) once the program has shown it."""
        deadline = time.monotonic() + timeout
        while (found := self.shown.find(text, after)) < 0:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"{text!r} not shown; the terminal shows:\n{self.shown[-3000:]}")
            self.read()
        return found

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def stop(self) -> None:
        stop_process(self.process)
        os.close(self.master)


def test_the_demo_step_up_with_the_virtual_card_in_the_terminal(page: Page, tmp_path):
    port, client_port = free_port(), free_port()
    home = tmp_path / "demo"
    env = {**os.environ, "EID_BROKER_HOME": str(home), "TERM": "dumb"}
    env.pop("DATABASE_URL", None)
    terminal = Terminal(["bash", "scripts/demo.sh", "--port", str(port), "--eid-client-port", str(client_port)], env)
    try:
        terminal.wait_for(f"eid-broker demo running at https://127.0.0.1:{port}/", START_TIMEOUT)
        banner_end = terminal.wait_for(f"the broker's log: {home / 'demo.log'}")
        wait_for_port(port, START_TIMEOUT, alive=lambda: terminal.process.poll() is None)
        wait_for_port(client_port, START_TIMEOUT, alive=lambda: terminal.process.poll() is None)
        assert "enter its PIN 123456 here in this terminal" in terminal.shown

        page.goto(f"https://127.0.0.1:{port}/login")
        page.get_by_label("Benutzername").fill("erika.mustermann")
        page.get_by_label("Passwort").fill("Demo-Buergerkonto-2024")
        page.get_by_role("button", name="Anmelden").click()
        page.get_by_role("button", name="Mit dem Personalausweis bestätigen").click()
        page.get_by_role("link", name="eID-Software öffnen und mit dem Personalausweis bestätigen").click(
            no_wait_after=True)

        asked = terminal.wait_for("Release address? [Y/n]", after=banner_end)
        assert "Provider: eid-broker demo" in terminal.shown[banner_end:asked]
        assert "Required: pseudonym (a service-specific identifier), given names, family name" in terminal.shown
        terminal.type("")
        terminal.type("")  # "Continue with the PIN? [Y/n]"
        terminal.wait_for("Continue with the PIN? [Y/n]", after=asked)
        pin_asked = terminal.wait_for("PIN (empty to cancel):", after=asked)
        terminal.type("123456")
        done = terminal.wait_for("authenticated; the browser goes on to the provider", after=pin_asked)
        expect(page.get_by_role("heading", level=1)).to_have_text("Mein Konto", timeout=60_000)
        expect(page.locator("dl.profile").first).to_contain_text("hoch")
        expect(page.locator("#eid-data")).to_contain_text("ERIKA")

        conversation = terminal.shown[banner_end:done]
        assert "123456" not in conversation  # the PIN is not echoed
        assert not any(line.lstrip().startswith("{") for line in conversation.splitlines())  # no log lines
    finally:
        terminal.stop()
    log = (home / "demo.log").read_text()
    assert '"route": "/eid/refresh"' in log and '"message": "step-up"' in log  # the broker's log lines went there
    assert "Traceback" not in log and "Fatal Python error" not in log
