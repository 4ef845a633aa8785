import threading
from sqlalchemy import select

from broker.context import broker_of
from broker.models import Account
from tests.broker.conftest import Client, text
from tests.broker.helpers import PASSWORD, link_in, register
from tests.support.smtp import body


def accounts(app):
    with broker_of(app).database.session() as session:
        return session.scalars(select(Account)).all()


def test_register_sends_a_german_verification_mail(app, client, mailbox):
    response = register(client, "Erika", "erika@example.de")
    assert response.status_code == 303 and response.headers["Location"].endswith("/register/done")
    message = mailbox.wait_for("erika@example.de")
    assert message["Subject"] == "Bitte bestätigen Sie Ihre E-Mail-Adresse"
    assert "Hallo Erika," in body(message)
    [account] = accounts(app)
    assert account.username == "Erika" and account.email_verified_at is None
    assert PASSWORD not in account.password_hash


def test_english_pages_and_mail(app, client, mailbox):
    page = client.get("/register", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert "<h1>Create an account</h1>" in text(page) and 'lang="en"' in text(page)
    response = client.post("/register", {"csrf_token": client.csrf("/register"), "username": "Erika",
                                         "email": "erika@example.de", "password": "short", "password_repeat": "short"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "The password must have at least 8 characters." in text(response)
    client.post("/register?lang=en", {"csrf_token": client.csrf("/register"), "username": "Erika",
                                      "email": "erika@example.de", "password": PASSWORD, "password_repeat": PASSWORD})
    assert mailbox.wait_for("erika@example.de")["Subject"] == "Please confirm your e-mail address"


def test_verification_link_confirms_once(app, client, mailbox, clock):
    register(client, "Erika", "erika@example.de")
    link = link_in(mailbox, "erika@example.de", "/verify/")
    page = client.get(link)
    assert page.status_code == 200 and "E-Mail-Adresse bestätigen" in text(page)
    assert accounts(app)[0].email_verified_at is None  # opening the link alone (a mail scanner) does nothing
    confirmed = client.submit(link, {})
    assert confirmed.status_code == 303
    assert accounts(app)[0].email_verified_at == clock.now
    replay = client.submit("/login", {}, action=link)
    assert replay.status_code == 410 and "bereits verwendet" in text(replay)
    assert client.get(link).status_code == 410


def test_expired_and_unknown_links(app, client, mailbox, clock):
    register(client, "Erika", "erika@example.de")
    link = link_in(mailbox, "erika@example.de", "/verify/")
    clock.advance(hours=24, seconds=1)
    expired = client.get(link)
    assert expired.status_code == 410 and "abgelaufen" in text(expired)
    unknown = client.get("/verify/not-a-real-token")
    assert unknown.status_code == 404 and "ungültig" in text(unknown)


def test_taken_username_is_refused_clearly(app, client, mailbox):
    assert register(client, "Erika", "erika@example.de").status_code == 303
    again = register(client, "ERIKA", "other@example.de")
    assert again.status_code == 409
    assert "Dieser Benutzername ist bereits vergeben" in text(again)
    assert len(accounts(app)) == 1


def test_same_email_twice_is_not_revealed(app, client, mailbox):
    assert register(client, "Erika", "erika@example.de").status_code == 303
    assert register(client, "Erika2", "erika@example.de").status_code == 303
    assert len(accounts(app)) == 2


def test_same_username_at_the_same_moment(app, mailbox):
    clients = [Client(app, address=f"192.0.2.{20 + index}") for index in range(3)]
    tokens = [client.csrf("/register") for client in clients]
    barrier = threading.Barrier(len(clients))
    statuses = []

    def post(client, token, index):
        barrier.wait()
        response = client.post("/register", {"csrf_token": token, "username": "Gleichzeitig",
                                             "email": f"g{index}@example.de", "password": PASSWORD,
                                             "password_repeat": PASSWORD})
        statuses.append((response.status_code, text(response)))

    threads = [threading.Thread(target=post, args=(client, token, index))
               for index, (client, token) in enumerate(zip(clients, tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in statuses) == [303, 409, 409]
    assert all("bereits vergeben" in page for status, page in statuses if status == 409)
    assert len(accounts(app)) == 1


def test_meta_characters_are_stored_verbatim_and_escaped(app, client, mailbox):
    name = "Robert'); DROP TABLE account;-- <script>alert(1)</script>"
    assert register(client, name, "bobby@example.de").status_code == 303
    [account] = accounts(app)
    assert account.username == name
    client.submit(link_in(mailbox, "bobby@example.de", "/verify/"), {})
    client.submit("/login", {"username": name, "password": PASSWORD})
    page = text(client.get("/account"))
    assert "<script>alert(1)</script>" not in page
    assert "Robert&#39;); DROP TABLE account;-- &lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_overlong_fields_are_refused_and_nothing_is_written(app, client):
    cases = [
        ({"username": "x" * 65}, "Der Benutzername muss 3 bis 64 Zeichen lang sein."),
        ({"email": "a@" + "b" * 250 + ".de"}, "Die E-Mail-Adresse ist zu lang."),
        ({"password": "p" * 129, "password_repeat": "p" * 129}, "höchstens 128 Zeichen"),
        ({"password": "p" * 5000, "password_repeat": "p" * 5000}, "Das Passwort ist zu lang."),
    ]
    for change, message in cases:
        data = {"username": "Erika", "email": "erika@example.de", "password": PASSWORD, "password_repeat": PASSWORD}
        data.update(change)
        response = client.submit("/register", data)
        assert response.status_code == 400, change
        assert message in text(response), change
    assert accounts(app) == []


def test_huge_body_is_refused(app, client):
    response = client.post("/register", {"csrf_token": client.csrf("/register"), "username": "x" * 70_000})
    assert response.status_code == 413
    assert "zu groß" in text(response)


def test_invalid_utf8_is_refused(app, client):
    token = client.csrf("/register")
    raw = f"csrf_token={token}&username=Erika%FF%FE&email=e%40example.de&password=x&password_repeat=x"
    response = client.post("/register", data=raw.encode("ascii"),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "kein gültiges UTF-8" in text(response)
    assert client.get("/register?lang=%C3").status_code == 400
    assert accounts(app) == []


def test_missing_or_wrong_csrf_token(app, client):
    data = {"username": "Erika", "email": "erika@example.de", "password": PASSWORD, "password_repeat": PASSWORD}
    missing = client.post("/register", data)
    assert missing.status_code == 400 and "Das Formular war abgelaufen" in text(missing)
    client.csrf("/register")
    wrong = client.post("/register", {**data, "csrf_token": "forged"}, headers={"Accept-Language": "en"})
    assert wrong.status_code == 400 and "The form had expired or did not come from this site" in text(wrong)
    assert accounts(app) == []


def test_mail_server_down_creates_no_account(app_factory):
    from tests.support.network import free_port

    app = app_factory(smtp_port=free_port(), smtp_timeout=2.0)
    response = register(Client(app), "Erika", "erika@example.de")
    assert response.status_code == 503
    assert "kein Konto angelegt" in text(response)
    assert accounts(app) == []


def test_registration_rate_limit_per_address(app_factory):
    app = app_factory(ratelimit_register="2 per hour")
    client = Client(app)
    statuses = [register(client, f"user{index}", f"u{index}@example.de").status_code for index in range(3)]
    assert statuses == [303, 303, 429]
    assert "Zu viele Anfragen" in text(register(client, "user8", "u8@example.de"))
    assert register(Client(app, address="198.51.100.7"), "user9", "u9@example.de").status_code == 303
