"""Stopping a process the tests started: SIGTERM (or the signal it asks for), then SIGKILL if it does not end
in time — by its PID only."""

from __future__ import annotations

import signal
import subprocess


def stop_process(process: subprocess.Popen, timeout: float = 30.0, first: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(first)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
