import io
import json
import logging

from broker.logs import JsonFormatter, json_handler, log
from tests.broker.helpers import PASSWORD, login, register_and_confirm


def test_one_json_object_per_line_with_fields():
    stream = io.StringIO()
    logger = logging.getLogger("test.logs.fields")
    logger.addHandler(json_handler(stream))
    logger.setLevel(logging.INFO)
    log(logger, "login", account_id=7, level="low")
    log(logger, "odd", logging.WARNING, message="not overwritten", note="äö")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "login" and first["account_id"] == 7 and first["level"] == "info"
    assert second["message"] == "odd" and second["level"] == "warning" and second["note"] == "äö"
    assert first["time"].endswith("+00:00")


def test_exceptions_are_kept_in_the_object():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys
        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(record))
    assert "RuntimeError: boom" in entry["exception"]


def test_no_secret_reaches_the_logs(app, client, mailbox):
    stream = io.StringIO()
    handler = json_handler(stream)
    root = logging.getLogger("broker")  # the test's own SMTP server logs mail content on other loggers
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        register_and_confirm(client, mailbox, "Erika", "erika@example.de")
        login(client, "Erika", "falsches Passwort 99")
        login(client, "Erika")
        client.submit("/reset", {"username": "Erika"})
        mailbox.wait_for("erika@example.de", where=lambda m: "/reset/" in m.get_body().get_content())
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    output = stream.getvalue()
    entries = [json.loads(line) for line in output.splitlines()]
    assert any(entry["message"] == "login" for entry in entries)
    assert any(entry.get("route") == "/verify/<token>" for entry in entries)
    for secret in (PASSWORD, "falsches Passwort 99", client.flask.get_cookie("__Host-eid-broker-session").value):
        assert secret not in output
    for message in mailbox.messages:
        token = message.get_body().get_content().split("https://broker.example/")[1].split()[0].split("/")[-1]
        assert token not in output


def test_a_login_is_one_line_with_outcome_level_and_request(app, client, mailbox):
    register_and_confirm(client, mailbox, "Erika", "erika@example.de")
    stream = io.StringIO()
    handler = json_handler(stream)
    root = logging.getLogger("broker")
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        failed = login(client, "Erika", "falsches Passwort 99")
        succeeded = login(client, "Erika")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert failed.status_code == 400 and succeeded.status_code == 303
    posts = [entry for entry in map(json.loads, stream.getvalue().splitlines())
             if entry.get("route") == "/login" and entry.get("method") == "POST"]
    assert [(entry["message"], entry["outcome"], entry["status"]) for entry in posts] == [
        ("login failed", "failure", 400), ("login", "success", 303)]
    success = posts[1]
    assert success["logger"] == "broker.login" and success["level"] == "info"
    assert success["assurance_level"] == "low" and success["auth_method"] == "password"
    assert success["account_id"] >= 1 and success["client"] == "192.0.2.10" and success["duration_ms"] >= 0
    assert "account_id" not in posts[0]
