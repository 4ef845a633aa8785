"""The eID step-up through the broker's pages, with the real eID listener and our eID client in-process.

Each test logs in with the password (Flask test client as the browser), starts the step-up on the account
page, lets our eID client follow the page's link with a virtual card, and opens the RefreshAddress the
client sends the browser to — in the same browser session, or another one."""

from __future__ import annotations

import dataclasses
import datetime
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from broker.assurance import AuthRequest, Level
from broker.context import broker_of
from broker.models import Account, AccountAttribute, AuthEventRecord, EidLink, EidServerSession
from broker.step_up import Purpose
from cardreader.virtual import VirtualCard
from eid import pki, restricted_identification
from eid.card_profile import CardProfile
from eid.chat import AccessRight
from eid.client.authentication import authenticate
from tests.broker.conftest import Client, text
from tests.broker.helpers import PASSWORD
from tests.broker.step_up_world import (EidBroker, citizen, count, erika, level, local, other_card, run_client, start,
                                       step_up_page, tc_token_url)
from tests.support.network import free_port
from tests.support.smtp import Mailbox


@pytest.fixture
def broker_with(tmp_path: Path, database_url: str, mailbox: Mailbox) -> Iterator[Callable[..., EidBroker]]:
    """Starts the broker with its eID function and some settings changed (``broker_with(eid_psk=False)``, a
    ``clock``, another ``smtp_port``); stopped after the test."""
    started: list[EidBroker] = []

    def make(smtp_port: int | None = None, **overrides: object) -> EidBroker:
        started.append(start(tmp_path / "data", database_url, smtp_port or mailbox.port, **overrides))
        return started[-1]

    yield make
    for world in started:
        world.stop()


@pytest.fixture
def eid_broker(broker_with: Callable[..., EidBroker]) -> EidBroker:
    return broker_with()


def test_step_up_raises_the_session_to_high_and_stores_the_card_data(eid_broker, mailbox):
    client = citizen(eid_broker)
    cookie_before = client.flask.get_cookie("__Host-eid-broker-session").value
    page = step_up_page(client)
    assert "Ihr Bürgerkonto auf dieser Seite fragt an." in page
    assert "Geburtsdatum" in page and "Pseudonym" in page

    outcome = run_client(page)
    assert outcome.ok, outcome
    assert outcome.location.startswith(f"{eid_broker.url}/eid/refresh?ref=")
    back = client.get(local(outcome.location))
    assert back.status_code == 303 and back.headers["Location"] == "/account"
    assert client.flask.get_cookie("__Host-eid-broker-session").value != cookie_before  # a new session id

    account = text(client.get("/account"))
    assert "<dt>Aktuelles Vertrauensniveau</dt><dd>hoch</dd>" in account
    assert "<dt>Vornamen</dt><dd>ERIKA</dd>" in account
    assert "<dt>Familienname</dt><dd>MUSTERMANN</dd>" in account
    assert "<dt>Geburtsdatum</dt><dd>1984-08-12</dd>" in account
    assert "Ihr Konto ist mit Ihrem Personalausweis verknüpft." in account
    with broker_of(eid_broker.app).database.session() as db:
        event = db.scalars(select(AuthEventRecord).order_by(AuthEventRecord.id.desc())).first()
        assert (event.method, event.level, event.amr) == ("eid", int(Level.HIGH), ["hwk", "sc", "pin", "mfa"])
        rows = {row.name: row for row in db.scalars(select(AccountAttribute))}
        assert rows["given_names"].value == "ERIKA" and rows["given_names"].source == "eid"
        assert rows["given_names"].level == int(Level.HIGH) and rows["given_names"].verified_at is not None
        assert rows["address_locality"].value == "KÖLN"
        link = db.scalars(select(EidLink)).one()
        assert rows["pseudonym"].value == link.pseudonym and len(link.pseudonym) >= 64

    # The RefreshAddress is single use: opening it again changes nothing.
    again = client.get(local(outcome.location))
    assert again.status_code == 403


