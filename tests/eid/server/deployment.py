"""A complete eID deployment on loopback for the tests and benchmarks: the eID-Server and the broker's origin.

Made the way a real one is (see eid/server/service.py): a test PKI from ``eid.pki`` written to a directory as
``pki create-test`` writes it, whose certificate description names the broker's origin as subjectURL and
lists both TLS certificates in commCertificates; :class:`EidTerminal` loaded from that directory; the
eID-Server's :class:`EidListener`; and :class:`BrokerOrigin`, a small HTTPS server standing in for the
broker: ``/eid/tctoken/<token>`` answers 303 with the listener's tcTokenURL, ``/eid/refresh?ref=…`` is the
RefreshAddress (it records what arrives), ``/eid/bounce?to=URL`` redirects anywhere, and ``pages`` maps further
paths to fixed answers (for hostile TC tokens). A virtual card personalised under the same PKI goes with it.
"""

from __future__ import annotations

import datetime
import os
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509

from cardreader.virtual import VirtualCard
from eid import pki
from eid.card_profile import CardProfile
from eid.server.certificate import TlsCredentials, create_self_signed
from eid.server.listener import EidListener
from eid.server.request import EidRequest
from eid.server.service import TC_TOKEN_PATH, EidService, StartedSession
from eid.server.session import MemorySessionStore
from eid.server.terminal import EidTerminal
from tests.support.network import free_port

REFRESH_PATH = "/eid/refresh"
TOKEN_PATH = "/eid/tctoken/"
BOUNCE_PATH = "/eid/bounce"


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class BrokerOrigin(ThreadingHTTPServer):
    """The broker's HTTPS origin as an eID client sees it: the tcTokenURL redirect and the RefreshAddress."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024  # the benchmark's 200 clients connect at once

    def __init__(self, credentials: TlsCredentials, directory: Path, eid_server_url: str) -> None:
        self.port = free_port()
        self.credentials = credentials
        self.eid_server_url = eid_server_url
        self.refreshes: list[str] = []
        self.pages: dict[str, tuple[int, dict[str, str], bytes]] = {}
        super().__init__(("127.0.0.1", self.port), _BrokerHandler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*credentials.write(directory))
        # The handshake in each connection's thread (_BrokerHandler.setup), not in the accepting one: a
        # slow client must not hold up the others.
        self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def token_url(self, started: StartedSession) -> str:
        """The tcTokenURL the broker hands out for a session: on its own origin."""
        return self.url + TOKEN_PATH + started.tc_token_url.rsplit("/", 1)[1]

    def start(self) -> None:
        self._thread.start()

    def handle_error(self, request, client_address) -> None:
        """eID clients open a TLS connection only to see the certificate, then hang up: not an error."""

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _BrokerHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: BrokerOrigin

    def setup(self) -> None:
        self.request.settimeout(30)
        self.request.do_handshake()
        super().setup()

    def do_GET(self) -> None:
        if self.path in self.server.pages:
            self._answer(*self.server.pages[self.path])
        elif self.path.startswith(BOUNCE_PATH):
            self._answer(303, {"Location": parse_qs(urlsplit(self.path).query)["to"][0]})
        elif self.path.startswith(TOKEN_PATH):
            self._answer(303, {"Location": self.server.eid_server_url + TC_TOKEN_PATH + self.path[len(TOKEN_PATH):]})
        elif self.path.startswith(REFRESH_PATH):
            self.server.refreshes.append(self.path)
            self._answer(200, {"Content-Type": "text/plain"}, b"refreshed\n")
        else:
            self._answer(404, {})

    def _answer(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        pass


@dataclass
class Deployment:
    directory: Path
    test_pki: pki.TestPki
    terminal: EidTerminal
    service: EidService
    listener: EidListener
    broker: BrokerOrigin
    profile: CardProfile
    listener_tls: TlsCredentials
    owns_broker: bool = True
    started: list[StartedSession] = field(default_factory=list)

    def start(self, request: EidRequest, use_psk: bool = True) -> tuple[StartedSession, str]:
        """A new session; returns it and the tcTokenURL on the broker's origin."""
        started = self.service.start_session(request, f"{self.broker.url}{REFRESH_PATH}?ref=",
                                             f"{self.broker.url}{REFRESH_PATH}?error=1&ref=", use_psk)
        self.started.append(started)
        return started, self.broker.token_url(started)

    def card(self) -> VirtualCard:
        card = VirtualCard(self.profile)
        card.power_on()
        return card

    @property
    def broker_tls(self) -> TlsCredentials:
        return self.broker.credentials

    def stop(self) -> None:
        self.listener.stop()
        if self.owns_broker:
            self.broker.stop()


def deploy(directory: Path, *, cscas: Sequence[x509.Certificate] | None = None, separate_signature: bool = False,
           store: MemorySessionStore | None = None, comm_certificates: Sequence[bytes] | None = None,
           eid_port: int | None = None, broker: BrokerOrigin | None = None, **pki_options) -> Deployment:
    """Everything above, started. ``cscas`` replaces the PKI's own CSCA (e.g. AusweisApp's test CSCA);
    ``comm_certificates`` replaces the served TLS certificates in the description (for tests of the
    clients' check — the server's own check is then skipped). A ``broker`` made (and served) by the caller,
    for ``eid_port``, is used instead of a new one."""
    today = now().date()
    eid_port = eid_port or free_port()
    eid_url = f"https://127.0.0.1:{eid_port}"
    listener_tls = create_self_signed()
    owns_broker = broker is None
    if broker is None:
        broker = BrokerOrigin(create_self_signed(), directory / "broker-tls", eid_url)
    served = [listener_tls.certificate_der, broker.credentials.certificate_der]
    test_pki = pki.create_test_pki(today=today, subject_url=broker.url,
                                   comm_certificates=served if comm_certificates is None else comm_certificates,
                                   **pki_options)
    pki_directory = directory / "pki"
    pki_directory.mkdir(parents=True)
    for name, content in test_pki.files().items():
        (pki_directory / name).write_bytes(content)
    terminal = EidTerminal.load(pki_directory, served_certificates=served if comm_certificates is None else (),
                                cscas=cscas)
    service = EidService(store=store or MemorySessionStore(), terminal=terminal, public_url=eid_url, now=now,
                         rng=os.urandom, separate_signature=separate_signature)
    listener = EidListener(service, ("127.0.0.1", eid_port), *listener_tls.write(directory / "eid-tls"))
    listener.start()
    if owns_broker:
        broker.start()
    profile = pki.create_card_profile(test_pki, today=today)
    return Deployment(directory, test_pki, terminal, service, listener, broker, profile, listener_tls, owns_broker)
