"""Outgoing mail over SMTP (smtplib): the broker's verification and password-reset links."""

from __future__ import annotations

import logging
import smtplib
import ssl
from concurrent.futures import Future, ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import formatdate, make_msgid


logger = logging.getLogger("broker.mail")


class MailError(Exception):
    """The SMTP server could not be reached or refused the message."""


class Mailer:
    def __init__(self, host: str, port: int, sender: str, *, starttls: bool = False, username: str = "",
                 password: str = "", timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.starttls = starttls
        self.username = username
        self._password = password
        self.timeout = timeout
        self._background: ThreadPoolExecutor | None = None

    def compose(self, to: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain="eid-broker")
        message.set_content(body)
        return message

    def send(self, to: str, subject: str, body: str) -> None:
        message = self.compose(to, subject, body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self._password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise MailError(f"sending mail through {self.host}:{self.port} failed: "
                            f"{type(error).__name__}") from None

    def send_later(self, to: str, subject: str, body: str) -> Future[None]:
        """Send from a background thread, so that the answer's timing does not tell whether a mail went out
        (password reset). Failures are logged."""
        if self._background is None:
            self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail")
        future = self._background.submit(self.send, to, subject, body)
        future.add_done_callback(_log_failure)
        return future


def _log_failure(future: Future[None]) -> None:
    error = future.exception()
    if error is not None:
        logger.error("background mail failed", extra={"fields": {"error": str(error)}})