def test_a_refresh_address_opened_in_another_browser_is_refused(eid_broker, mailbox):
    victim = citizen(eid_broker, "erika")
    attacker = citizen(eid_broker, "mallory", "198.51.100.7")
    outcome = run_client(step_up_page(attacker))
    assert outcome.ok
    refused = victim.get(local(outcome.location))
    assert refused.status_code == 403
    assert "in einem anderen Browser" in text(refused)
    assert level(eid_broker, victim) is Level.LOW and level(eid_broker, attacker) is Level.LOW
    assert count(eid_broker, EidLink) == 0 and count(eid_broker, AccountAttribute) == 0
    # The browser that started it still can.
    assert attacker.get(local(outcome.location)).status_code == 303
    assert level(eid_broker, attacker) is Level.HIGH and level(eid_broker, victim) is Level.LOW


def test_a_wrong_pin_says_how_many_tries_are_left(eid_broker, mailbox):
    client = citizen(eid_broker)
    card = VirtualCard(erika())
    outcome = run_client(step_up_page(client), card, pins=("111111",))
    assert not outcome.ok
    page = client.get(local(outcome.location))
    assert page.status_code == 200
    assert "Die PIN war falsch. Sie haben noch 2 Versuche." in text(page)
    assert level(eid_broker, client) is Level.LOW
    # Again with the right PIN (the same card, one try used): level high.
    outcome = run_client(step_up_page(client), card)
    assert client.get(local(outcome.location)).status_code == 303
    assert level(eid_broker, client) is Level.HIGH


def test_cancelled_in_the_eid_client(eid_broker, mailbox):
    client = citizen(eid_broker)
    outcome = run_client(step_up_page(client), cancel=True)
    page = client.get(local(outcome.location))
    assert "abgebrochen" in text(page)
    assert level(eid_broker, client) is Level.LOW and count(eid_broker, AccountAttribute) == 0


def test_a_forged_card_fails_passive_authentication(eid_broker, mailbox):
    client = citizen(eid_broker)
    # A card whose EF.CardSecurity is signed under another CSCA, trusting the real CVCA (so TA works).
    other = pki.create_test_pki(today=erika().current_date)
    forged = dataclasses.replace(pki.create_card_profile(other, today=erika().current_date),
                                 trust_points=erika().trust_points)
    outcome = run_client(step_up_page(client), VirtualCard(forged))
    page = client.get(local(outcome.location))
    assert "nicht als echter, gültiger deutscher Personalausweis" in text(page)
    assert level(eid_broker, client) is Level.LOW and count(eid_broker, EidLink) == 0


def test_a_card_linked_to_another_account_is_refused(eid_broker, mailbox):
    first = citizen(eid_broker, "erika")
    assert first.get(local(run_client(step_up_page(first)).location)).status_code == 303
    second = citizen(eid_broker, "max", "198.51.100.7")
    page = second.get(local(run_client(step_up_page(second)).location))
    assert "bereits mit einem anderen Bürgerkonto verknüpft" in text(page)
    assert level(eid_broker, second) is Level.LOW
    assert count(eid_broker, EidLink) == 1


def test_a_renewed_card_is_linked_again_with_the_password(eid_broker, mailbox):
    client = citizen(eid_broker)
    assert client.get(local(run_client(step_up_page(client)).location)).status_code == 303
    with broker_of(eid_broker.app).database.session() as db:
        old = db.scalars(select(EidLink)).one().pseudonym
    renewed = VirtualCard(other_card("ERIKA", "MUSTERMANN"))
    back = client.get(local(run_client(step_up_page(client), renewed).location))
    assert back.status_code == 303 and back.headers["Location"] == "/eid/relink"
    page = client.get("/eid/relink")
    assert "Ihr Konto ist mit einem anderen Personalausweis verknüpft" in text(page)
    wrong = client.submit("/eid/relink", {"current_password": "not the password"})
    assert wrong.status_code == 400 and "Das aktuelle Passwort ist falsch." in text(wrong)
    with broker_of(eid_broker.app).database.session() as db:
        assert db.scalars(select(EidLink)).one().pseudonym == old
    done = client.submit("/eid/relink", {"current_password": PASSWORD})
    assert done.status_code == 303 and done.headers["Location"] == "/account"
    with broker_of(eid_broker.app).database.session() as db:
        new = db.scalars(select(EidLink)).one().pseudonym
    assert new != old
    assert level(eid_broker, client) is Level.HIGH
    assert client.get("/eid/relink").status_code == 410  # used


