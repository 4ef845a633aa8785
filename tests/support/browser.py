"""Debian's headless Chromium through Playwright, and axe-core accessibility checks.

axe-core comes from ``AXE_CORE_JS`` (scripts/test.sh installs it with npm); without that variable the
fixture uses ``.cache/npm/node_modules/axe-core/axe.min.js`` and installs it there with npm if missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE_FALLBACK = ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
# What the checks cover: WCAG 2.x A and AA, and axe's best practices; failing on these impacts.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
FAILING_IMPACTS = ("serious", "critical")


@cache
def axe_source() -> str:
    configured = os.environ.get("AXE_CORE_JS")
    path = Path(configured) if configured else AXE_FALLBACK
    if not path.exists() and not configured:
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is missing: it installs axe-core (Debian package npm; scripts/test.sh installs it)")
        subprocess.run([npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix",
                        str(ROOT / ".cache" / "npm"), "axe-core@4"], check=True)
    if not path.exists():
        pytest.fail(f"axe-core not found at {path}")
    return path.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now."""
    # evaluate() runs outside the page's Content-Security-Policy, which forbids scripts.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    results = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS)
    return [
        {"id": violation["id"], "impact": violation["impact"], "help": violation["help"],
         "targets": [node["target"] for node in violation["nodes"]]}
        for violation in results["violations"] if violation["impact"] in FAILING_IMPACTS
    ]


def assert_accessible(page: Page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"axe-core findings on {page.url}: {violations}"


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing (Debian package chromium; scripts/test.sh installs it)")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def chromium(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def browser_context(chromium: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (cookies, storage) that accepts the broker's self-signed certificate."""
    context = chromium.new_context(ignore_https_errors=True, locale="de-DE")
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(browser_context: BrowserContext) -> Page:
    return browser_context.new_page()
