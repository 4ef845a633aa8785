from datetime import UTC, datetime

from sqlalchemy import insert, select

from broker.context import broker_of, close_db, commit, connection, db
from broker.models import LoginThrottle

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def throttle_row(key: str) -> dict[str, object]:
    return {"key": key, "failures": 1, "last_failure_at": NOW}


def stored_keys(app) -> list[str]:
    with broker_of(app).database.session() as session:
        return sorted(session.scalars(select(LoginThrottle.key)))


def test_core_statements_and_the_orm_session_share_the_request_transaction(app):
    with app.test_request_context("/"):
        connection().execute(insert(LoginThrottle).values(throttle_row("core:before-session")))
        db().add(LoginThrottle(**throttle_row("orm")))
        db().flush()
        connection().execute(insert(LoginThrottle).values(throttle_row("core:beside-session")))
        assert db().connection() is connection()
        commit()  # through the ORM session, which is in charge of the connection's transaction
        connection().execute(insert(LoginThrottle).values(throttle_row("core:after-commit")))
        db().add(LoginThrottle(**throttle_row("orm:after-commit")))
        commit()
    assert stored_keys(app) == ["core:after-commit", "core:before-session", "core:beside-session", "orm",
                                "orm:after-commit"]


def test_without_an_orm_session_commit_is_the_connections_and_the_rest_is_rolled_back(app):
    with app.test_request_context("/"):
        connection().execute(insert(LoginThrottle).values(throttle_row("core:committed")))
        commit()
        connection().execute(insert(LoginThrottle).values(throttle_row("core:left-open")))
        db().add(LoginThrottle(**throttle_row("orm:left-open")))
        close_db()
    assert stored_keys(app) == ["core:committed"]
