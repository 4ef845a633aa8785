import pytest

from broker.mail import MailError, Mailer
from tests.support.network import free_port
from tests.support.smtp import body

pytestmark = pytest.mark.smtp


def test_mail_reaches_the_smtp_server(mailbox):
    mailer = Mailer("127.0.0.1", mailbox.port, "Bürgerkonto <noreply@broker.example>")
    mailer.send("erika@example.de", "Grüße – Test", "Hallo Erika,\nZeile zwei äöü\n")
    message = mailbox.wait_for("erika@example.de")
    assert message["Subject"] == "Grüße – Test"
    assert message["From"] == "Bürgerkonto <noreply@broker.example>"
    assert body(message).replace("\r\n", "\n") == "Hallo Erika,\nZeile zwei äöü\n"
    assert message["Message-ID"] and message["Date"]


def test_background_sending(mailbox):
    future = Mailer("127.0.0.1", mailbox.port, "noreply@broker.example").send_later("max@example.de", "s", "b")
    future.result(timeout=10)
    assert mailbox.wait_for("max@example.de")["Subject"] == "s"


def test_unreachable_server_is_a_mail_error():
    with pytest.raises(MailError, match="ConnectionRefusedError"):
        Mailer("127.0.0.1", free_port(), "noreply@broker.example", timeout=2).send("a@example.de", "s", "b")


def test_header_injection_is_impossible(mailbox):
    with pytest.raises(ValueError):
        Mailer("127.0.0.1", mailbox.port, "noreply@broker.example").send("a@example.de\r\nBcc: x@evil.example",
                                                                         "s", "b")