def test_eid_first_registration_and_then_login_with_the_card(eid_broker, mailbox):
    anonymous = eid_broker.client()
    start_page = text(anonymous.get("/"))
    assert "Mit dem Personalausweis anmelden oder ein Konto anlegen" in start_page
    assert anonymous.submit("/", {}, action="/eid/step-up").status_code == 303
    page = text(anonymous.get("/eid/step-up"))
    assert "Ihr Konto wird aus den Daten Ihres Personalausweises angelegt" in page
    back = anonymous.get(local(run_client(page).location))
    assert back.status_code == 303 and back.headers["Location"] == "/eid/register"
    form = anonymous.get("/eid/register")
    assert "<dt>Vornamen</dt><dd>ERIKA</dd>" in text(form) and "<dt>Geburtsdatum</dt><dd>1984-08-12</dd>" in text(form)
    fields = {"username": "erika", "email": "erika@example.de", "password": PASSWORD, "password_repeat": PASSWORD}
    refused = anonymous.submit("/eid/register", fields)
    assert refused.status_code == 400 and "Bitte stimmen Sie zu" in text(refused)
    assert count(eid_broker, EidLink) == 0
    created = anonymous.submit("/eid/register", {**fields, "consent": "y"})
    assert created.status_code == 303, text(created)
    assert level(eid_broker, anonymous) is Level.HIGH
    assert "<dt>Familienname</dt><dd>MUSTERMANN</dd>" in text(anonymous.get("/account"))
    assert mailbox.wait_for("erika@example.de")
    # Later, in a fresh browser: the card logs in to that account at level high.
    other = eid_broker.client("198.51.100.7")
    assert other.submit("/", {}, action="/eid/step-up").status_code == 303
    back = other.get(local(run_client(text(other.get("/eid/step-up"))).location))
    assert back.status_code == 303
    assert level(eid_broker, other) is Level.HIGH and "erika" in text(other.get("/account"))


def test_two_step_ups_at_once_for_different_citizens(eid_broker, mailbox):
    erika_browser = citizen(eid_broker, "erika")
    max_browser = citizen(eid_broker, "max", "198.51.100.7")
    pages = [step_up_page(erika_browser), step_up_page(max_browser)]
    cards = [VirtualCard(erika()), VirtualCard(other_card("MAX", "MUSTERMANN"))]
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda pair: run_client(*pair), zip(pages, cards)))
    assert all(o.ok for o in outcomes)
    # Crossed over: each browser refuses the other's result, and nothing changes.
    assert erika_browser.get(local(outcomes[1].location)).status_code == 403
    assert erika_browser.get(local(outcomes[0].location)).status_code == 303
    assert max_browser.get(local(outcomes[1].location)).status_code == 303
    assert "<dt>Vornamen</dt><dd>ERIKA</dd>" in text(erika_browser.get("/account"))
    assert "<dt>Vornamen</dt><dd>MAX</dd>" in text(max_browser.get("/account"))
    assert count(eid_broker, EidLink) == 2


class Vanished(Exception):
    """The eID client's process died while the citizen was asked for consent."""


class VanishingCitizen:
    def consent(self, consent):
        raise Vanished()

    def password(self, prompt):
        raise AssertionError("not asked")


