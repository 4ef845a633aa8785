import re

from sqlalchemy import func, select

from broker.context import broker_of
from broker.models import Account, WebSession
from tests.broker.conftest import Client, text
from tests.broker.helpers import PASSWORD, login, register_and_confirm

NEW = "ein ganz neues Passwort"


def signed_in(app, mailbox, address="192.0.2.10") -> Client:
    client = Client(app, address=address)
    register_and_confirm(client, mailbox, "Erika", "erika@example.de")
    assert login(client, "Erika").status_code == 303
    return client


def test_pages_need_a_login(app, client):
    for path in ("/account", "/account/password", "/account/delete"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == f"/login?next={path}"


def test_account_page_shows_profile_history_and_sessions(app, mailbox):
    client = signed_in(app, mailbox)
    page = text(client.get("/account", headers={"User-Agent": "Testbrowser/1.0"}))
    assert "<dd>Erika</dd>" in page and "erika@example.de" in page and "bestätigt" in page
    assert re.search(r"<td>Passwort</td><td>niedrig</td><td>192\.0\.2\.10</td>", page)
    assert "Aktuelles Vertrauensniveau</dt><dd>niedrig</dd>" in page
    assert "diese Sitzung" in page and "Überall abmelden" in page
    english = text(client.get("/account?lang=en"))
    assert "<h1>My account</h1>" in english and "<td>Password</td><td>low</td>" in english
    assert "Current level of assurance</dt><dd>low</dd>" in english


def test_change_password(app, mailbox):
    client = signed_in(app, mailbox)
    other = Client(app, address="198.51.100.4")
    login(other, "Erika")
    wrong = client.submit("/account/password", {"current_password": "falsch", "password": NEW,
                                                "password_repeat": NEW})
    assert wrong.status_code == 400 and "Das aktuelle Passwort ist falsch." in text(wrong)
    weak = client.submit("/account/password", {"current_password": PASSWORD, "password": "passwort",
                                               "password_repeat": "passwort"})
    assert weak.status_code == 400 and "häufigsten" in text(weak)
    differ = client.submit("/account/password", {"current_password": PASSWORD, "password": NEW,
                                                 "password_repeat": NEW + "x"})
    assert differ.status_code == 400 and "stimmen nicht überein" in text(differ)
    done = client.submit("/account/password", {"current_password": PASSWORD, "password": NEW,
                                               "password_repeat": NEW})
    assert done.status_code == 303
    assert client.get("/account").status_code == 200  # this session stays
    assert other.get("/account").status_code == 302  # the others end
    assert login(Client(app, address="198.51.100.5"), "Erika", NEW).status_code == 303


def test_end_another_session(app, mailbox):
    client = signed_in(app, mailbox)
    other = Client(app, address="198.51.100.6")
    login(other, "Erika")
    with broker_of(app).database.session() as session:
        ids = session.scalars(select(WebSession.id).where(WebSession.account_id.is_not(None))
                              .order_by(WebSession.id)).all()
    assert client.submit("/account", {}, action=f"/account/sessions/{ids[-1]}/end").status_code == 303
    assert other.get("/account").status_code == 302 and client.get("/account").status_code == 200
    assert client.submit("/account", {}, action="/account/sessions/999999/end").status_code == 404


def test_sessions_of_other_accounts_cannot_be_ended(app, mailbox):
    client = signed_in(app, mailbox)
    stranger = Client(app, address="198.51.100.8")
    register_and_confirm(stranger, mailbox, "Max", "max@example.de")
    login(stranger, "Max")
    with broker_of(app).database.session() as session:
        victim = session.scalar(select(WebSession.id).join(Account).where(Account.username == "Erika"))
    assert stranger.submit("/account", {}, action=f"/account/sessions/{victim}/end").status_code == 404
    assert client.get("/account").status_code == 200


def test_delete_account(app, mailbox):
    client = signed_in(app, mailbox)
    unconfirmed = client.submit("/account/delete", {"current_password": PASSWORD})
    assert unconfirmed.status_code == 400 and "Bitte bestätigen Sie, dass das Konto gelöscht werden soll." in text(unconfirmed)
    wrong = client.submit("/account/delete", {"current_password": "falsch", "confirm": "y"})
    assert wrong.status_code == 400
    done = client.submit("/account/delete", {"current_password": PASSWORD, "confirm": "y"})
    assert done.status_code == 303
    with broker_of(app).database.session() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 0
        assert session.scalar(select(func.count()).select_from(WebSession)
                              .where(WebSession.account_id.is_not(None))) == 0
    assert client.get("/account").status_code == 302
    assert login(client, "Erika").status_code == 400
