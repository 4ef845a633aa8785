"""``eid-broker db upgrade``: run the database migrations."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group("db")
def db() -> None:
    """Database maintenance."""


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def upgrade(data_dir: Path, as_json: bool) -> None:
    """Bring the database schema up to date (SQLite in the data directory, or DATABASE_URL)."""
    from broker.config import load_settings
    from broker.db import current_revision, make_engine
    from broker.db import upgrade as run_upgrade

    settings = load_settings(data_dir)
    engine = make_engine(settings.database_url)
    try:
        before = current_revision(engine)
        after = run_upgrade(engine)
    finally:
        engine.dispose()
    if as_json:
        click.echo(json.dumps({"from": before, "to": after, "database": engine.url.render_as_string()}))
    else:
        click.echo(f"database at revision {after} (was {before or 'empty'})")
