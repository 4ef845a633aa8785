"""HTTPS as an eID client needs it: every server certificate seen, TLS-PSK, and resumed TLS sessions.

An eID client does not trust TLS certificates through a CA store; it records the DER certificate of every
server it meets and later checks each against the provider's commCertificates (TR-03124-1 §2.7). Host
names and key sizes are checked at once (:func:`eid.client.checks.check_server_certificate`).

- :func:`fetch_tc_token`: GET the tcTokenURL, following 302/303/307 redirects (all https);
- :class:`PaosChannel`: the PAOS connection to the ServerAddress — TLS 1.2 with an RSA-PSK suite
  (``psk_identity`` = SessionIdentifier, Python 3.13's ``set_psk_client_callback``) when the TC token has
  a PSK, otherwise a resumption of the TLS session that downloaded the TC token (same context, same
  session: TR-03124-1 §2.7.2 forbids a new one);
- :func:`server_certificate`: a TLS handshake only, for the refresh URL;
- :func:`get`: one GET without following redirects (the refresh URL procedure follows them itself).
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from eid import paos, tc_token
from eid.client.checks import check_server_certificate, require_https
from eid.paos import PaosEnvelope
from eid.tc_token import TcToken

TIMEOUT_SECONDS = 30.0
MAX_REDIRECTS = 10
REDIRECTS = (302, 303, 307)
MAX_BODY = paos.MAX_MESSAGE_BYTES
PSK_CIPHERS = "RSA-PSK-AES256-GCM-SHA384:RSA-PSK-AES128-GCM-SHA256:RSA-PSK-AES256-CBC-SHA384:RSA-PSK-AES128-CBC-SHA256"


class TransportError(Exception):
    """A connection, TLS handshake or HTTP exchange that failed."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def _context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False  # checked against the certificate's subjectAltName by check_server_certificate
    context.verify_mode = ssl.CERT_NONE  # trust comes from commCertificates, not from a CA store
    return context


@dataclass
class Connection:
    """One TLS connection carrying HTTP/1.1 requests (keep-alive)."""

    url: str
    tls: ssl.SSLSocket
    certificate: bytes = field(repr=False)

    @classmethod
    def open(cls, url: str, context: ssl.SSLContext, session: ssl.SSLSession | None = None,
             timeout: float = TIMEOUT_SECONDS) -> Connection:
        require_https(url, "URL")
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or 443
        try:
            raw = socket.create_connection((host, port), timeout=timeout)
        except OSError as error:
            raise TransportError(f"cannot connect to {host}:{port}: {error}") from None
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = context.wrap_socket(raw, server_hostname=host if not _is_address(host) else None, session=session)
        except (ssl.SSLError, OSError) as error:
            raw.close()
            raise TransportError(f"TLS handshake with {host}:{port} failed: {error}") from None
        certificate = tls.getpeercert(binary_form=True)
        if not certificate:
            tls.close()
            raise TransportError(f"{host}:{port} presented no certificate")
        check_server_certificate(certificate, host)
        return cls(url, tls, certificate)

    def request(self, method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Response:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(body)}",
                 *(f"{k}: {v}" for k, v in (headers or {}).items())]
        try:
            self.tls.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            response = http.client.HTTPResponse(self.tls, method=method)
            response.begin()
            length = response.getheader("Content-Length")
            if length is not None and int(length) > MAX_BODY:
                raise TransportError(f"{url}: a response of {length} bytes is too large")
            content = response.read(MAX_BODY + 1)
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise TransportError(f"HTTP {method} {url} failed: {error}") from None
        if len(content) > MAX_BODY:
            raise TransportError(f"{url}: the response is too large")
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, content)

    def close(self) -> None:
        try:
            self.tls.close()
        except OSError:
            pass


def _is_address(host: str) -> bool:
    return host.replace(".", "").isdigit() or ":" in host


@dataclass
class TokenDownload:
    """The TC token with what the download left: the certificate of every server on the way and the TLS
    context and session of the last one (the no-PSK mode resumes it)."""

    token: TcToken
    url: str
    certificates: list[tuple[str, bytes]]
    context: ssl.SSLContext
    session: ssl.SSLSession | None


def fetch_tc_token(url: str) -> TokenDownload:
    context = _context()
    certificates: list[tuple[str, bytes]] = []
    for _ in range(MAX_REDIRECTS + 1):
        connection = Connection.open(url, context)
        try:
            certificates.append((url, connection.certificate))
            response = connection.request("GET", url, headers={"Accept": "text/xml", "Connection": "close"})
            session = connection.tls.session
        finally:
            connection.close()
        if response.status in REDIRECTS:
            location = response.headers.get("location")
            if not location:
                raise TransportError(f"{url} redirects without a Location")
            url = urljoin(url, location)
            require_https(url, "TC token redirect")
            continue
        if response.status != 200:
            raise TransportError(f"the TC token at {url} answered HTTP {response.status}")
        return TokenDownload(tc_token.parse(response.body), url, certificates, context, session)
    raise TransportError(f"more than {MAX_REDIRECTS} redirects fetching the TC token")


class PaosChannel:
    """The PAOS connection to the eID-Server (TR-03124-1 §2.7.2), keep-alive, reopened if the server closes it."""

    def __init__(self, download: TokenDownload) -> None:
        self.token = download.token
        self.url = download.token.server_address
        if self.token.psk is not None:
            self.context = _context()
            self.context.maximum_version = ssl.TLSVersion.TLSv1_2
            self.context.set_ciphers(PSK_CIPHERS)
            identity, psk = self.token.session_identifier, self.token.psk
            self.context.set_psk_client_callback(lambda hint: (identity, psk))
            self.session = None
        else:
            self.context, self.session = download.context, download.session
        self.connection: Connection | None = None
        self.certificates: list[tuple[str, bytes]] = []

    def _connect(self) -> Connection:
        connection = Connection.open(self.url, self.context, self.session)
        if self.token.psk is None:
            if not connection.tls.session_reused:
                connection.close()
                raise TransportError("the eID-Server did not resume the TLS session of the TC token download")
        elif "PSK" not in (connection.tls.cipher() or ("",))[0]:
            connection.close()
            raise TransportError("the eID-Server did not agree to a PSK cipher suite")
        self.certificates.append((self.url, connection.certificate))
        return connection

    def post(self, envelope: PaosEnvelope) -> PaosEnvelope:
        if self.connection is None:
            self.connection = self._connect()
        response = self.connection.request("POST", self.url, paos.serialise(envelope), {
            "Content-Type": paos.CONTENT_TYPE + "; charset=UTF-8", "Accept": paos.CONTENT_TYPE,
            "PAOS": f'ver="{paos.PAOS_VERSION}";"{paos.PAOS_SERVICE_TYPE}"',
        })
        if response.headers.get("connection", "").lower() == "close":
            self.close()
        if response.status != 200:
            raise TransportError(f"the eID-Server answered HTTP {response.status}: {response.body[:200]!r}")
        return paos.parse(response.body)

    def close(self) -> None:
        if self.connection is not None:
            self.session = self.connection.tls.session or self.session
            self.connection.close()
            self.connection = None


def server_certificate(url: str) -> bytes:
    """A TLS handshake with the server of ``url``, no HTTP: its DER certificate (host name checked)."""
    connection = Connection.open(url, _context())
    connection.close()
    return connection.certificate


def get(url: str) -> tuple[Response, bytes]:
    """One GET (no redirects followed) and the server's certificate."""
    connection = Connection.open(url, _context())
    try:
        return connection.request("GET", url, headers={"Connection": "close"}), connection.certificate
    finally:
        connection.close()
