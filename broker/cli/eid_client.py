"""``eid-broker eid-client``: the project's own eID client (BSI TR-03124-1) on http://127.0.0.1:24727.

A browser following ``http://127.0.0.1:24727/eID-Client?tcTokenURL=…`` gets the authentication run: the TC
token is fetched, the provider and the requested data are shown (optional data can be deselected), the PIN
is asked for, PACE runs with the card, the eID-Server's Terminal and Chip Authentication and its
secure-messaging commands are relayed, and the browser is sent on to the provider.

The card: a PC/SC reader (``--reader``, default the first one with a card; a vpcd reader serving the virtual
card works too), or ``--virtual-card card.json`` in this process (the demo uses it; the card's state, e.g.
its PIN retry counter, lives as long as the process). The PIN: a hidden prompt on the terminal, or
``--pin-stdin`` — one line per password asked (the PIN; after a wrong one the next line; the CAN when the PIN
is suspended), consenting to everything not ``--deselect``-ed. PINs are never shown or logged.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from eid.client.authentication import Outcome
    from eid.terminal import CardSession


def _stdin_lines() -> Iterator[str]:
    for line in sys.stdin:
        yield line.strip()


@click.command("eid-client")
@click.option("--reader", default=None, help="PC/SC reader name, or a part of it (default: the first with a card).")
@click.option("--virtual-card", "virtual_card", default=None, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Use this virtual card (card.json) in-process instead of a reader.")
@click.option("--port", default=24727, show_default=True, type=int, help="Local port of the eID-Client URL.")
@click.option("--pin-stdin", is_flag=True, help="Read the PIN (and CAN) from standard input, one per line.")
@click.option("--deselect", multiple=True,
              help="With --pin-stdin: an optional right not to release (e.g. READ_DG17; repeatable).")
@click.option("--wait", default=30.0, show_default=True, type=float, help="Seconds to wait for a card on the reader.")
@click.option("--once", is_flag=True, help="Stop after one authentication.")
def eid_client(reader: str | None, virtual_card: Path | None, port: int, pin_stdin: bool, deselect: tuple[str, ...],
               wait: float, once: bool) -> None:
    """Run the eID client until Ctrl-C (or after one authentication with --once)."""
    from eid.chat import AccessRight
    from eid.client.authentication import authenticate
    from eid.client.citizen import PreparedCitizen, TerminalCitizen
    from eid.client.listener import EidClientListener

    try:
        rights = frozenset(AccessRight[name.strip().upper().replace("-", "_")] for name in deselect)
    except KeyError as error:
        raise click.BadParameter(f"unknown access right {error}", param_hint="--deselect") from None
    if deselect and not pin_stdin:
        raise click.UsageError("--deselect goes with --pin-stdin (interactively you are asked for each right)")
    card = _CardSource(reader, virtual_card, wait)
    citizen = PreparedCitizen(_stdin_lines(), rights) if pin_stdin else TerminalCitizen(write=click.echo)
    done = threading.Event()

    def run(tc_token_url: str) -> Outcome:
        try:
            return authenticate(tc_token_url, citizen, card.open, os.urandom)
        finally:
            card.close()

    def report(outcome: Outcome) -> None:
        if outcome.ok:
            click.echo("authenticated; the browser goes on to the provider")
        else:
            click.echo(f"authentication failed: {outcome.result_minor or outcome.status}: {outcome.message}")
        if once:
            done.set()

    try:
        listener = EidClientListener(run, port, on_outcome=report)
    except OSError as error:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {error.strerror}") from None
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    listener.start()
    click.echo(f"eID client listening on http://127.0.0.1:{listener.port}/eID-Client (pid {os.getpid()}; "
               f"card: {virtual_card or reader or 'first reader with a card'})")
    while not done.wait(0.2):
        pass
    listener.stop()


class _CardSource:
    """Opens the card for one authentication and closes it afterwards."""

    def __init__(self, reader: str | None, virtual_card: Path | None, wait: float) -> None:
        self.reader = reader
        self.wait = wait
        self.virtual = None
        self.connection = None
        if virtual_card is not None:
            from cardreader.virtual import VirtualCard
            from eid.errors import EidError

            try:
                self.virtual = VirtualCard.from_profile(virtual_card)
            except (EidError, OSError, ValueError) as error:
                raise click.ClickException(f"{virtual_card}: {error}") from None

    def open(self) -> CardSession:
        from eid.terminal import CardSession

        if self.virtual is not None:
            self.virtual.power_on()
            return CardSession(self.virtual)
        from cardreader.pcsc import Pcsc

        pcsc = Pcsc()
        try:
            name = pcsc.wait_for_card(self.reader, self.wait)
            card = pcsc.connect(name)
        except BaseException:
            pcsc.close()
            raise
        self.connection = (pcsc, card)
        return CardSession(card)

    def close(self) -> None:
        if self.virtual is not None:
            self.virtual.power_off()
        if self.connection is not None:
            pcsc, card = self.connection
            self.connection = None
            card.close()
            pcsc.close()
