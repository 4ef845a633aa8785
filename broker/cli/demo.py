"""``eid-broker demo``: the broker with everything it needs on this machine.

Creates the data directory, upgrades the SQLite database, runs a local SMTP server (aiosmtpd) whose mails
are printed here and listed at /demo/mailbox, creates a demo citizen and serves the broker.
"""

from __future__ import annotations

import re
import socket
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
        click.echo(f"[demo mail] to {', '.join(envelope.rcpt_tos)}: {message['Subject']}", err=True)
        for link in links:
            click.echo(f"[demo mail]   {link}", err=True)
        return "250 Message accepted for delivery"


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
@click.option("--http", is_flag=True, help="Plain HTTP instead of HTTPS with the self-signed certificate.")
@click.pass_obj
def demo(data_dir: Path, host: str, port: int, http: bool) -> None:
    """Run the broker demo: SQLite, a local mail server, a demo citizen."""
    mailbox_dir = data_dir / "mailbox"
    controller = Controller(DemoMailbox(mailbox_dir), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings = prepare(data_dir, host, port, http, smtp_host="127.0.0.1", smtp_port=controller.port,
                           smtp_starttls=False, smtp_username="", demo_mailbox_dir=str(mailbox_dir))
        ensure_demo_citizen(settings)
        url = settings.public_url + "/"
        click.echo(f"eid-broker demo running at {url}")
        click.echo(f"  demo citizen: username {DEMO_USERNAME}, password {DEMO_PASSWORD}")
        click.echo(f"  mails go to the demo mail server: {url}demo/mailbox (and are printed here)")
        if not http:
            click.echo("  the TLS certificate is self-signed: your browser will ask you to accept it")
        run(settings, host, port, workers=1, threads=4)
    finally:
        controller.stop()
