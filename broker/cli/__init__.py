"""The ``eid-broker`` command. Each command group lives in its own module of this package."""

from __future__ import annotations

import os
from pathlib import Path

import click


@click.group()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("EID_BROKER_HOME", ".eid-broker"),
    show_default="$EID_BROKER_HOME or ./.eid-broker",
    help="Directory for the SQLite database, keys, certificates and settings.toml.",
)
@click.pass_context
def main(ctx: click.Context, data_dir: Path) -> None:
    """eid-broker: citizen accounts with eID step-up, for OpenID Connect and SAML services."""
    ctx.obj = data_dir.resolve()


def _register() -> None:
    """Add the command groups; each module exports one click command or group."""
    from importlib import import_module

    for module_name, attribute in COMMANDS:
        main.add_command(getattr(import_module(f"broker.cli.{module_name}"), attribute))


# (module in broker.cli, click command in it)
COMMANDS: list[tuple[str, str]] = [
    ("serve", "serve"),
    ("demo", "demo"),
    ("db", "db"),
    ("users", "users"),
    ("pki", "pki"),
    ("card", "card"),
    ("eid_client", "eid_client"),
]

_register()
