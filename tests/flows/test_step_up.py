"""The eID step-up as a citizen does it, end to end on real parts.

Chromium logs in to ``eid-broker serve`` (gunicorn, HTTPS, its own eID listener process), opens the step-up
page and follows its link to our eID client (``eid-broker eid-client --reader … --pin-stdin``), which reads
the virtual ID card through pyscard → the private pcscd → the vpcd driver → VirtualCard, enters the PIN and
sends the browser back to the RefreshAddress: the account page then shows level high and the name and date
of birth read from the card. axe-core checks every step-up page. Negative cases: the RefreshAddress opened
in another browser, a wrong PIN, a cancelled identification, a card whose passive authentication fails.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from cardreader.virtual import VirtualCard
from eid import pki
from tests.broker.step_up_world import erika, other_card
from tests.support.broker import LiveBroker, start_broker, stop_broker
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS, assert_accessible
from tests.support.network import free_port, wait_for_port
from tests.support.processes import stop_process
from tests.support.pcscd import wait_for_card
from tests.support.smtp import Mailbox

pytestmark = [pytest.mark.browser, pytest.mark.pcscd, pytest.mark.smtp]

EID_BROKER = Path(sys.executable).parent / "eid-broker"
USERNAME, PASSWORD = "erika.m", "Eine Rose ist eine Rose 1913"
CLIENT_TIMEOUT = 30.0


@dataclasses.dataclass
class EidClient:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/eID-Client"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def stop_eid_client(client: EidClient) -> None:
    if client.process.stdin is not None and not client.process.stdin.closed:
        client.process.stdin.close()
    stop_process(client.process, timeout=10)


@pytest.fixture
def eid_client_port() -> int:
    return free_port()


@pytest.fixture
def broker_with_eid(tmp_path: Path, mailbox: Mailbox, eid_client_port: int) -> Iterator[LiveBroker]:
    broker = start_broker(tmp_path / "broker", mailbox,
                          extra_env={"EID_BROKER_EID_CLIENT_URL": f"http://127.0.0.1:{eid_client_port}/eID-Client"})
    try:
        subprocess.run([str(EID_BROKER), "--data-dir", str(broker.data_dir), "users", "add", "--username", USERNAME,
                        "--email", "erika@example.de", "--password-stdin"], input=PASSWORD.encode(), check=True,
                       capture_output=True, env={**os.environ, "DATABASE_URL": ""})
        yield broker
    finally:
        stop_broker(broker)


def eid_client_at(tmp_path: Path, port: int, reader: str, pins: str | None) -> EidClient:
    """Start the eID client on the port the broker's step-up page links to. ``pins`` None: standard input stays
    open, the client waits at the PIN until the test writes it (``client.process.stdin``)."""
    log_path = tmp_path / "eid-client.log"
    process = subprocess.Popen([str(EID_BROKER), "eid-client", "--port", str(port), "--reader", reader, "--pin-stdin",
                                "--wait", "5"], stdin=subprocess.PIPE, stdout=open(log_path, "wb"),
                               stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdin is not None
    if pins is not None:
        process.stdin.write(pins.encode())
        process.stdin.close()
    wait_for_port(port, CLIENT_TIMEOUT, alive=lambda: process.poll() is None)
    return EidClient(port, process, log_path)


@pytest.fixture
def eid_client(tmp_path: Path, eid_client_port: int, pcscd) -> Iterator[Callable[..., EidClient]]:
    started: list[EidClient] = []

    def start(pins: str | None = "123456\n") -> EidClient:
        started.append(eid_client_at(tmp_path, eid_client_port, pcscd.reader_names[0], pins))
        return started[-1]

    yield start
    for client in started:
        stop_eid_client(client)


def log_in(page: Page, broker: LiveBroker) -> None:
    page.goto(broker.url + "/login")
    page.get_by_label("Benutzername").fill(USERNAME)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mein Konto")
    expect(page.locator("dl.profile").first).to_contain_text("niedrig")


def open_step_up(page: Page) -> None:
    page.get_by_role("button", name="Mit dem Personalausweis bestätigen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Identität mit dem Personalausweis bestätigen")
    expect(page.locator("#step-up-progress")).to_contain_text("Warten auf Ihre eID-Software")
    assert_accessible(page)


def follow_eid_link(page: Page) -> None:
    with page.expect_navigation(timeout=60_000):
        page.get_by_role("link", name="eID-Software öffnen und mit dem Personalausweis bestätigen").click()


def test_password_login_then_step_up_with_the_card_through_pcscd(page: Page, broker_with_eid, eid_client, vpcd):
    vpcd(VirtualCard(erika()))
    client = eid_client()
    log_in(page, broker_with_eid)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    with page.expect_response("**/eid/status", timeout=5_000) as polled:  # the page's script polls, CSP allows it
        open_step_up(page)
    assert polled.value.json()["progress"] == "waiting_for_client"
    follow_eid_link(page)
    assert problems == []
    expect(page.get_by_role("heading", level=1)).to_have_text("Mein Konto")
    expect(page.get_by_role("status").first).to_contain_text("Vertrauensniveau „hoch“")
    profile = page.locator("dl.profile").first
    expect(profile).to_contain_text("hoch")
    card_data = page.locator("#eid-data")
    expect(card_data).to_contain_text("ERIKA")
    expect(card_data).to_contain_text("MUSTERMANN")
    expect(card_data).to_contain_text("1984-08-12")
    expect(page.get_by_role("table", name="Ihre letzten Anmeldungen")).to_contain_text("Personalausweis")
    assert_accessible(page)
    assert "123456" not in client.log()


def test_a_refresh_address_opened_in_another_browser(page: Page, chromium: Browser, broker_with_eid, eid_client, vpcd):
    vpcd(VirtualCard(erika()))
    eid_client()
    log_in(page, broker_with_eid)
    open_step_up(page)
    captured: list[str] = []

    def hold(route: Route) -> None:
        """The eID client runs, but its redirect to the RefreshAddress is kept from this browser."""
        answer = route.fetch(max_redirects=0, timeout=60_000)
        captured.append(answer.headers["location"])
        route.fulfill(status=204)

    page.route("**/eID-Client?*", hold)
    page.get_by_role("link", name="eID-Software öffnen und mit dem Personalausweis bestätigen").click()
    for _ in range(600):
        if captured:
            break
        page.wait_for_timeout(100)
    assert captured and "/eid/refresh?ref=" in captured[0], captured
    page.unroute("**/eID-Client?*")

    other: BrowserContext = chromium.new_context(ignore_https_errors=True, locale="de-DE")
    try:
        intruder = other.new_page()  # another browser, logged in to the same account even
        log_in(intruder, broker_with_eid)
        intruder.goto(captured[0])
        expect(intruder.get_by_role("alert")).to_contain_text("in einem anderen Browser")
        assert_accessible(intruder)
        intruder.goto(broker_with_eid.url + "/account")
        expect(intruder.locator("dl.profile").first).to_contain_text("niedrig")
    finally:
        other.close()
    page.goto(captured[0])  # the browser that started it
    expect(page.locator("dl.profile").first).to_contain_text("hoch")


def test_a_wrong_pin_shows_the_tries_left(page: Page, broker_with_eid, eid_client, vpcd):
    vpcd(VirtualCard(erika()))
    eid_client("111111\n")
    log_in(page, broker_with_eid)
    open_step_up(page)
    follow_eid_link(page)
    expect(page.get_by_role("alert")).to_contain_text("Die PIN war falsch. Sie haben noch 2 Versuche.")
    assert_accessible(page)
    page.goto(broker_with_eid.url + "/account")
    expect(page.locator("dl.profile").first).to_contain_text("niedrig")


def test_cancelled_in_the_eid_client(page: Page, broker_with_eid, eid_client, vpcd):
    vpcd(VirtualCard(erika()))
    eid_client("")  # no PIN given: the client cancels
    log_in(page, broker_with_eid)
    open_step_up(page)
    follow_eid_link(page)
    expect(page.get_by_role("alert")).to_contain_text("abgebrochen")
    assert_accessible(page)


def test_a_forged_card_is_refused(page: Page, broker_with_eid, eid_client, vpcd):
    other = pki.create_test_pki(today=erika().current_date)
    forged = dataclasses.replace(pki.create_card_profile(other, today=erika().current_date),
                                 trust_points=erika().trust_points)
    vpcd(VirtualCard(forged))
    eid_client()
    log_in(page, broker_with_eid)
    open_step_up(page)
    follow_eid_link(page)
    expect(page.get_by_role("alert")).to_contain_text("nicht als echter, gültiger deutscher Personalausweis")
    page.goto(broker_with_eid.url + "/account")
    expect(page.locator("dl.profile").first).to_contain_text("niedrig")


def test_eid_first_account_then_a_renewed_card_linked_with_the_password(page: Page, broker_with_eid, eid_client,
                                                                         vpcd, pcscd):
    first = vpcd(VirtualCard(erika()))
    eid_client("123456\n123456\n")
    page.goto(broker_with_eid.url + "/?lang=en")
    page.get_by_role("button", name="Log in or create an account with the ID card").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your identity with your ID card")
    expect(page.get_by_text("Your account is created from the data of your ID card")).to_be_visible()
    assert_accessible(page)
    with page.expect_navigation(timeout=60_000):
        page.get_by_role("link", name="Open the eID client and confirm with your ID card").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account with your ID card")
    expect(page.locator("dl.profile")).to_contain_text("MUSTERMANN")
    assert_accessible(page)
    page.get_by_label("Username").fill("erika.new")
    page.get_by_label("E-mail address").fill("erika.new@example.de")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("Please agree that the data from your ID card are stored.")
    assert_accessible(page)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_label("Store the data read from my ID card in my account.").check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My account")
    expect(page.locator("dl.profile").first).to_contain_text("high")

    # A renewed card (new chip keys, so a new pseudonym): linked after the password is confirmed.
    first.stop()
    wait_for_card(pcscd.reader_names[0], present=False, daemon=pcscd)
    vpcd(VirtualCard(other_card("ERIKA", "MUSTERMANN")))
    page.get_by_role("button", name="Confirm with the ID card").click()
    with page.expect_navigation(timeout=60_000):
        page.get_by_role("link", name="Open the eID client and confirm with your ID card").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Link your new ID card")
    assert_accessible(page)
    page.get_by_label("Current password").fill("a wrong password")
    page.get_by_role("button", name="Link the new ID card").click()
    expect(page.get_by_role("alert")).to_contain_text("The current password is wrong.")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_role("button", name="Link the new ID card").click()
    expect(page.get_by_role("status").first).to_contain_text("Your new ID card is now linked")
    expect(page.locator("dl.profile").first).to_contain_text("high")


NO_CLIENT = "Auf diesem Gerät läuft keine eID-Software."
CLIENT_LINK = "eID-Software öffnen und mit dem Personalausweis bestätigen"


def test_the_page_says_when_no_eid_client_runs_and_notices_when_one_starts(page: Page, broker_with_eid, eid_client,
                                                                            vpcd):
    vpcd(VirtualCard(erika()))
    log_in(page, broker_with_eid)
    open_step_up(page)
    missing = page.get_by_role("alert")
    expect(missing).to_contain_text(NO_CLIENT)
    expect(missing).to_contain_text("Starten Sie die AusweisApp")
    assert_accessible(page)
    eid_client()
    expect(missing).to_be_hidden(timeout=10_000)  # the page asks again every 3 seconds
    follow_eid_link(page)
    expect(page.locator("dl.profile").first).to_contain_text("hoch")


def test_the_page_shows_the_progress_after_the_eid_client_link_was_followed(page: Page, broker_with_eid, eid_client,
                                                                            vpcd):
    vpcd(VirtualCard(erika()))
    client = eid_client(pins=None)  # waits at the PIN
    log_in(page, broker_with_eid)
    with page.expect_request("**/eID-Client?Status") as probed:
        open_step_up(page)
    assert probed.value.url == f"{client.url}?Status"
    page.wait_for_timeout(500)
    expect(page.get_by_text(NO_CLIENT)).to_be_hidden()
    # The browser waits for the eID client's answer; meanwhile the step-up page is still shown, its script runs and
    # follows the progress (Playwright's locators wait for the navigation: the window title is read instead).
    browser_tab = page.context.new_cdp_session(page)
    page.get_by_role("link", name=CLIENT_LINK).click(no_wait_after=True)
    polled: list[str] = []
    page.on("request", lambda r: polled.append(r.url) if r.url.endswith("/eid/status") else None)
    pin_asked = "Bitte prüfen Sie die Anfrage in Ihrer eID-Software und geben Sie dort Ihre PIN ein."
    for _ in range(300):
        shown = browser_tab.send("Target.getTargetInfo")["targetInfo"]
        if shown["title"].startswith(pin_asked):
            break
        time.sleep(0.1)
    assert shown["title"] == f"{pin_asked} – Identität mit dem Personalausweis bestätigen – Bürgerkonto", shown
    assert shown["url"].endswith("/eid/step-up") and polled  # the page, still there, polls the status
    assert client.process.stdin is not None
    client.process.stdin.write(b"123456\n")
    client.process.stdin.flush()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mein Konto", timeout=60_000)
    expect(page.locator("dl.profile").first).to_contain_text("hoch")


@pytest.fixture
def public_broker_page(playwright_instance, broker_with_eid) -> Iterator[Callable[[bool], Page]]:
    """Chromium that takes the broker for a public web site (``--ip-address-space-overrides``), so Local Network
    Access applies to the page's requests to the eID client on 127.0.0.1 — as for a real broker on the internet;
    with ``allowed`` the citizen has granted the page the "loopback-network" permission."""
    port = broker_with_eid.url.rsplit(":", 1)[1]
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_FLAGS, f"--ip-address-space-overrides=127.0.0.1:{port}=public"])

    def open_page(allowed: bool) -> Page:
        context = browser.new_context(ignore_https_errors=True, locale="de-DE")
        page = context.new_page()
        if allowed:
            cdp = context.new_cdp_session(page)
            browser_context = cdp.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
            cdp.send("Browser.grantPermissions", {"permissions": ["loopbackNetwork"], "origin": broker_with_eid.url,
                                                  "browserContextId": browser_context})
        return page

    try:
        yield open_page
    finally:
        browser.close()


def test_on_a_public_site_the_check_needs_the_loopback_permission(public_broker_page, broker_with_eid, eid_client,
                                                                   vpcd):
    vpcd(VirtualCard(erika()))
    eid_client()
    refused = public_broker_page(allowed=False)  # headless Chromium answers the permission prompt with "no"
    log_in(refused, broker_with_eid)
    open_step_up(refused)
    expect(refused.get_by_role("status").filter(has_text="Ihr Browser hat dieser Seite nicht erlaubt")).to_be_visible()
    expect(refused.get_by_text(NO_CLIENT)).to_be_hidden()  # it does not claim what it could not see
    assert_accessible(refused)

    allowed = public_broker_page(allowed=True)
    log_in(allowed, broker_with_eid)
    with allowed.expect_response("**/eID-Client?Status") as probed:
        open_step_up(allowed)
    assert probed.value.status == 200  # the client answered (the page's "no-cors" fetch would not need CORS headers)
    allowed.wait_for_timeout(500)
    expect(allowed.locator("#eid-client-missing")).to_be_hidden()
    expect(allowed.locator("#eid-client-unknown")).to_be_hidden()
    follow_eid_link(allowed)  # a top-level navigation to 127.0.0.1 needs no permission
    expect(allowed.locator("dl.profile").first).to_contain_text("hoch")
