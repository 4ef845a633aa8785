"""The broker's eID-Server: terminal, session store and TLS listener, made from the settings.

``eid-broker serve`` runs one :class:`eid.server.listener.EidListener` in a process of its own beside
gunicorn (:func:`spawn_listener`): one listener (and one TLS session cache, which the no-PSK mode needs: the
PAOS channel resumes the TLS session of the TC-token download) for all workers. Workers and listener share the
conversations through the database (:class:`broker.eid_store.DatabaseSessionStore`). The listener serves
the broker's own TLS certificate, so the terminal's commCertificates need to list only that one.

This module imports nothing of the web application (no Flask, no metrics): gunicorn's master must not load
prometheus_client before the workers' multiprocess directory is set.
"""

from __future__ import annotations

import datetime
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from broker.config import Settings
from broker.db import Database
from broker.eid_store import DatabaseSessionStore, store_key
from broker.eid_terminal import certificate_der, demo_terminal
from broker.tls import ensure_certificate
from eid.server.blocklist import BlocklistFile
from eid.server.listener import EidListener
from eid.server.service import EidService
from eid.errors import EidError
from eid.passive_authentication import load_csca_list
from eid.server.terminal import EidTerminal, TerminalConfigError


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def listener_address(settings: Settings, broker_host: str) -> tuple[str, int]:
    host = settings.eid_host or broker_host
    return host, settings.eid_port or free_port(host)


def listener_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"https://{shown}:{port}"


def tls_files(settings: Settings) -> tuple[Path, Path]:
    """The TLS certificate and key of the broker — the eID listener serves the same ones."""
    files = ensure_certificate(settings.data_dir)
    return files.certificate, files.key


def terminal(settings: Settings, today: datetime.date) -> EidTerminal:
    """The configured terminal, or the demo terminal for this broker's origin and certificate."""
    certificate, _key = tls_files(settings)
    served = [certificate_der(certificate)]
    if settings.eid_terminal_dir:
        directory = Path(settings.eid_terminal_dir)
    else:
        directory = demo_terminal(settings.data_dir, settings.public_url.rstrip("/"), served, today)
    cscas = None
    if settings.eid_csca_file:
        try:
            cscas = (load_csca_list((directory / "csca.pem").read_bytes())
                     + load_csca_list(Path(settings.eid_csca_file).read_bytes()))
        except (OSError, EidError) as error:
            raise TerminalConfigError(f"eid_csca_file {settings.eid_csca_file}: {error}") from None
    blocklist = None
    if settings.eid_blocklist_file:
        try:
            blocklist = BlocklistFile(Path(settings.eid_blocklist_file))
        except (OSError, EidError) as error:
            raise TerminalConfigError(f"eid_blocklist_file {settings.eid_blocklist_file}: {error}") from None
    return EidTerminal.load(directory, served_certificates=served, cscas=cscas, blocklist=blocklist)


def eid_service(settings: Settings, database: Database, now: Callable[[], datetime.datetime]) -> EidService:
    store = DatabaseSessionStore(database, store_key(settings.data_dir))
    return EidService(store=store, terminal=terminal(settings, now().date()), public_url=settings.eid_public_url,
                      now=now, rng=os.urandom)


def available(settings: Settings) -> bool:
    """The eID function is on: enabled, over HTTPS (eID clients refuse plain-HTTP tcTokenURLs), with a
    listener origin (set by ``serve``)."""
    return settings.eid_enabled and not settings.insecure_http and bool(settings.eid_public_url)


def start_listener(settings: Settings, address: tuple[str, int],
                   now: Callable[[], datetime.datetime]) -> tuple[EidListener, Database]:
    """The eID listener in this process (a thread), on its own database engine; stop both when done."""
    database = Database(settings.database_url)
    certificate, key = tls_files(settings)
    listener = EidListener(eid_service(settings, database, now), address, certificate, key)
    listener.start()
    return listener, database


# --- the listener as its own process (``eid-broker serve`` starts it; it ends with its parent) ---

LISTENER_ENV = ("EID_BROKER_PUBLIC_URL", "EID_BROKER_EID_HOST", "EID_BROKER_EID_PORT", "EID_BROKER_EID_PUBLIC_URL",
                "EID_BROKER_EID_TERMINAL_DIR", "EID_BROKER_EID_CSCA_FILE", "EID_BROKER_EID_BLOCKLIST_FILE", "DATABASE_URL")
READY_TIMEOUT = 30.0


def spawn_listener(settings: Settings) -> subprocess.Popen[bytes]:
    """``python -m broker.eid_server DATA_DIR`` with this broker's eID settings, listening when this returns.

    A process of its own rather than a thread of gunicorn's master: workers are forked from the master, and a
    fork while the listener's threads hold locks (logging, sockets) leaves workers that hang when they exit.
    The child ends when its standard input closes, i.e. when this process ends, however it ends."""
    values = (settings.public_url, settings.eid_host, str(settings.eid_port), settings.eid_public_url,
              settings.eid_terminal_dir, settings.eid_csca_file, settings.eid_blocklist_file, settings.database_url)
    env = {**os.environ, **dict(zip(LISTENER_ENV, values, strict=True))}
    process = subprocess.Popen([sys.executable, "-m", "broker.eid_server", str(settings.data_dir)],
                               stdin=subprocess.PIPE, env=env)
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the eID listener ended at start (exit status {process.returncode})")
        try:
            with socket.create_connection((settings.eid_host, settings.eid_port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"the eID listener did not listen on port {settings.eid_port} within {READY_TIMEOUT} s")


def stop_listener(process: subprocess.Popen[bytes]) -> None:
    if process.stdin is not None:
        process.stdin.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _until_end_of_input(stop: threading.Event) -> None:
    """Wait for the parent's end (its pipe closes), then stop. Unbuffered reads: a daemon thread blocked in
    ``sys.stdin.buffer`` holds its lock when the interpreter ends after SIGTERM, which aborts the process."""
    while os.read(sys.stdin.fileno(), 4096):
        pass
    stop.set()


def main(argv: list[str]) -> None:
    from broker import logs
    from broker.config import load_settings

    settings = load_settings(Path(argv[0]))
    logs.configure(settings.log_level)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    listener, database = start_listener(settings, (settings.eid_host, settings.eid_port),
                                        lambda: datetime.datetime.now(datetime.UTC))
    threading.Thread(target=_until_end_of_input, args=(stop,), daemon=True).start()
    try:
        stop.wait()
    finally:
        listener.stop()
        database.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
