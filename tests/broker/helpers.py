"""Steps the broker tests share: registering, confirming and logging in through the pages."""

from __future__ import annotations

import re

from tests.broker.conftest import PUBLIC_URL, Client
from tests.support.smtp import Mailbox, body

PASSWORD = "Lange Rede, kurzer Sinn 42"


def link_in(mailbox: Mailbox, to: str, path: str) -> str:
    """The path of the broker link to ``path`` in the newest mail to ``to``."""
    message = mailbox.wait_for(to, where=lambda m: f"{PUBLIC_URL}{path}" in body(m))
    messages = [m for m in mailbox.to(to) if f"{PUBLIC_URL}{path}" in body(m)]
    match = re.search(re.escape(PUBLIC_URL) + r"(" + re.escape(path) + r"[A-Za-z0-9_-]+)", body(messages[-1]))
    assert match and message is not None
    return match.group(1)


def register(client: Client, username: str, email: str, password: str = PASSWORD):
    return client.submit("/register", {"username": username, "email": email, "password": password,
                                       "password_repeat": password})


def register_and_confirm(client: Client, mailbox: Mailbox, username: str, email: str,
                         password: str = PASSWORD) -> None:
    response = register(client, username, email, password)
    assert response.status_code == 303, response.get_data(as_text=True)
    link = link_in(mailbox, email, "/verify/")
    assert client.submit(link, {}).status_code == 303


def login(client: Client, username: str, password: str = PASSWORD):
    return client.submit("/login", {"username": username, "password": password})
