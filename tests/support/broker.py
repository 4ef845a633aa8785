"""The broker as a real server: ``eid-broker serve`` (gunicorn, HTTPS with its self-signed certificate) in
its own data directory, mailing to the session's SMTP server; stopped by its PID afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.network import free_port, wait_for_port
from tests.support.processes import stop_process
from tests.support.smtp import Mailbox

START_TIMEOUT = 60.0


@dataclass
class LiveBroker:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def start_broker(data_dir: Path, mailbox: Mailbox, extra_env: dict[str, str] | None = None,
                 extra_args: list[str] | None = None) -> LiveBroker:
    """``eid-broker serve`` on a free port (``extra_args`` such as ``--http`` or ``--workers 2``)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**os.environ, "EID_BROKER_SMTP_HOST": "127.0.0.1", "EID_BROKER_SMTP_PORT": str(mailbox.port),
           **(extra_env or {})}
    env.pop("DATABASE_URL", None)
    log_path = data_dir / "server.log"
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "eid-broker"), "--data-dir", str(data_dir), "serve", "--port", str(port),
         *(extra_args or [])],
        stdout=subprocess.DEVNULL, stderr=open(log_path, "wb"), env=env)
    scheme = "http" if "--http" in (extra_args or []) else "https"
    broker = LiveBroker(url=f"{scheme}://127.0.0.1:{port}", data_dir=data_dir, process=process, log_path=log_path)
    try:
        wait_for_port(port, START_TIMEOUT, alive=lambda: process.poll() is None)
    except (TimeoutError, RuntimeError) as error:
        stop_broker(broker)
        pytest.fail(f"eid-broker serve did not start: {error}\n{broker.log()[-3000:]}")
    return broker


def stop_broker(broker: LiveBroker) -> None:
    stop_process(broker.process)


@pytest.fixture
def live_broker(tmp_path: Path, mailbox: Mailbox) -> Iterator[LiveBroker]:
    broker = start_broker(tmp_path / "broker", mailbox)
    try:
        yield broker
    finally:
        stop_broker(broker)
