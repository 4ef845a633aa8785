"""``eid-broker users add``: create a citizen account from the command line."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click


def _fail(message: str, as_json: bool, code: str) -> None:
    if as_json:
        click.echo(json.dumps({"error": code, "message": message}))
    else:
        click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.group("users")
def users() -> None:
    """Citizen accounts."""


@users.command()
@click.option("--username", required=True)
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password from the first line of standard input (never from the command line).")
@click.option("--verified/--unverified", default=True, show_default=True,
              help="Whether the e-mail address counts as confirmed.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def add(data_dir: Path, username: str, email: str, password_stdin: bool, verified: bool, as_json: bool) -> None:
    """Create an account."""
    from broker.accounts import UsernameTaken, create_account
    from broker.config import load_settings
    from broker.db import Database, current_revision, head_revision
    from broker.forms import EMAIL_PATTERN, USERNAME_MIN
    from broker.models import EMAIL_MAX, USERNAME_MAX
    from broker.passwords import Argon2Parameters, PasswordHasher, PasswordPolicy, PasswordRejected

    password = sys.stdin.readline().rstrip("\r\n")
    username = username.strip()
    email = email.strip()
    if not USERNAME_MIN <= len(username) <= USERNAME_MAX:
        _fail(f"the username must be {USERNAME_MIN} to {USERNAME_MAX} characters long", as_json, "username")
    if len(email) > EMAIL_MAX or not EMAIL_PATTERN.match(email):
        _fail("not an e-mail address", as_json, "email")
    settings = load_settings(data_dir)
    hasher = PasswordHasher(Argon2Parameters(settings.argon2_time_cost, settings.argon2_memory_cost_kib,
                                             settings.argon2_parallelism))
    policy = PasswordPolicy(settings.password_min_length, settings.password_max_length)
    database = Database(settings.database_url)
    if current_revision(database.engine) != head_revision():
        database.dispose()
        _fail("the database is not up to date: run `eid-broker db upgrade` first", as_json, "database")
    try:
        with database.session() as session:
            try:
                account = create_account(session, hasher, policy, username=username, email=email,
                                         password=password, now=datetime.now(UTC), email_verified=verified)
            except PasswordRejected as rejection:
                _fail(f"password rejected ({rejection.reason})", as_json, "password")
            except UsernameTaken:
                _fail(f"the username {username!r} is taken", as_json, "username-taken")
            session.commit()
            result = {"id": account.id, "username": account.username, "email": account.email,
                      "email_verified": account.email_verified_at is not None}
    finally:
        database.dispose()
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        click.echo(f"created account {result['id']} ({result['username']})")
