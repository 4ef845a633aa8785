"""A throw-away PostgreSQL server for the test session (Debian's postgresql package).

initdb runs as the ``postgres`` user into a temporary directory owned by it; the server listens on a free
loopback port with its socket in that directory and is stopped by its PID at the end. Each test gets a
fresh database. Missing binaries fail the test run (scripts/test.sh installs them), never skip.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.support.network import free_port
from tests.support.processes import stop_process

START_TIMEOUT = 60.0


def postgres_bin() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0)
    if not candidates:
        pytest.fail("PostgreSQL is not installed (Debian package postgresql; scripts/test.sh installs it)")
    return candidates[-1].parent


@dataclass
class PostgresServer:
    directory: Path
    port: int
    process: subprocess.Popen[bytes]
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, dbname="postgres",
                               autocommit=True)


def _run_as() -> dict[str, str]:
    """Run as ``postgres`` when we are root (initdb refuses root); as ourselves otherwise."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres"}


def start_postgres() -> PostgresServer:
    binaries = postgres_bin()
    directory = Path(tempfile.mkdtemp(prefix="eid-broker-postgres-"))
    run_as = _run_as()
    if run_as:
        entry = pwd.getpwnam(run_as["user"])
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    user = "postgres"
    data = directory / "data"
    subprocess.run([str(binaries / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8",
                    "--no-locale", "--no-sync"], check=True, capture_output=True, cwd=directory, **run_as)
    port = free_port()
    process = subprocess.Popen(
        [str(binaries / "postgres"), "-D", str(data), "-k", str(directory), "-p", str(port), "-h", "127.0.0.1",
         "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
        stdout=subprocess.DEVNULL, stderr=open(directory / "server.log", "wb"), cwd=directory, **run_as)
    server = PostgresServer(directory=directory, port=port, process=process, user=user)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            server.admin().close()
            return server
        except psycopg.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop_postgres(server)
                log = (directory / "server.log").read_text(errors="replace") if directory.exists() else ""
                pytest.fail(f"PostgreSQL did not start: {log[-2000:]}")
            time.sleep(0.1)


def stop_postgres(server: PostgresServer) -> None:
    stop_process(server.process, first=signal.SIGINT)  # SIGINT: PostgreSQL's fast shutdown
    shutil.rmtree(server.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        stop_postgres(server)


_databases = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A URL of a fresh, empty database on the session's server (dropped afterwards)."""
    name = f"test_{os.getpid()}_{next(_databases)}"
    with postgres_server.admin() as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_server.url(name)
    finally:
        with postgres_server.admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs twice: on SQLite in its temporary directory and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'broker.sqlite3'}"
    return request.getfixturevalue("postgres_url")
