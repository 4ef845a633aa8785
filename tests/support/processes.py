"""Stopping a process the tests started: SIGTERM, then SIGKILL if it does not end in time (by its PID only)."""

from __future__ import annotations

import signal
import subprocess


def stop_process(process: subprocess.Popen, timeout: float = 30.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