def test_a_client_that_disappears_midway_expires_and_the_citizen_sees_why(broker_with, clock):
    world = broker_with(clock=clock)
    client = citizen(world)
    page = step_up_page(client)
    assert client.get("/eid/status").get_json()["progress"] == "waiting_for_client"
    with pytest.raises(Vanished):
        authenticate(tc_token_url(page), VanishingCitizen(), lambda: None, os.urandom)
    status = client.get("/eid/status").get_json()
    assert status == {"progress": "waiting_for_pin", "final": False,
                      "text": "Bitte prüfen Sie die Anfrage in Ihrer eID-Software und geben Sie dort Ihre PIN ein."}
    clock.advance(minutes=11)  # past the time the citizen has to consent and enter the PIN
    status = client.get("/eid/status").get_json()
    assert status["progress"] == "failed" and status["final"]
    assert "nicht mehr geantwortet" in status["text"]
    shown = text(client.get("/eid/step-up"))
    assert "Ihre eID-Software hat nicht mehr geantwortet" in shown
    assert level(world, client) is Level.LOW


def test_no_psk_mode(broker_with):
    world = broker_with(eid_psk=False)
    client = citizen(world)
    outcome = run_client(step_up_page(client))
    assert outcome.ok
    assert client.get(local(outcome.location)).status_code == 303
    assert level(world, client) is Level.HIGH


def test_the_tc_token_url_redirects_to_the_listener_and_the_step_up_needs_https(eid_broker, mailbox, app_factory):
    client = citizen(eid_broker)
    page = step_up_page(client)
    token = tc_token_url(page).rsplit("/", 1)[1]
    answer = client.get(f"/eid/tctoken/{token}")
    assert answer.status_code == 303 and answer.headers["Location"] == f"{eid_broker.settings.eid_public_url}/tctoken/{token}"
    assert client.get("/eid/tctoken/not-a-token").status_code == 404
    plain = Client(app_factory(insecure_http=True))
    assert plain.get("/eid/tctoken/" + token).status_code == 404
    assert "Mit dem Personalausweis" not in text(plain.get("/"))


def test_a_frontend_request_names_the_data_to_read():
    request = AuthRequest("rathaus-termine", Level.HIGH, requested_attributes=frozenset(
        {"given_names", "family_names", "email", "date_of_birth"}))
    purpose = Purpose.for_request(request, "Terminvergabe der Stadt", "Termin im Bürgeramt")
    assert purpose.required == ("date_of_birth", "family_names", "given_names")  # e-mail is not on the card
    eid_request = purpose.eid_request()
    assert eid_request.required == {AccessRight.READ_DG4, AccessRight.READ_DG5, AccessRight.READ_DG8,
                                    AccessRight.RESTRICTED_IDENTIFICATION}
    assert Purpose.from_dict(purpose.to_dict()) == purpose


def test_expired_eid_sessions_are_purged_when_a_step_up_starts(broker_with, clock):
    world = broker_with(clock=clock)
    client = citizen(world)
    step_up_page(client)
    assert count(world, EidServerSession) == 1
    clock.advance(minutes=20)  # the first one expired (15 minutes at most)
    step_up_page(client)
    assert count(world, EidServerSession) == 1


def _passwords(**changes):
    base = erika()
    return dataclasses.replace(base, passwords=dataclasses.replace(base.passwords, **changes))


@pytest.mark.parametrize("profile,pins,explained", [
    (lambda: _passwords(pin_retries=2), ("111111",), "Ihre PIN ist vorübergehend gesperrt"),
    (lambda: _passwords(pin_retries=1), (), "braucht Ihre eID-Software zuerst die Zugangsnummer (CAN)"),
    (lambda: _passwords(pin_retries=0), ("123456",), "ist jetzt gesperrt. Entsperren Sie sie mit der PUK"),
    (lambda: _passwords(eid_activated=False), ("123456",), "Online-Ausweisfunktion Ihres Personalausweises ist ausgeschaltet"),
    (lambda: dataclasses.replace(erika(), person=dataclasses.replace(erika().person, date_of_expiry=erika().current_date
                                                                      - datetime.timedelta(days=1))),
     ("123456",), "Ihr Personalausweis ist abgelaufen"),
], ids=["can-needed", "cancelled-at-the-can", "pin-blocked", "eid-deactivated", "card-expired"])
def test_each_card_failure_is_explained_and_changes_nothing(eid_broker, profile, pins, explained):
    client = citizen(eid_broker)
    outcome = run_client(step_up_page(client), VirtualCard(profile()), pins=pins)
    page = client.get(local(outcome.location))
    assert explained in text(page)
    assert level(eid_broker, client) is Level.LOW
    assert count(eid_broker, EidLink) == 0 and count(eid_broker, AccountAttribute) == 0


