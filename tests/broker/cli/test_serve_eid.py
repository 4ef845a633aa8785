"""``eid-broker serve`` with the eID function: gunicorn with two workers and the eID listener process beside
them. A citizen's step-up goes through whichever worker answers (they share the eID sessions through the
database) and the one listener, also in the no-PSK mode that needs its single TLS session cache."""

from __future__ import annotations

import http.cookiejar
import os
import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.broker.step_up_world import run_client
from tests.support.broker import start_broker, stop_broker

pytestmark = pytest.mark.smtp

EID_BROKER = Path(sys.executable).parent / "eid-broker"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PASSWORD = "Eine Rose ist eine Rose 1913"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.parametrize("psk", ["true", "false"], ids=["psk", "no-psk"])
def test_step_up_with_two_workers_and_one_listener(tmp_path, mailbox, psk):
    broker = start_broker(tmp_path / "b", mailbox, extra_env={"EID_BROKER_EID_PSK": psk},
                          extra_args=["--workers", "2"])
    try:
        subprocess.run([str(EID_BROKER), "--data-dir", str(broker.data_dir), "users", "add", "--username", "erika",
                        "--email", "erika@example.de", "--password-stdin"], input=PASSWORD.encode(), check=True,
                       capture_output=True, env={**os.environ, "DATABASE_URL": ""})
        context = ssl.create_default_context(cafile=str(broker.data_dir / "tls-certificate.pem"))
        browser = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect(),
                                              urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

        def get(path: str) -> tuple[int, str, dict]:
            try:
                with browser.open(broker.url + path, timeout=30) as response:
                    return response.status, response.read().decode(), dict(response.headers)
            except urllib.error.HTTPError as answer:
                return answer.code, answer.read().decode(), dict(answer.headers)

        def post(path: str, form: dict[str, str], form_page: str) -> int:
            token = CSRF.search(get(form_page)[1]).group(1)
            data = urllib.parse.urlencode({"csrf_token": token, **form}).encode()
            request = urllib.request.Request(broker.url + path, data, headers={"Referer": broker.url + "/"})
            try:
                with browser.open(request, timeout=30) as response:
                    return response.status
            except urllib.error.HTTPError as answer:
                return answer.code

        assert post("/login", {"username": "erika", "password": PASSWORD}, "/login") == 303
        assert post("/eid/step-up", {}, "/account") == 303
        status, page, _ = get("/eid/step-up")
        assert status == 200
        outcome = run_client(page)
        assert outcome.ok, outcome
        status, _, headers = get(outcome.location.removeprefix(broker.url))
        assert status == 303 and headers["Location"] == "/account"
        account = get("/account")[1]
        assert "<dt>Aktuelles Vertrauensniveau</dt><dd>hoch</dd>" in account
        assert "<dt>Vornamen</dt><dd>ERIKA</dd>" in account
    finally:
        stop_broker(broker)
    log = broker.log()
    assert len(set(re.findall(r'"message": "Booting worker with pid: (\d+)"', log))) == 2
    assert "Traceback" not in log


def test_the_demo_runs_the_eid_client_with_the_virtual_card(tmp_path):
    from tests.support.network import free_port, wait_for_port

    port, client_port = free_port(), free_port()
    process = subprocess.Popen([str(EID_BROKER), "--data-dir", str(tmp_path / "demo"), "demo", "--port", str(port),
                                "--eid-client-port", str(client_port)], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "DATABASE_URL": ""})
    try:
        banner = [process.stdout.readline() for _ in range(6)]
        assert "enter its PIN 123456" in banner[4] and f"port {client_port}" in banner[4]
        assert banner[5].strip() == f"the broker's log: {tmp_path / 'demo' / 'demo.log'}"
        wait_for_port(port, 60, alive=lambda: process.poll() is None)
        wait_for_port(client_port, 30, alive=lambda: process.poll() is None)
        client_line = process.stdout.readline()
        assert f"eID client listening on http://127.0.0.1:{client_port}/eID-Client" in client_line
        assert "erika-mustermann.json" in client_line
    finally:
        process.terminate()
        process.wait(timeout=30)
    left = subprocess.run(["pgrep", "-f", "--", f"eid-client --port {client_port}"], capture_output=True)
    assert left.returncode == 1 and left.stdout == b"", "the demo's eID client outlived the demo"
