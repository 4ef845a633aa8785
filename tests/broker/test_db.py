from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import bindparam, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError

from broker.db import (Prepared, UTCDateTime, connection_of, current_revision, head_revision, make_engine,
                       normalize_url, upgrade)
from broker.models import Account, Base, WebSession


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_upgrade_creates_every_table(engine):
    assert current_revision(engine) is None
    assert upgrade(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) >= {"account", "web_session", "auth_event", "email_token",
                                                      "login_throttle", "alembic_version"}
    assert upgrade(engine) == head_revision()  # idempotent


def test_models_and_migrations_agree(engine):
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_and_upgrade_again(engine):
    from alembic import command

    from broker.db import _alembic_config

    upgrade(engine)
    command.downgrade(_alembic_config(engine), "base")
    assert "account" not in inspect(engine).get_table_names()
    assert upgrade(engine) == head_revision()


def test_datetimes_come_back_aware_in_utc(database):
    berlin = timezone(timedelta(hours=1))
    moment = datetime(2026, 1, 2, 13, 4, 5, tzinfo=berlin)
    with database.session() as session:
        session.add(Account(username="a", username_key="a", email="a@example.de", password_hash="x",
                            password_changed_at=moment, created_at=moment))
        session.commit()
    with database.session() as session:
        stored = session.scalar(select(Account.created_at))
    assert stored == moment and stored.tzinfo == UTC


def test_naive_datetimes_are_refused(database):
    with database.session() as session:
        session.add(Account(username="a", username_key="a", email="a@example.de", password_hash="x",
                            password_changed_at=datetime(2026, 1, 1), created_at=datetime(2026, 1, 1)))
        with pytest.raises(Exception, match="naive datetime"):
            session.commit()


def test_postgres_urls_use_psycopg3():
    assert normalize_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalize_url("postgres://u@h:5433/db") == "postgresql+psycopg://u@h:5433/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


# Prepared: Core statements run on the DBAPI cursor, with the columns' own conversions.
_ADD_ACCOUNT = Prepared(insert(Account).inline(),
                        ("username", "username_key", "email", "email_verified_at", "password_hash",
                         "password_changed_at", "created_at"))
_FIND_ACCOUNT = Prepared(select(Account.id, Account.username, Account.email_verified_at, Account.created_at)
                         .where(Account.username_key == bindparam("b_key")))
_VERIFY_EMAIL = Prepared(update(Account).where(Account.username_key == bindparam("b_key"))
                         .values(email_verified_at=bindparam("b_at", type_=UTCDateTime())))
_FIND_SESSION = Prepared(select(WebSession.data, WebSession.last_seen_at).where(WebSession.id == bindparam("b_id")))


def _account(key: str, moment: datetime) -> dict[str, object]:
    return {"username": key.upper(), "username_key": key, "email": f"{key}@example.de", "email_verified_at": None,
            "password_hash": "x", "password_changed_at": moment, "created_at": moment}


def test_prepared_statements_convert_like_core(database):
    berlin = timezone(timedelta(hours=1))
    moment = datetime(2026, 1, 2, 13, 4, 5, 123456, tzinfo=berlin)
    with database.engine.connect() as connection:
        assert _ADD_ACCOUNT.rowcount(connection, _account("erika", moment)) == 1
        connection.commit()
        row = _FIND_ACCOUNT.first(connection, {"b_key": "erika"})
        core = connection.execute(select(Account.id, Account.username, Account.email_verified_at,
                                         Account.created_at).where(Account.username_key == "erika")).one()
        assert tuple(row) == tuple(core)
        assert row.username == "ERIKA" and row.email_verified_at is None
        assert row.created_at == moment and row.created_at.tzinfo == UTC
        assert _FIND_ACCOUNT.first(connection, {"b_key": "nobody"}) is None

        data = {"service": "Bürgerbüro", "levels": [1, 3], "nested": {"quote": "'\"; --"}}
        connection.execute(insert(WebSession).values(token_hash="t", data=data, created_at=moment,
                                                     last_seen_at=moment))
        session_id = connection.scalar(select(WebSession.id))
        stored = _FIND_SESSION.first(connection, {"b_id": session_id})
        assert stored.data == data and stored.last_seen_at == moment


def test_prepared_writes_join_the_connections_transaction(database):
    moment = datetime(2026, 1, 2, tzinfo=UTC)
    with database.engine.connect() as connection:
        _ADD_ACCOUNT.rowcount(connection, _account("erika", moment))
        assert connection.in_transaction()
        connection.rollback()
        assert _FIND_ACCOUNT.first(connection, {"b_key": "erika"}) is None
        _ADD_ACCOUNT.rowcount(connection, _account("erika", moment))
        connection.commit()
        # On an ORM session's connection (connection_of), the session's commit commits the statement.
        with database.session(bind=connection) as session:
            assert _VERIFY_EMAIL.rowcount(connection_of(session), {"b_key": "erika", "b_at": moment}) == 1
            assert _VERIFY_EMAIL.rowcount(connection_of(session), {"b_key": "nobody", "b_at": moment}) == 0
            session.commit()
    with database.engine.connect() as connection:
        assert _FIND_ACCOUNT.first(connection, {"b_key": "erika"}).email_verified_at == moment


def test_prepared_statements_refuse_bad_values_and_report_database_errors(database):
    moment = datetime(2026, 1, 2, tzinfo=UTC)
    with database.engine.connect() as connection:
        with pytest.raises(ValueError, match="naive datetime"):
            _ADD_ACCOUNT.rowcount(connection, _account("erika", datetime(2026, 1, 2)))
        _ADD_ACCOUNT.rowcount(connection, _account("erika", moment))
        connection.commit()
        with pytest.raises(IntegrityError) as raised:
            _ADD_ACCOUNT.rowcount(connection, _account("erika", moment))
        assert "erika@example.de" not in str(raised.value)  # parameters stay out of messages (and logs)
        connection.rollback()
        assert _FIND_ACCOUNT.first(connection, {"b_key": "erika"}).username == "ERIKA"