def test_try_again_after_a_failure_keeps_the_services_purpose(eid_broker):
    client = citizen(eid_broker)
    purpose = Purpose("rathaus-termine", "Terminvergabe der Stadt", "Termin im Bürgeramt", ("given_names",))
    # As a frontend parks its request and calls broker.views.step_up.start(purpose, "/oidc/resume"):
    started = broker_of(eid_broker.app).eid.begin(purpose, eid_broker.url, "/oidc/resume", None)
    with client.flask.session_transaction() as session:
        session["eid_step_up"] = started.to_dict()
    page = text(client.get("/eid/step-up"))
    assert "Terminvergabe der Stadt bittet um eine Anmeldung mit dem Vertrauensniveau „hoch“." in page
    assert "Grund: Termin im Bürgeramt" in page
    outcome = run_client(page, cancel=True)
    failed = client.get(local(outcome.location))
    assert "abgebrochen" in text(failed)
    restarted = client.submit("/eid/step-up", {}, action="/eid/step-up/again")
    assert restarted.status_code == 303
    page = text(client.get("/eid/step-up"))
    assert "Terminvergabe der Stadt" in page
    back = client.get(local(run_client(page).location))
    assert back.status_code == 303 and back.headers["Location"] == "/oidc/resume"


def test_eid_first_registration_with_the_mail_server_down_keeps_nothing(broker_with):
    world = broker_with(smtp_port=free_port(), smtp_timeout=2.0)
    anonymous = world.client()
    assert anonymous.submit("/", {}, action="/eid/step-up").status_code == 303
    back = anonymous.get(local(run_client(text(anonymous.get("/eid/step-up"))).location))
    assert back.headers["Location"] == "/eid/register"
    fields = {"username": "erika", "email": "erika@example.de", "password": PASSWORD,
              "password_repeat": PASSWORD, "consent": "y"}
    refused = anonymous.submit("/eid/register", fields)
    assert refused.status_code == 503
    assert "kein Konto angelegt" in text(refused)
    assert count(world, Account) == 0 and count(world, EidLink) == 0 and count(world, AccountAttribute) == 0
    assert count(world, AuthEventRecord) == 0
    assert level(world, anonymous) is None


def _identifier_of(world: EidBroker, card: CardProfile, authorized_only: bool) -> str:
    """The card's sector-specific identifier for the broker's terminal sector (its revocation identifier, or with
    ``authorized_only`` its pseudonym), as the Document Verifier's blocklist would carry it."""
    key = next(k for k in card.restricted_identification if k.authorized_only is authorized_only)
    sector = broker_of(world.app).eid.service.terminal.sector
    return restricted_identification.sector_identifier(key.protocol, sector.curve, key.private_key, sector.point).hex()


def test_a_revoked_card_gets_no_level_and_no_data(broker_with, tmp_path):
    blocklist = tmp_path / "blocklist.txt"
    blocklist.write_text("# no card revoked yet\n")
    world = broker_with(eid_blocklist_file=str(blocklist))
    client = citizen(world)
    card = erika()
    assert client.get(local(run_client(step_up_page(client), VirtualCard(card)).location)).status_code == 303
    assert level(world, client) is Level.HIGH  # the listed identifier is another card's
    # Reported stolen: the Document Verifier's list now has it; the running eID-Server reads the file again.
    blocklist.write_text(f"{_identifier_of(world, card, authorized_only=False)}  # Erika's, stolen\n")
    os.utime(blocklist, ns=(1, 1))
    thief = citizen(world, "mallory", "198.51.100.7")
    outcome = run_client(step_up_page(thief), VirtualCard(card))
    page = thief.get(local(outcome.location))
    assert "Dieser Ausweis ist als verloren oder ungültig gemeldet" in text(page)
    assert level(world, thief) is Level.LOW
    with broker_of(world.app).database.session() as db:
        assert db.scalar(select(func.count()).select_from(AccountAttribute)
                         .join(Account, Account.id == AccountAttribute.account_id)
                         .where(Account.username == "mallory")) == 0
    assert count(world, EidLink) == 1  # only Erika's from before


