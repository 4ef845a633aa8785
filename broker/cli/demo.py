"""``eid-broker demo``: the broker with everything it needs on this machine.

Creates the data directory, upgrades the SQLite database, runs a local SMTP server (aiosmtpd) whose mails
are printed here and listed at /demo/mailbox, creates a demo citizen and serves the broker. Over HTTPS it
also runs the eID-Server listener (with the demo terminal of the shipped test PKI) and our own eID client
on http://127.0.0.1:24727 with the virtual ID card of Erika Mustermann (``eid-broker eid-client
--virtual-card``), which shows the provider's request and asks for the PIN in this terminal — so the
step-up can be clicked through in a browser without a card reader.

The terminal is the demo user's: it shows the banner, the mails and the eID client's questions. The broker's
JSON log lines (a request a second while a step-up page follows its progress) would bury those, so they go
to ``<data dir>/demo.log``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from email import message_from_bytes, policy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from aiosmtpd.controller import Controller

from broker.cli.serve import prepare, run

DEMO_USERNAME = "erika.mustermann"
DEMO_EMAIL = "erika.mustermann@example.de"
DEMO_PASSWORD = "Demo-Buergerkonto-2024"
LINK = re.compile(r"https?://\S+")


class DemoMailbox:
    """aiosmtpd handler: keeps each mail as an .eml file and prints its subject and links."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.count = len(list(directory.glob("*.eml")))

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.count += 1
        path = self.directory / f"{time.strftime('%Y%m%d-%H%M%S')}-{self.count:04d}.eml"
        path.write_bytes(envelope.content)
        message = message_from_bytes(envelope.content, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        links = LINK.findall(body.get_content()) if body is not None else []
        click.echo(f"[demo mail] to {', '.join(envelope.rcpt_tos)}: {message['Subject']}")
        for link in links:
            click.echo(f"[demo mail]   {link}")
        return "250 Message accepted for delivery"


DEMO_CARD_PIN = "123456"


def start_eid_client(port: int) -> subprocess.Popen[bytes] | None:
    """Our eID client with the shipped virtual card, on this terminal, or None (with a note) if the port is taken."""
    from broker.eid_terminal import SHIPPED_CARD

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            click.echo(f"  port {port} is taken (AusweisApp running?): the demo's own eID client is not started; "
                       "your eID client there is used instead")
            return None
    return subprocess.Popen([str(Path(sys.executable).parent / "eid-broker"), "eid-client", "--port", str(port),
                             "--virtual-card", str(SHIPPED_CARD)], stderr=sys.stdout)


def logs_to(path: Path) -> None:
    """This process's standard error — the broker's JSON log lines, also those of the gunicorn workers and the
    eID listener it starts — into ``path``, so that the terminal stays readable."""
    sys.stderr.flush()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(descriptor, sys.stderr.fileno())
    os.close(descriptor)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_demo_citizen(settings: Any) -> None:
    from broker.accounts import UsernameTaken, create_account
    from broker.db import Database
    from broker.passwords import Argon2Parameters, PasswordHasher, PasswordPolicy

    database = Database(settings.database_url)
    hasher = PasswordHasher(Argon2Parameters(settings.argon2_time_cost, settings.argon2_memory_cost_kib,
                                             settings.argon2_parallelism))
    try:
        with database.session() as session:
            try:
                create_account(session, hasher, PasswordPolicy(settings.password_min_length,
                                                               settings.password_max_length),
                               username=DEMO_USERNAME, email=DEMO_EMAIL, password=DEMO_PASSWORD,
                               now=datetime.now(UTC), email_verified=True)
                session.commit()
            except UsernameTaken:
                pass
    finally:
        database.dispose()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8443, show_default=True, type=click.IntRange(0, 65535))
@click.option("--http", is_flag=True, help="Plain HTTP instead of HTTPS with the self-signed certificate "
                                           "(the eID step-up then is off: eID clients need HTTPS).")
@click.option("--eid-client-port", default=24727, show_default=True, type=click.IntRange(1, 65535),
              help="Port of the demo's eID client (the step-up page links http://127.0.0.1:PORT/eID-Client).")
@click.pass_obj
def demo(data_dir: Path, host: str, port: int, http: bool, eid_client_port: int) -> None:
    """Run the broker demo: SQLite, a local mail server, a demo citizen, a virtual ID card."""
    mailbox_dir = data_dir / "mailbox"
    controller = Controller(DemoMailbox(mailbox_dir), hostname="127.0.0.1", port=free_port())
    controller.start()
    eid_client = None
    try:
        settings = prepare(data_dir, host, port, http, smtp_host="127.0.0.1", smtp_port=controller.port,
                           smtp_starttls=False, smtp_username="", demo_mailbox_dir=str(mailbox_dir),
                           eid_client_url=f"http://127.0.0.1:{eid_client_port}/eID-Client")
        ensure_demo_citizen(settings)
        url = settings.public_url + "/"
        log_path = data_dir / "demo.log"
        click.echo(f"eid-broker demo running at {url}")
        click.echo(f"  demo citizen: username {DEMO_USERNAME}, password {DEMO_PASSWORD}")
        click.echo(f"  mails go to the demo mail server: {url}demo/mailbox (and are printed here)")
        if not http:
            click.echo("  the TLS certificate is self-signed: your browser will ask you to accept it")
            click.echo(f"  eID step-up: \"My account\" → \"Confirm with the ID card\"; the demo's eID client on port "
                       f"{eid_client_port} uses the virtual ID card of Erika Mustermann — answer its questions and "
                       f"enter its PIN {DEMO_CARD_PIN} here in this terminal when asked")
        else:
            click.echo("  plain HTTP: the eID step-up is off (eID clients need HTTPS)")
        click.echo(f"  the broker's log: {log_path}")
        sys.stdout.flush()
        if not http:
            eid_client = start_eid_client(eid_client_port)
        logs_to(log_path)
        run(settings, host, port, workers=1, threads=4)
    finally:
        if eid_client is not None:
            eid_client.terminate()
            eid_client.wait(timeout=10)
        controller.stop()
