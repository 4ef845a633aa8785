"""Database engine, sessions and migrations (SQLAlchemy 2, Alembic).

SQLite by default (WAL journal, foreign keys on, a busy timeout so concurrent writers wait rather than
fail); PostgreSQL through psycopg 3 (``postgresql://`` URLs are read as ``postgresql+psycopg://``).
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, DateTime, Engine, Executable, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps them naive, as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def normalize_url(url: str) -> str:
    """Point bare PostgreSQL URLs at psycopg 3, the driver the project installs."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False,
                                                  "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        # A session given a connection takes over the connection's transaction, begun or not: its commit
        # commits what Core statements did on that connection before it, too (broker.context).
        self.sessionmaker: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False,
                                                                join_transaction_mode="control_fully")

    def session(self, bind: Connection | None = None) -> Session:
        return self.sessionmaker() if bind is None else self.sessionmaker(bind=bind)

    def dispose(self) -> None:
        self.engine.dispose()


def connection_of(db: Session | Connection) -> Connection:
    """Where Core statements run: an ORM session's connection, or the connection given."""
    return db if isinstance(db, Connection) else db.connection()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    names: tuple[str, ...]
    """The parameters in the order the SQL takes them (positional paramstyles), else each once."""
    binds: dict[str, Callable[[Any], Any]]
    row: type | None
    results: tuple[Callable[[Any], Any] | None, ...]


class Prepared:
    """A Core statement that runs straight on the DBAPI cursor: compiled once per dialect, its parameters
    and result columns converted by the columns' own types (``dialect_impl(...).bind_processor`` and
    ``result_processor``: the conversions SQLAlchemy applies itself).

    For the few statements every request or every login runs (the session cookie's lookup; the login's
    account lookup, session rotation and event). A login's argon2 run sweeps 19 MiB through the caches, so
    what follows runs cold, and SQLAlchemy's per-execution machinery (execution context, cursor and result
    wrappers, row processing) costs more than the statement: measured in the server's worker, a login's
    work besides the hash fell from 2.1 to 1.8 ms with these four on the cursor (benchmarks/password_login.py).
    Everything else uses ``Connection.execute``.

    Parameters by name, as for ``Connection.execute``. Python-side column defaults are not applied: an
    INSERT passes every column (``column_keys``). The transaction is the connection's own (begun here when
    none is, as Core's autobegin would), so ``Connection.commit`` or an ORM session on the connection
    commits it; DBAPI errors come out as SQLAlchemy's ``DBAPIError`` subclasses, and a lost connection is
    invalidated, as with ``Connection.execute``."""

    def __init__(self, statement: Executable, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._by_dialect: weakref.WeakKeyDictionary[Dialect, _Compiled] = weakref.WeakKeyDictionary()

    def _compiled(self, dialect: Dialect) -> _Compiled:
        compiled = self._by_dialect.get(dialect)
        if compiled is None:
            compiled = self._by_dialect[dialect] = self._compile(dialect)
        return compiled

    def _compile(self, dialect: Dialect) -> _Compiled:
        sql = self.statement.compile(dialect=dialect, column_keys=self.column_keys)
        binds = {}
        for name, bind in sql.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                binds[name] = processor
        row, results = None, ()
        columns = getattr(self.statement, "selected_columns", None)
        if columns is not None:
            row = namedtuple("Row", list(columns.keys()), rename=True)  # type: ignore[misc]
            results = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None)
                            for column in columns)
        names = tuple(sql.positiontup or ()) if sql.positional else tuple(sql.binds)
        return _Compiled(str(sql), sql.positional, names, binds, row, results)

    def _execute(self, connection: Connection, parameters: Mapping[str, Any]) -> tuple[_Compiled, Any]:
        compiled = self._compiled(connection.dialect)
        values = {name: (compiled.binds[name](parameters[name]) if name in compiled.binds else parameters[name])
                  for name in dict.fromkeys(compiled.names)}
        arguments: Any = tuple(values[name] for name in compiled.names) if compiled.positional else values
        if not connection.in_transaction():
            connection.begin()
        dbapi_connection = connection.connection.dbapi_connection
        cursor = dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, arguments)
        except connection.dialect.loaded_dbapi.Error as error:
            cursor.close()
            if connection.dialect.is_disconnect(error, dbapi_connection, cursor):
                connection.invalidate(error)
            raise DBAPIError.instance(compiled.sql, arguments, error, connection.dialect.loaded_dbapi.Error,
                                      hide_parameters=True, dialect=connection.dialect) from error
        return compiled, cursor

    def first(self, connection: Connection, parameters: Mapping[str, Any]) -> Any:
        """The first row (a named tuple: ``row.column``), or None."""
        compiled, cursor = self._execute(connection, parameters)
        try:
            values = cursor.fetchone()
        finally:
            cursor.close()
        if values is None or compiled.row is None:
            return None
        return compiled.row(*(value if process is None else process(value)
                              for process, value in zip(compiled.results, values, strict=True)))

    def rowcount(self, connection: Connection, parameters: Mapping[str, Any]) -> int:
        """Run an INSERT, UPDATE or DELETE; the number of rows it touched."""
        _, cursor = self._execute(connection, parameters)
        count = cursor.rowcount
        cursor.close()
        return count


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Run the migrations up to ``revision``; return the revision the database is at afterwards."""
    command.upgrade(_alembic_config(engine), revision)
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config(create_engine("sqlite://"))).get_current_head()
