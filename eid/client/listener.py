"""The eID client's local web endpoint (BSI TR-03124-1 §2.2): ``http://127.0.0.1:24727/eID-Client?tcTokenURL=…``.

The browser opens this URL (a link on the provider's page); the client runs the authentication while the
browser waits and then answers ``303 See Other`` to the refresh URL (or the CommunicationErrorAddress), or
an error status when there is nowhere to send the browser (400, 404). One authentication at a time: there
is one card. It listens on loopback only.

``GET /eID-Client?Status`` (§2.2.1.2) answers at once, also while an authentication runs, with what the
client is (``text/plain`` lines ``Name: …``, as AusweisApp answers; ``?Status=json`` the same as JSON), so
that a provider's page can tell whether an eID client is running before the citizen follows its link. Only this
answer carries ``Access-Control-Allow-Origin`` (§2.2.2.1: the Status action MAY, all others MUST NOT); an
``OPTIONS`` preflight for it is answered too, with ``Access-Control-Allow-Private-Network`` for browsers that
still send Private Network Access preflights. Every answer names the client and the version of the guideline
in its ``Server`` header (§2.2.2.1).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from eid.client.authentication import Outcome
from eid.client.states import USER_AGENT

log = logging.getLogger(__name__)

DEFAULT_PORT = 24727
PATH = "/eID-Client"
GUIDELINE = "TR-03124-1/1.4"
VERSION = f"{USER_AGENT.version_major}.{USER_AGENT.version_minor}.{USER_AGENT.version_subminor or 0}"
STATUS = {
    "Name": USER_AGENT.name,
    "Implementation-Title": USER_AGENT.name,
    "Implementation-Vendor": "eid-broker",
    "Implementation-Version": VERSION,
    "Specification-Title": "TR-03124-1",
    "Specification-Vendor": "Federal Office for Information Security",
    "Specification-Version": "1.4",
}
CORS_FOR_STATUS = {"Access-Control-Allow-Origin": "*"}


class EidClientListener(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, authenticate: Callable[[str], Outcome], port: int = DEFAULT_PORT,
                 on_outcome: Callable[[Outcome], None] | None = None) -> None:
        self.authenticate = authenticate
        self.on_outcome = on_outcome
        self.busy = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def get_request(self):
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), name="eid-client", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "eid-broker-eID-Client"
    sys_version = ""
    server: EidClientListener

    def version_string(self) -> str:
        return f"{USER_AGENT.name.replace(' ', '-')}/{VERSION} ({GUIDELINE})"

    def _status_query(self) -> dict[str, list[str]] | None:
        """The query of a Status action, else None."""
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        return query if parts.path == PATH and "Status" in query else None

    def do_OPTIONS(self) -> None:
        if self._status_query() is None:
            self._answer(405, "only the Status action takes a preflight")
            return
        self._answer(204, "", {**CORS_FOR_STATUS, "Access-Control-Allow-Methods": "GET",
                               "Access-Control-Allow-Private-Network": "true", "Access-Control-Max-Age": "600"})

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != PATH:
            self._answer(404, "not found")
            return
        status = self._status_query()
        if status is not None:
            if status["Status"] == ["json"]:
                self._answer(200, json.dumps(STATUS), CORS_FOR_STATUS, "application/json")
            else:
                self._answer(200, "\n".join(f"{name}: {value}" for name, value in STATUS.items()), CORS_FOR_STATUS)
            return
        urls = parse_qs(parts.query).get("tcTokenURL", [])
        if len(urls) != 1:
            self._answer(400, "the request needs exactly one tcTokenURL parameter")
            return
        with self.server.busy:
            outcome = self.server.authenticate(urls[0])
        if self.server.on_outcome is not None:
            self.server.on_outcome(outcome)
        if outcome.location is not None:
            self._answer(outcome.status, "", {"Location": outcome.location})
        else:
            self._answer(outcome.status, outcome.message)

    def _answer(self, status: int, text: str, headers: dict[str, str] | None = None,
                content_type: str = "text/plain") -> None:
        body = (text + "\n").encode() if text else b""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        """The request line holds the tcTokenURL (a bearer reference): not logged."""
