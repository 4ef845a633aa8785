from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from broker.db import current_revision, head_revision, make_engine, normalize_url, upgrade
from broker.models import Account, Base


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
