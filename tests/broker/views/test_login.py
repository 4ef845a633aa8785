from http.cookies import SimpleCookie

from argon2 import extract_parameters
from sqlalchemy import select

from broker.context import broker_of
from broker.models import Account, AuthEventRecord, WebSession
from broker.ratelimit import ProcessMemoryStorage
from broker.sessions import SECURE_COOKIE, token_hash
from tests.broker.conftest import CSRF, Client, text
from tests.broker.helpers import PASSWORD, login, register_and_confirm

WRONG = "ganz sicher falsch 1"


def cookies_set(response) -> dict[str, str]:
    """Set-Cookie headers by cookie name (the full header line)."""
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        name = next(iter(SimpleCookie(header).keys()))
        found[name] = header
    return found


def session_cookie(client: Client) -> str | None:
    cookie = client.flask.get_cookie(SECURE_COOKIE)
    return cookie.value if cookie else None


def test_login_rotates_the_session_and_records_the_event(app, client, mailbox, clock):
    register_and_confirm(client, mailbox, "Erika", "erika@example.de")
    client.get("/login")
    before = session_cookie(client)
    assert before is not None  # the anonymous session holding the form's CSRF token
    response = login(client, "erika")
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    after = session_cookie(client)
    assert after != before and len(after) >= 43  # 256 random bits, base64url
    header = cookies_set(response)[SECURE_COOKIE]
    assert "HttpOnly" in header and "Secure" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "Domain" not in header
    with broker_of(app).database.session() as session:
        record = session.scalar(select(WebSession).where(WebSession.token_hash == token_hash(after)))
        assert record is not None and record.account_id is not None
        assert session.scalar(select(WebSession).where(WebSession.token_hash == token_hash(before))) is None
        assert after not in str(record.data) and record.token_hash != after
        [event] = session.scalars(select(AuthEventRecord)).all()
        assert (event.method, event.level, event.amr, event.at) == ("password", 1, ["pwd"], clock.now)
        assert event.session_id == record.id


def test_wrong_password_and_unknown_user_look_the_same(app, client, mailbox):
    register_and_confirm(client, mailbox, "Erika", "erika@example.de")
    wrong = login(client, "Erika", WRONG)
    unknown = login(client, "Niemand", WRONG)
    assert wrong.status_code == unknown.status_code == 400
    message = "Benutzername oder Passwort ist falsch."
    assert message in text(wrong) and message in text(unknown)
    def page(response, username):
        return CSRF.sub("", text(response)).replace(f'value="{username}"', "")

    assert page(wrong, "Erika") == page(unknown, "Niemand")


def test_unverified_account_can_log_in_and_is_told(app, client, mailbox):
    client.submit("/register", {"username": "Erika", "email": "erika@example.de", "password": PASSWORD,
                                "password_repeat": PASSWORD})
    assert login(client, "Erika").status_code == 303
    page = text(client.get("/account"))
    assert "noch nicht bestätigt" in page and "Neuen Bestätigungslink senden" in page
    mailbox.clear()
    assert client.submit("/account", {}, action="/account/verify/resend").status_code == 303
    assert "/verify/" in mailbox.wait_for("erika@example.de").get_body().get_content()


def test_throttle_slows_guessing_without_locking_out_the_citizens_browser(app, client, mailbox, clock):
    register_and_confirm(client, mailbox, "Erika", "erika@example.de")
    assert login(client, "Erika").status_code == 303  # the citizen's browser now has a device cookie
    client.submit("/account", {}, action="/logout")
    attacker = Client(app, address="203.0.113.66")
    assert [login(attacker, "Erika", WRONG).status_code for _ in range(5)] == [400] * 5
    throttled = login(attacker, "Erika", PASSWORD)  # even the right password is not tried now
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
    assert "Zu viele Fehlversuche" in text(throttled)
    assert login(client, "Erika").status_code == 303  # the citizen's own browser is unaffected
    clock.advance(seconds=1)
    assert login(attacker, "Erika", WRONG).status_code == 400
    assert login(attacker, "Erika", WRONG).headers["Retry-After"] == "2"
    clock.advance(seconds=2)
    newcomer = Client(app, address="198.51.100.1")  # the right password still works after the wait
    assert login(newcomer, "Erika").status_code == 303


