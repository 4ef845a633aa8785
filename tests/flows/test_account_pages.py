"""A citizen in Chromium against the real server (eid-broker serve, HTTPS): register, read the mail from the
SMTP server, confirm, log in, see the account in German and English, with axe-core on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support.broker import LiveBroker
from tests.support.browser import assert_accessible
from tests.support.smtp import Mailbox, body

pytestmark = [pytest.mark.browser, pytest.mark.smtp]

USERNAME = "Erika <Müller> & Söhne"
EMAIL = "erika@example.de"
PASSWORD = "Eine Rose ist eine Rose 1913"


def open_checked(page: Page, url: str) -> None:
    page.goto(url)
    assert_accessible(page)


def mailed_link(mailbox: Mailbox, broker: LiveBroker, path: str) -> str:
    message = mailbox.wait_for(EMAIL, where=lambda m: f"{broker.url}{path}" in body(m))
    match = re.search(re.escape(broker.url + path) + r"[A-Za-z0-9_-]+", body(message))
    assert match
    return match.group(0)


def test_register_verify_login_account_in_german_and_english(page: Page, live_broker: LiveBroker, mailbox: Mailbox):
    url = live_broker.url
    open_checked(page, url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ihr Bürgerkonto")

    page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name="Registrieren").click()
    assert_accessible(page)
    page.get_by_label("Benutzername").fill(USERNAME)
    page.get_by_label("E-Mail-Adresse").fill(EMAIL)
    page.get_by_label("Passwort", exact=True).fill("kurz")
    page.get_by_label("Passwort wiederholen").fill("kurz")
    page.get_by_role("button", name="Konto anlegen").click()
    expect(page.get_by_role("alert")).to_contain_text("mindestens 8 Zeichen")
    expect(page.get_by_label("Passwort", exact=True)).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)  # the page with error messages tied to their fields

    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    page.get_by_label("Passwort wiederholen").fill(PASSWORD)
    page.get_by_role("button", name="Konto anlegen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bitte sehen Sie in Ihre E-Mails")
    assert_accessible(page)

    open_checked(page, mailed_link(mailbox, live_broker, "/verify/"))
    page.get_by_role("button", name="E-Mail-Adresse bestätigen").click()
    expect(page.get_by_role("status")).to_contain_text("Ihre E-Mail-Adresse ist bestätigt")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden")
    assert_accessible(page)

    page.get_by_label("Benutzername").fill(USERNAME)
    page.get_by_label("Passwort").fill("falsches Passwort 1")
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("alert")).to_contain_text("Benutzername oder Passwort ist falsch.")
    assert_accessible(page)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Mein Konto")
    expect(page.locator("dl.profile")).to_contain_text(USERNAME)
    expect(page.get_by_role("table", name="Ihre letzten Anmeldungen")).to_contain_text("Passwort")
    expect(page.get_by_role("table", name="Ihre letzten Anmeldungen")).to_contain_text("niedrig")
    assert_accessible(page)

    page.get_by_role("navigation", name="Sprache").get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("My account")
    expect(page.get_by_role("table", name="Your latest logins")).to_contain_text("low")
    assert_accessible(page)

    for path, heading in (("/account/password", "Change password"), ("/account/delete", "Delete account"),
                          ("/", "Your citizen account")):
        open_checked(page, url + path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_contain_text("You are logged out.")
    assert PASSWORD not in live_broker.log()
    assert '"route": "/verify/<token>"' in live_broker.log()


def test_every_other_page_is_accessible_in_both_languages(page: Page, live_broker: LiveBroker, mailbox: Mailbox):
    url = live_broker.url
    for language in ("de", "en"):
        for path in ("/login", "/register", "/reset", "/verify/unbekannt", "/reset/unbekannt", "/gibt-es-nicht"):
            open_checked(page, f"{url}{path}?lang={language}")
            expect(page.locator("html")).to_have_attribute("lang", language)
    page.goto(url + "/reset?lang=de")
    page.get_by_label("Benutzername").fill("niemand")
    page.get_by_role("button", name="Link senden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bitte sehen Sie in Ihre E-Mails")
    assert_accessible(page)


def test_reset_flow_in_the_browser(page: Page, live_broker: LiveBroker, mailbox: Mailbox):
    import subprocess
    import sys
    from pathlib import Path

    subprocess.run([str(Path(sys.executable).parent / "eid-broker"), "--data-dir", str(live_broker.data_dir),
                    "users", "add", "--username", "max", "--email", EMAIL, "--password-stdin"],
                   input=PASSWORD + "\n", text=True, check=True, capture_output=True)
    page.goto(live_broker.url + "/login")
    page.get_by_role("link", name="Passwort vergessen?").click()
    page.get_by_label("Benutzername").fill("MAX")
    page.get_by_role("button", name="Link senden").click()
    open_checked(page, mailed_link(mailbox, live_broker, "/reset/"))
    new_password = "Neues Passwort fuer Max 7"
    page.get_by_label("Neues Passwort").fill(new_password)
    page.get_by_label("Passwort wiederholen").fill(new_password)
    page.get_by_role("button", name="Neues Passwort setzen").click()
    expect(page.get_by_role("status")).to_contain_text("Ihr neues Passwort ist gesetzt")
    page.get_by_label("Benutzername").fill("max")
    page.get_by_label("Passwort").fill(new_password)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mein Konto")
    assert new_password not in live_broker.log() and PASSWORD not in live_broker.log()


def test_demo_mailbox_page(page: Page, tmp_path, mailbox: Mailbox):
    from email.message import EmailMessage

    from tests.support.broker import start_broker, stop_broker

    mails = tmp_path / "mailbox"
    mails.mkdir()
    message = EmailMessage()
    message["To"], message["Subject"] = EMAIL, "Bitte bestätigen Sie Ihre E-Mail-Adresse"
    message.set_content("Hallo <Erika>,\nhttps://127.0.0.1/verify/abc\n")
    (mails / "20260101-000000-0001.eml").write_bytes(bytes(message))
    broker = start_broker(tmp_path / "demo", mailbox, extra_env={"EID_BROKER_DEMO_MAILBOX_DIR": str(mails)})
    try:
        open_checked(page, broker.url + "/demo/mailbox")
        expect(page.get_by_role("heading", level=2)).to_have_text("Bitte bestätigen Sie Ihre E-Mail-Adresse")
        expect(page.locator("pre")).to_contain_text("Hallo <Erika>,")
    finally:
        stop_broker(broker)
