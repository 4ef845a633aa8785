import json

from tests.broker.conftest import text
from tests.broker.helpers import login, register_and_confirm


def test_healthz(app, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(text(response)) == {"status": "ok", "database": "ok"}


def test_metrics_count_logins_by_outcome_and_level(app, client, mailbox):
    register_and_confirm(client, mailbox, "Erika", "erika@example.de")
    login(client, "Erika", "ganz sicher falsch 1")
    login(client, "Erika")
    metrics = text(client.get("/metrics"))
    assert 'eid_broker_logins_total{level="low",outcome="success"} 1.0' in metrics
    assert 'eid_broker_logins_total{level="none",outcome="failure"} 1.0' in metrics
    assert 'eid_broker_registrations_total{outcome="created"} 1.0' in metrics


def test_security_headers(app, client):
    response = client.get("/login")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_unknown_page_and_wrong_method(app, client):
    missing = client.get("/nirgendwo")
    assert missing.status_code == 404 and "Diese Seite gibt es nicht." in text(missing)
    wrong_method = client.flask.put("/login")
    assert wrong_method.status_code == 405