def test_device_cookie_is_issued_at_the_first_login_and_renewed_past_half_its_lifetime(app, client, mailbox,
                                                                                       clock):
    register_and_confirm(client, mailbox, "Erika", "erika@example.de")

    def device_cookie_set(response) -> bool:
        return any(header.startswith("eid-broker-device=") for header in response.headers.getlist("Set-Cookie"))

    first = login(client, "Erika")
    assert first.status_code == 303 and device_cookie_set(first)
    issued = client.flask.get_cookie("eid-broker-device").value
    client.submit("/account", {}, action="/logout")
    again = login(client, "Erika")
    assert again.status_code == 303 and not device_cookie_set(again)
    assert client.flask.get_cookie("eid-broker-device").value == issued
    client.submit("/account", {}, action="/logout")
    clock.advance(days=91)  # the default lifetime is 180 days
    renewed = login(client, "Erika")
    assert renewed.status_code == 303 and device_cookie_set(renewed)
    assert client.flask.get_cookie("eid-broker-device").value != issued


def test_unknown_usernames_are_throttled_alike(app, client):
    statuses = [login(client, "Niemand", WRONG).status_code for _ in range(6)]
    assert statuses == [400] * 5 + [429]


def test_login_rate_limit_per_address(app_factory, mailbox):
    app = app_factory(ratelimit_login="3 per minute")
    client = Client(app)
    statuses = [login(client, f"user{index}", WRONG).status_code for index in range(4)]
    assert statuses == [400, 400, 400, 429]
    assert login(Client(app, address="198.51.100.2"), "user9", WRONG).status_code == 400
    (limiter,) = app.extensions["limiter"]
    assert isinstance(limiter.storage, ProcessMemoryStorage)  # the default storage, broker/ratelimit.py


def test_per_address_limit_switched_off(app_factory, mailbox):
    """ratelimit_enabled = false: no per-address limit in the application (a reverse proxy's job then), while
    the per-account throttle still answers 429."""
    app = app_factory(ratelimit_login="3 per minute", ratelimit_enabled=False)
    client = Client(app)
    assert [login(client, f"user{index}", WRONG).status_code for index in range(6)] == [400] * 6
    assert [login(client, "Niemand", WRONG).status_code for _ in range(6)] == [400] * 5 + [429]
    assert "limiter" not in app.extensions


def test_password_hash_is_renewed_when_parameters_change(app_factory, mailbox):
    first = app_factory()
    register_and_confirm(Client(first), mailbox, "Erika", "erika@example.de")
    stronger = app_factory(argon2_time_cost=3)
    assert login(Client(stronger), "Erika").status_code == 303
    with broker_of(stronger).database.session() as session:
        stored = session.scalar(select(Account.password_hash))
    assert extract_parameters(stored).time_cost == 3


def test_next_must_stay_on_this_site(app, client, mailbox):
    register_and_confirm(client, mailbox, "Erika", "erika@example.de")
    for target, expected in (("//evil.example/x", "/account"), ("https://evil.example", "/account"),
                             ("/\\evil.example", "/account"), ("/account/password", "/account/password")):
        response = client.submit(f"/login?next={target}", {"username": "Erika", "password": PASSWORD,
                                                           "next": target}, action="/login")
        assert response.headers["Location"] == expected, target
        client.submit("/account", {}, action="/logout")


def test_logout_ends_the_session(app, client, mailbox):
    register_and_confirm(client, mailbox, "Erika", "erika@example.de")
    login(client, "Erika")
    token = session_cookie(client)
    response = client.submit("/account", {}, action="/logout")
    assert response.status_code == 303
    stale = Client(app)
    stale.flask.set_cookie(SECURE_COOKIE, token, domain="localhost")
    assert stale.get("/account").status_code == 302


def test_session_idle_and_absolute_timeouts(app, client, mailbox, clock):
    register_and_confirm(client, mailbox, "Erika", "erika@example.de")
    login(client, "Erika")
    clock.advance(minutes=29)
    assert client.get("/account").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/account").status_code == 302  # idle for 31 minutes
    login(client, "Erika")
    statuses = []
    for _ in range(37):  # busy every 20 minutes, but only for 12 hours from the login
        clock.advance(minutes=20)
        statuses.append(client.get("/account").status_code)
    assert statuses[:36] == [200] * 36 and statuses[36] == 302
    with broker_of(app).database.session() as session:
        assert session.scalar(select(WebSession).where(WebSession.account_id.is_not(None))) is None
    assert client.get("/account").status_code == 302


def test_log_out_everywhere(app, client, mailbox):
    register_and_confirm(client, mailbox, "Erika", "erika@example.de")
    other = Client(app, address="198.51.100.3")
    login(client, "Erika")
    login(other, "Erika")
    assert other.get("/account").status_code == 200
    response = client.submit("/account", {}, action="/account/sessions/end-all")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert other.get("/account").status_code == 302
    assert client.get("/account").status_code == 302
