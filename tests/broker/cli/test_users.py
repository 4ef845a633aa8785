import json

from click.testing import CliRunner
from sqlalchemy import select

from broker.cli import main
from broker.db import Database
from broker.models import Account
from broker.passwords import Argon2Parameters, PasswordHasher


def run(tmp_path, database_url, *arguments, password="Lange Rede, kurzer Sinn"):
    return CliRunner().invoke(main, ["--data-dir", str(tmp_path), *arguments], input=password + "\n",
                              env={"DATABASE_URL": database_url})


def test_users_add(tmp_path, database_url):
    assert run(tmp_path, database_url, "db", "upgrade").exit_code == 0
    result = run(tmp_path, database_url, "users", "add", "--username", "Erika", "--email", "erika@example.de",
                 "--password-stdin", "--json")
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created == {"id": created["id"], "username": "Erika", "email": "erika@example.de", "email_verified": True}
    database = Database(database_url)
    with database.session() as session:
        account = session.scalar(select(Account))
        assert PasswordHasher(Argon2Parameters()).verify(account.password_hash, "Lange Rede, kurzer Sinn")
    database.dispose()
    again = run(tmp_path, database_url, "users", "add", "--username", "erika", "--email", "x@example.de",
                "--password-stdin", "--json")
    assert again.exit_code == 1 and json.loads(again.output)["error"] == "username-taken"


def test_users_add_refuses_bad_input(tmp_path, database_url):
    run(tmp_path, database_url, "db", "upgrade")
    weak = run(tmp_path, database_url, "users", "add", "--username", "Erika", "--email", "erika@example.de",
               "--password-stdin", "--json", password="password")
    assert weak.exit_code == 1 and json.loads(weak.output) == {"error": "password",
                                                             "message": "password rejected (common)"}
    email = run(tmp_path, database_url, "users", "add", "--username", "Erika", "--email", "no-address",
                "--password-stdin")
    assert email.exit_code == 1 and "not an e-mail address" in email.output


def test_users_add_needs_an_upgraded_database(tmp_path, database_url):
    result = run(tmp_path, database_url, "users", "add", "--username", "Erika", "--email", "erika@example.de",
                 "--password-stdin", "--json")
    assert result.exit_code == 1 and json.loads(result.output)["error"] == "database"
