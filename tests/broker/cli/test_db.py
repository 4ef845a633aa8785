import json

from click.testing import CliRunner

from broker.cli import main
from broker.db import head_revision


def test_db_upgrade_json(tmp_path, database_url):
    runner = CliRunner()
    env = {"DATABASE_URL": database_url}
    first = runner.invoke(main, ["--data-dir", str(tmp_path), "db", "upgrade", "--json"], env=env)
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["from"] is None and json.loads(first.output)["to"] == head_revision()
    again = runner.invoke(main, ["--data-dir", str(tmp_path), "db", "upgrade", "--json"], env=env)
    assert json.loads(again.output)["from"] == head_revision()
    assert json.loads(again.output)["database"].split(":")[0] in ("sqlite", "postgresql+psycopg")


def test_db_upgrade_default_is_sqlite_in_the_data_dir(tmp_path):
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "home"), "db", "upgrade"], env={"DATABASE_URL": ""})
    assert result.exit_code == 0 and "database at revision" in result.output
    assert (tmp_path / "home" / "broker.sqlite3").exists()
