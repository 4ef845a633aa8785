from sqlalchemy import func, select

from broker.context import broker_of
from broker.models import LoginThrottle, WebSession
from tests.broker.conftest import Client
from tests.broker.helpers import login, register_and_confirm


def count(app, model) -> int:
    with broker_of(app).database.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_expired_sessions_and_stale_throttle_counts_are_purged(app, mailbox, clock):
    citizen = Client(app)
    register_and_confirm(citizen, mailbox, "Erika", "erika@example.de")
    login(citizen, "Erika")
    login(Client(app, address="203.0.113.9"), "Niemand", "falsches Passwort 1")
    assert count(app, WebSession) >= 2 and count(app, LoginThrottle) == 1
    clock.advance(days=2)
    Client(app, address="198.51.100.20").get("/login")  # a new visitor's session triggers the clean-up
    assert count(app, WebSession) == 1
    assert count(app, LoginThrottle) == 0


def test_session_data_survives_login_and_cookie_is_not_stored(app, client, mailbox):
    register_and_confirm(client, mailbox, "Erika", "erika@example.de")
    client.get("/login")
    with broker_of(app).database.session() as session:
        before = session.scalar(select(WebSession.data))
    login(client, "Erika")
    token = client.flask.get_cookie("__Host-eid-broker-session").value
    with broker_of(app).database.session() as session:
        record = session.scalar(select(WebSession).where(WebSession.account_id.is_not(None)))
    assert record.data["csrf_token"] == before["csrf_token"]
    assert token not in record.token_hash and len(record.token_hash) == 64
