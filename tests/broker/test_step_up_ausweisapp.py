"""The step-up through the broker with AusweisApp2 1.26.2 and its Simulator card, in PSK and no-PSK mode.

A browser session (the Flask test client) logs in with the password and opens the step-up page; AusweisApp
gets the page's tcTokenURL through its SDK (RUN_AUTH), runs the whole eID flow against the broker's eID
listener and reports the RefreshAddress, which the same browser session then opens: the session is at level
high and the account holds the Simulator person's name and date of birth, read from the card.

The broker trusts the BSI test CSCA "TEST csca-germany" that signed the Simulator's EF.CardSecurity
(``eid_csca_file``), so passive authentication is really done; the Simulator does not check Terminal
Authentication (proven against our VirtualCard in test_step_up.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from broker.assurance import Level
from tests.broker.step_up_world import citizen, level, local, start, step_up_page, tc_token_url
from tests.support.ausweisapp import authenticate_with_retries
from tests.support.vectors import hex_value

pytestmark = pytest.mark.ausweisapp


@pytest.fixture
def simulator_csca(tmp_path: Path) -> Path:
    path = tmp_path / "test-csca-germany.pem"
    certificate = x509.load_der_x509_certificate(hex_value("ausweisapp-simulator-csca", "csca"))
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.mark.parametrize("use_psk", [True, False], ids=["psk", "no-psk"])
def test_ausweisapp_raises_a_broker_session_to_high(tmp_path, mailbox, ausweisapp, simulator_csca, use_psk):
    world = start(tmp_path / "data", f"sqlite:///{tmp_path / 'broker.sqlite3'}", mailbox.port, eid_psk=use_psk,
                  eid_csca_file=str(simulator_csca))
    try:
        browser = citizen(world)

        def new_step_up() -> str:  # a fresh step-up for each run (a TC token is single use)
            return tc_token_url(step_up_page(browser))

        runs = authenticate_with_retries(ausweisapp, new_step_up)
        run = runs[-1]
        assert not run.card_race, f"every one of {len(runs)} runs hit the Simulator's card-connect race"
        assert run.ok, run.result
        refresh = run.result["url"]
        assert refresh.startswith(f"{world.url}/eid/refresh?ref=")
        back = browser.get(local(refresh))
        assert back.status_code == 303 and back.headers["Location"] == "/account", back.get_data(as_text=True)
        assert level(world, browser) is Level.HIGH
        account = browser.get("/account").get_data(as_text=True)
        assert "<dt>Vornamen</dt><dd>ERIKA</dd>" in account
        assert "<dt>Familienname</dt><dd>MUSTERMANN</dd>" in account
        assert "<dt>Geburtsdatum</dt><dd>1964-08-12</dd>" in account
    finally:
        world.stop()
