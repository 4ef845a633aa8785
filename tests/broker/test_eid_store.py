"""The eID-Server's sessions in the broker's database: sealed at rest, found by hashed references,
compare-and-set updates, expiry — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
import os

import pytest
from sqlalchemy import select, update

from broker.db import Database, make_engine, upgrade
from broker.eid_store import DatabaseSessionStore, SealBroken, store_key
from broker.models import EidServerSession
from eid.chat import AccessRight
from eid.server import session as eid_session
from eid.server.request import EidRequest
from eid.server.session import StaleSession

NOW = datetime.datetime(2026, 11, 25, 12, tzinfo=datetime.UTC)


@pytest.fixture
def store(database_url, tmp_path):
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    database = Database(database_url)
    yield DatabaseSessionStore(database, store_key(tmp_path))
    database.dispose()


def new_session():
    return eid_session.begin(request=EidRequest(required=frozenset({AccessRight.READ_DG4})),
                             refresh_prefix="https://broker.example/eid/refresh?ref=", communication_error_prefix=None,
                             use_psk=True, now=NOW, rng=os.urandom, token_lifetime=datetime.timedelta(minutes=5),
                             lifetime=datetime.timedelta(minutes=15))


def test_sessions_are_sealed_and_found_by_each_reference(store):
    session = new_session()
    store.add(session)
    assert store.get(session.session_identifier) == session
    assert store.find_by_token(session.token_reference) == session
    assert store.find_by_reference(session.reference) == session
    assert store.get("unknown") is None and store.find_by_reference("unknown") is None
    with store.database.session() as db:
        row = db.scalars(select(EidServerSession)).one()
    assert session.psk not in row.sealed and session.psk.hex().encode() not in row.sealed
    assert session.reference not in (row.reference_hash, row.token_reference_hash)
    with pytest.raises(ValueError):
        store.add(session)


def test_updates_are_compare_and_set(store):
    session = new_session()
    store.add(session)
    first = session.next_version(token_fetched=True)
    store.update(session, first)
    with pytest.raises(StaleSession):
        store.update(session, session.next_version(token_fetched=True))  # a second copy of the same step
    assert store.get(session.session_identifier) == first


def test_a_tampered_or_moved_row_does_not_open(store, tmp_path):
    one, two = new_session(), new_session()
    store.add(one)
    store.add(two)
    with store.database.session() as db:
        sealed = db.scalar(select(EidServerSession.sealed).where(EidServerSession.session_identifier == one.session_identifier))
        db.execute(update(EidServerSession).where(EidServerSession.session_identifier == two.session_identifier)
                   .values(sealed=sealed))
        db.commit()
    with pytest.raises(SealBroken):
        store.get(two.session_identifier)
    other_key = DatabaseSessionStore(store.database, os.urandom(32))
    with pytest.raises(SealBroken):
        other_key.get(one.session_identifier)


def test_expired_sessions_are_removed(store):
    session = new_session()
    store.add(session)
    assert store.remove_expired(NOW + datetime.timedelta(minutes=14)) == 0
    assert store.remove_expired(NOW + datetime.timedelta(minutes=15)) == 1
    assert store.get(session.session_identifier) is None


def test_the_key_file_is_made_once_and_private(tmp_path):
    key = store_key(tmp_path)
    assert len(key) == 32 and store_key(tmp_path) == key
    assert (tmp_path / "eid-store.key").stat().st_mode & 0o777 == 0o600
