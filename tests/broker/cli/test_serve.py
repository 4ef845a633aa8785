"""``eid-broker serve`` and ``eid-broker demo`` as real processes."""

import http.cookiejar
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509

from tests.support.network import free_port, wait_for_port

EID_BROKER = str(Path(sys.executable).parent / "eid-broker")


def https_get(url: str, cafile: Path) -> tuple[int, bytes]:
    context = ssl.create_default_context(cafile=str(cafile))  # the self-signed certificate, host name checked
    with urllib.request.urlopen(url, context=context, timeout=10) as response:
        return response.status, response.read()


def test_serve_https_with_generated_certificate(live_broker):
    certificate = live_broker.data_dir / "tls-certificate.pem"
    status, body = https_get(live_broker.url + "/healthz", certificate)
    assert status == 200 and b'"status":"ok"' in body
    status, _ = https_get(live_broker.url.replace("127.0.0.1", "localhost") + "/healthz", certificate)
    assert status == 200
    parsed = x509.load_pem_x509_certificate(certificate.read_bytes())
    assert parsed.public_key().key_size == 3072


def test_serve_with_several_workers_adds_up_metrics(tmp_path, mailbox):
    from tests.support.broker import start_broker, stop_broker

    broker = start_broker(tmp_path / "b", mailbox, extra_args=["--workers", "2", "--http"])
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    try:
        page = opener.open(broker.url + "/login", timeout=10).read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        for attempt in range(6):  # over new connections, so both workers answer some
            form = urllib.parse.urlencode({"csrf_token": token, "username": f"nobody{attempt}",
                                           "password": "wrong password"}).encode()
            with pytest.raises(urllib.error.HTTPError) as refused:
                opener.open(broker.url + "/login", data=form, timeout=10)
            assert refused.value.code == 400
        metrics = opener.open(broker.url + "/metrics", timeout=10).read().decode()
        assert 'eid_broker_logins_total{level="none",outcome="failure"} 6.0' in metrics
    finally:
        stop_broker(broker)
    log = broker.log()
    assert len(set(re.findall(r'"message": "Booting worker with pid: (\d+)"', log))) == 2
    # One JSON line per login request: the event with the request's route and status, no access-log line.
    logins = [json.loads(line) for line in log.splitlines() if '"route": "/login"' in line]
    assert [(entry["message"], entry["method"], entry["status"]) for entry in logins] == [
        ("request", "GET", 200)] + [("login failed", "POST", 400)] * 6
    assert "gunicorn.access" not in log


@pytest.mark.smtp
def test_demo_prints_its_url_and_serves(tmp_path):
    port = free_port()
    process = subprocess.Popen([EID_BROKER, "--data-dir", str(tmp_path / "demo"), "demo", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "DATABASE_URL": ""})
    try:
        first_line = process.stdout.readline()
        assert first_line.strip() == f"eid-broker demo running at https://127.0.0.1:{port}/"
        wait_for_port(port, 60, alive=lambda: process.poll() is None)
        certificate = tmp_path / "demo" / "tls-certificate.pem"
        status, page = https_get(f"https://127.0.0.1:{port}/login", certificate)
        assert status == 200 and b"Anmelden" in page
        status, mailbox_page = https_get(f"https://127.0.0.1:{port}/demo/mailbox", certificate)
        assert status == 200 and b"Demo-Postfach" in mailbox_page
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_limited_pages_answer_with_rate_limits_switched_off(tmp_path, mailbox):
    """Regression: a disabled Flask-Limiter is referenced only weakly; once collected, every limited view
    failed."""
    from tests.support.broker import start_broker, stop_broker

    broker = start_broker(tmp_path / "b", mailbox, extra_env={"EID_BROKER_RATELIMIT_ENABLED": "false"},
                          extra_args=["--http"])
    try:
        statuses = {urllib.request.urlopen(broker.url + path, timeout=10).status
                    for path in ("/login", "/register", "/reset") for _ in range(5)}
    finally:
        stop_broker(broker)
    assert statuses == {200}
