"""The broker with its eID function in this process, for the step-up tests.

The app (create_app) is served over real HTTPS by werkzeug on a free port — eID clients fetch the tcTokenURL
from the broker's origin and check its certificate at the RefreshAddress — and the eID listener runs beside
it, as ``eid-broker serve`` runs them, with the demo terminal made from the shipped test PKI. The browser
side is the Flask test client (so a test reads cookies and pages directly); the eID client is our own
(eid.client.authentication.authenticate) with the shipped Erika Mustermann card in-process, or any card.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import BaseWSGIServer, make_server

from broker.accounts import create_account
from broker.app import create_app
from broker.assurance import Level
from broker.cli.serve import prepare_eid
from broker.config import Settings, load_settings
from broker.context import broker_of
from broker.db import Database, make_engine, upgrade
from broker.eid_server import start_listener, tls_files
from broker.eid_terminal import SHIPPED_CARD
from cardreader.virtual import VirtualCard
from eid import pki
from eid.card_profile import CardProfile, load
from eid.client.authentication import Outcome, authenticate
from eid.client.citizen import PreparedCitizen
from eid.cvc import CvCertificate
from eid.server.listener import EidListener
from eid.terminal import CardSession
from tests.broker.conftest import Client, text
from tests.broker.helpers import PASSWORD, login
from tests.support.network import free_port

PIN, CAN, PUK = "123456", "500540", "9876543210"
LINK = re.compile(r'href="(http://127\.0\.0\.1:24727/eID-Client\?tcTokenURL=[^"]+)"')


def now() -> datetime:
    return datetime.now(UTC)


def erika() -> CardProfile:
    return load(SHIPPED_CARD.read_text(encoding="utf-8"))


@dataclass
class EidBroker:
    settings: Settings
    app: Flask
    server: BaseWSGIServer
    listener: EidListener
    listener_database: Database
    threads: list[threading.Thread] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.settings.public_url

    def client(self, address: str = "192.0.2.10") -> Client:
        return Client(self.app, address)

    def stop(self) -> None:
        self.server.shutdown()
        self.listener.stop()
        self.listener_database.dispose()
        broker_of(self.app).database.dispose()


def start(data_dir: Path, database_url: str, smtp_port: int, clock: Callable[[], datetime] | None = None,
          **overrides: object) -> EidBroker:
    """The broker (its pages on ``clock``, default the real one) and the eID listener (real time)."""
    port = free_port()
    settings = load_settings(data_dir, environ={}, database_url=database_url, smtp_host="127.0.0.1",
                             smtp_port=smtp_port, public_url=f"https://127.0.0.1:{port}", **overrides)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    settings = prepare_eid(settings, "127.0.0.1")
    app = create_app(settings, clock=clock)
    certificate, key = tls_files(settings)
    server = make_server("127.0.0.1", port, app, threaded=True, ssl_context=(str(certificate), str(key)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    listener, database = start_listener(settings, (settings.eid_host, settings.eid_port), now)
    return EidBroker(settings, app, server, listener, database, [thread])


def client_link(page_html: str) -> str:
    match = LINK.search(page_html)
    assert match, "no eID-client link on the step-up page"
    return unescape(match.group(1))


def tc_token_url(page_html: str) -> str:
    return parse_qs(urlsplit(client_link(page_html)).query)["tcTokenURL"][0]


def card_opener(card: VirtualCard) -> Callable[[], CardSession]:
    def open_card() -> CardSession:
        card.power_on()
        return CardSession(card)

    return open_card


def run_client(page_html: str, card: VirtualCard | None = None, pins: tuple[str, ...] = (PIN,),
               cancel: bool = False) -> Outcome:
    """Our eID client following the step-up page's link with ``card`` (Erika's by default)."""
    import os

    citizen = PreparedCitizen.with_passwords(pins, cancel=cancel)
    return authenticate(tc_token_url(page_html), citizen, card_opener(card or VirtualCard(erika())), os.urandom)


def local(url: str) -> str:
    """The path and query of a broker URL, for the test client."""
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def other_card(given_names: str, family_names: str) -> CardProfile:
    """Another citizen's card under the shipped test PKI (own chip keys, so its own pseudonym); also a
    renewed card of the same person."""
    shipped = SHIPPED_CARD.parent / "erika-mustermann-pki"
    issuer = SimpleNamespace(
        document_signer=x509.load_pem_x509_certificate((shipped / "ds.pem").read_bytes()),
        document_signer_key=serialization.load_pem_private_key((shipped / "ds.key").read_bytes(), None),
        cvca=CvCertificate.parse((shipped / "cvca.cvcert").read_bytes()),
    )
    person = dataclasses.replace(pki.ERIKA_MUSTERMANN, given_names=given_names, family_names=family_names)
    return pki.create_card_profile(issuer, today=erika().current_date, person=person)  # type: ignore[arg-type]


def citizen(world: EidBroker, username: str = "erika", address: str = "192.0.2.10") -> Client:
    """A browser logged in with the password to a new account ``username``."""
    services = broker_of(world.app)
    with services.database.session() as db:
        create_account(db, services.hasher, services.policy, username=username, email=f"{username}@example.de",
                       password=PASSWORD, now=services.now(), email_verified=True)
        db.commit()
    client = world.client(address)
    assert login(client, username).status_code == 303
    return client


def step_up_page(client: Client) -> str:
    form = client.submit("/account", {}, action="/eid/step-up")
    assert form.status_code == 303 and form.headers["Location"] == "/eid/step-up"
    page = client.get("/eid/step-up")
    assert page.status_code == 200
    return text(page)


def level(world: EidBroker, client: Client) -> Level | None:
    """The level of the session behind the client's cookie, as the account page computes it."""
    page = text(client.get("/account"))
    for candidate in (Level.HIGH, Level.SUBSTANTIAL, Level.LOW):
        label = {"high": "hoch", "substantial": "substantiell", "low": "niedrig"}[candidate.label]
        if f"<dt>Aktuelles Vertrauensniveau</dt><dd>{label}</dd>" in page:
            return candidate
    return None


def count(world: EidBroker, model) -> int:
    with broker_of(world.app).database.session() as db:
        return db.scalar(select(func.count()).select_from(model))
