"""Fixtures for the broker tests: settings in a temporary data directory, an upgraded database (SQLite and
PostgreSQL through ``database_url``), the app with a clock the test can move, and a test client."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from broker.app import create_app
from broker.config import Settings, load_settings
from broker.context import broker_of
from broker.db import Database, make_engine, upgrade
from tests.support.smtp import Mailbox

PUBLIC_URL = "https://broker.example"
AppFactory = Callable[..., Flask]
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """An upgraded database: SQLite, and PostgreSQL where ``database_url`` names it."""
    database = Database(database_url)
    upgrade(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


def make_settings(data_dir: Path, database_url: str, mailbox: Mailbox, **overrides: object) -> Settings:
    values: dict[str, object] = {"database_url": database_url, "smtp_host": "127.0.0.1", "smtp_port": mailbox.port,
                                 "public_url": PUBLIC_URL, **overrides}
    return load_settings(data_dir, environ={}, **values)


@pytest.fixture
def app_factory(tmp_path: Path, database_url: str, mailbox: Mailbox, clock: FakeClock) -> Iterator[AppFactory]:
    """Makes apps on the test's database with some settings changed: ``app_factory(smtp_port=1)``."""
    made: list[Flask] = []

    def factory(**overrides: object) -> Flask:
        settings = make_settings(tmp_path / "data", database_url, mailbox, **overrides)
        engine = make_engine(settings.database_url)
        upgrade(engine)
        engine.dispose()
        made.append(create_app(settings, clock=clock))
        return made[-1]

    yield factory
    for app in made:
        broker_of(app).database.dispose()


@pytest.fixture
def app(app_factory: AppFactory) -> Flask:
    return app_factory()


class Client:
    """The Flask test client over https, with helpers that fill in the page's CSRF token."""

    def __init__(self, app: Flask, address: str = "192.0.2.10") -> None:
        self.flask: FlaskClient = app.test_client()
        self.flask.environ_base.update({"wsgi.url_scheme": "https", "REMOTE_ADDR": address})

    def get(self, path: str, **kwargs: object) -> TestResponse:
        return self.flask.get(path, **kwargs)

    def post(self, path: str, data: dict[str, str] | bytes | None = None, **kwargs: object) -> TestResponse:
        # Browsers send a same-origin Referer with form posts; Flask-WTF checks it on https.
        headers = {"Referer": "https://localhost/", **dict(kwargs.pop("headers", {}) or {})}  # type: ignore[call-overload]
        return self.flask.post(path, data=data or {}, headers=headers, **kwargs)

    def csrf(self, path: str) -> str:
        page = self.get(path)
        match = CSRF.search(page.get_data(as_text=True))
        assert match, f"no CSRF token on {path} ({page.status_code})"
        return match.group(1)

    def submit(self, form_path: str, data: dict[str, str], action: str | None = None,
               **kwargs: object) -> TestResponse:
        """GET the form page for its CSRF token, then POST ``data`` to ``action`` (default: the same path)."""
        return self.post(action or form_path, {"csrf_token": self.csrf(form_path), **data}, **kwargs)


@pytest.fixture
def client(app: Flask) -> Client:
    return Client(app)


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)
