from sqlalchemy import func, select

from broker.context import broker_of
from broker.models import EmailToken
from tests.broker.conftest import Client, text
from tests.broker.helpers import PASSWORD, link_in, login, register_and_confirm

NEW = "ein ganz neues Passwort"


def test_reset_answer_does_not_tell_whether_the_account_exists(app, client, mailbox):
    register_and_confirm(client, mailbox, "Erika", "erika@example.de")
    mailbox.clear()
    known = client.submit("/reset", {"username": "erika"})
    unknown = client.submit("/reset", {"username": "niemand"})
    assert known.status_code == unknown.status_code == 200
    assert text(known) == text(unknown)
    assert "Falls ein Konto mit diesem Benutzernamen existiert" in text(known)
    assert mailbox.wait_for("erika@example.de")["Subject"] == "Passwort zurücksetzen"
    assert len(mailbox.messages) == 1


def test_reset_link_sets_a_new_password_once(app, client, mailbox):
    register_and_confirm(client, mailbox, "Erika", "erika@example.de")
    login(client, "Erika")
    client.submit("/reset", {"username": "Erika"})
    link = link_in(mailbox, "erika@example.de", "/reset/")
    weak = client.submit(link, {"password": "12345678", "password_repeat": "12345678"})
    assert weak.status_code == 400 and "häufigsten" in text(weak)
    done = client.submit(link, {"password": NEW, "password_repeat": NEW})
    assert done.status_code == 303 and done.headers["Location"] == "/login"
    assert client.get("/account").status_code == 302  # every session ended
    assert login(Client(app), "Erika", PASSWORD).status_code == 400
    assert login(Client(app), "Erika", NEW).status_code == 303
    replay = client.submit("/login", {"password": NEW, "password_repeat": NEW}, action=link)
    assert replay.status_code == 410 and "bereits verwendet" in text(replay)


def test_expired_reset_link(app, client, mailbox, clock):
    register_and_confirm(client, mailbox, "Erika", "erika@example.de")
    client.submit("/reset", {"username": "Erika"})
    link = link_in(mailbox, "erika@example.de", "/reset/")
    clock.advance(hours=1, seconds=1)
    page = client.get(link, headers={"Accept-Language": "en"})
    assert page.status_code == 410 and "This link has expired." in text(page)


def test_reset_mails_per_account_are_limited(app, client, mailbox, clock):
    register_and_confirm(client, mailbox, "Erika", "erika@example.de")
    for _ in range(5):
        assert client.submit("/reset", {"username": "Erika"}).status_code == 200
    with broker_of(app).database.session() as session:
        assert session.scalar(select(func.count()).select_from(EmailToken)
                              .where(EmailToken.purpose == "reset-password")) == 3
    clock.advance(hours=1, seconds=1)
    client.submit("/reset", {"username": "Erika"})
    with broker_of(app).database.session() as session:
        assert session.scalar(select(func.count()).select_from(EmailToken)
                              .where(EmailToken.purpose == "reset-password")) == 4