def test_a_card_listed_by_its_pseudonym_is_revoked_too(broker_with, tmp_path):
    blocklist = tmp_path / "blocklist.txt"
    blocklist.write_text("")
    world = broker_with(eid_blocklist_file=str(blocklist))
    blocklist.write_text(f"{_identifier_of(world, erika(), authorized_only=True)}\n")
    os.utime(blocklist, ns=(1, 1))
    client = citizen(world)
    page = client.get(local(run_client(step_up_page(client)).location))
    assert "als verloren oder ungültig gemeldet" in text(page)
    assert level(world, client) is Level.LOW and count(world, EidLink) == 0


def test_a_malformed_blocklist_file_stops_the_start(tmp_path, database_url, mailbox):
    from broker.config import load_settings
    from broker.eid_server import terminal
    from eid.server.terminal import TerminalConfigError

    blocklist = tmp_path / "blocklist.txt"
    blocklist.write_text("ds:zz\n")
    settings = load_settings(tmp_path / "data", environ={}, database_url=database_url,
                             public_url="https://127.0.0.1:8443", eid_blocklist_file=str(blocklist))
    with pytest.raises(TerminalConfigError, match="eid_blocklist_file .*line 1"):
        terminal(settings, erika().current_date)


def _start_step_up(client: Client):
    return client.submit("/account", {}, action="/eid/step-up")


def test_step_up_starts_are_limited_per_browser_session(broker_with):
    world = broker_with(ratelimit_step_up_session="2 per 10 minutes")
    client = citizen(world)
    assert [_start_step_up(client).status_code for _ in range(2)] == [303, 303]
    refused = _start_step_up(client)
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 600
    assert "zu oft gestartet" in text(refused) and "Bitte warten Sie" in text(refused)
    again = client.submit("/eid/step-up", {}, action="/eid/step-up/again")  # "try again" counts the same
    assert again.status_code == 429
    assert count(world, EidServerSession) == 2  # refused starts made no eID-Server session
    # The same address, another browser: its own budget.
    assert _start_step_up(citizen(world, "max")).status_code == 303


def test_step_up_starts_are_limited_per_address(broker_with):
    world = broker_with(ratelimit_step_up="3 per hour")
    erika_browser, max_browser = citizen(world, "erika"), citizen(world, "max")
    statuses = [_start_step_up(browser).status_code for browser in (erika_browser, max_browser) * 2]
    assert statuses == [303, 303, 303, 429]
    assert count(world, EidServerSession) == 3
    assert _start_step_up(citizen(world, "eva", "198.51.100.7")).status_code == 303  # another address


def test_status_polling_is_limited_per_browser_session(broker_with):
    world = broker_with(ratelimit_eid_requests="3 per minute")
    client = citizen(world)
    assert _start_step_up(client).status_code == 303
    assert [client.get("/eid/status").status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get("/eid/status")
    assert limited.status_code == 429
    assert limited.get_json()["progress"] == "limited" and "Bitte warten Sie 1 Minute" in limited.get_json()["text"]
    assert client.get("/eid/step-up").status_code == 429


def test_the_password_of_a_re_link_is_limited_like_a_login(broker_with):
    world = broker_with(ratelimit_login="3 per hour")
    client = citizen(world)
    assert client.get(local(run_client(step_up_page(client)).location)).status_code == 303
    renewed = VirtualCard(other_card("ERIKA", "MUSTERMANN"))
    assert client.get(local(run_client(step_up_page(client), renewed).location)).headers["Location"] == "/eid/relink"
    wrong = [client.submit("/eid/relink", {"current_password": "guess"}).status_code for _ in range(4)]
    assert wrong == [400, 400, 400, 429]  # the login's limit, for the re-link form of its own
