"""The broker's services for one Flask application, and the database session of the current request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from datetime import UTC, datetime

from flask import Flask, current_app, g
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from broker.config import Settings
from broker.db import Database
from broker.mail import Mailer
from broker.methods.password import PasswordMethod
from broker.metrics import Metrics
from broker.passwords import PasswordHasher, PasswordPolicy
from broker.throttle import DeviceCookies

if TYPE_CHECKING:
    from broker.step_up import StepUpService

EXTENSION = "eid_broker"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Broker:
    settings: Settings
    database: Database
    hasher: PasswordHasher
    policy: PasswordPolicy
    password_method: PasswordMethod
    devices: DeviceCookies
    mailer: Mailer
    metrics: Metrics
    clock: Callable[[], datetime] = utc_now
    eid: StepUpService | None = None
    """The eID step-up (None: the eID function is off, or the broker serves plain HTTP)."""

    def now(self) -> datetime:
        return self.clock()


def broker_of(app: Flask) -> Broker:
    return app.extensions[EXTENSION]


def broker() -> Broker:
    return broker_of(current_app)


def connection() -> Connection:
    """The current request's database connection (SQLAlchemy Core), one per request, returned at teardown
    with anything uncommitted rolled back. The paths every request or every login takes (the session
    cookie, the password check) run their statements here without an ORM session."""
    if "db_connection" not in g:
        g.db_connection = broker().database.engine.connect()
    return g.db_connection


def db() -> Session:
    """The current request's ORM session, on the request's connection and in charge of its transaction
    (``commit`` commits it, whoever began it); closed (rolled back unless committed) at teardown."""
    if "db_session" not in g:
        g.db_session = broker().database.session(bind=connection())
    return g.db_session


def commit() -> None:
    """Commit the request's transaction: through the ORM session when one is open (it is in charge of the
    connection's transaction), else on the connection."""
    session = g.get("db_session")
    if session is not None:
        session.commit()
    else:
        connection().commit()


def close_db(_error: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
    request_connection = g.pop("db_connection", None)
    if request_connection is not None:
        request_connection.close()
