"""The eID-Server's TLS listener: HTTP/1.1 keep-alive over TLS 1.2 (PSK or certificate), two routes.

    GET  /tctoken/<reference>   the TC token (text/xml), once
    POST /paos                  PAOS (application/vnd.paos+xml): a client message in, the next server message out

One thread per connection (an eID client holds one keep-alive connection, idle while the citizen enters
the PIN). Each accepted socket gets TCP_NODELAY — replies are written in one piece, but without it every
round trip can still wait for a delayed ACK — and its TLS handshake in its own thread, where
eid/server/tls.py captures the PSK identity. Connections end with a TLS close_notify, so their session
stays resumable for the PAOS channel of the no-PSK mode.
"""

from __future__ import annotations

import logging
import socket
import socketserver
import ssl
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from eid.paos import MAX_MESSAGE_BYTES
from eid.server.service import PAOS_PATH, TC_TOKEN_PATH, EidService, Reply
from eid.server.tls import ChannelFacts, handshake, server_context

log = logging.getLogger(__name__)

#: How long a connection may stay idle (the citizen reads the consent page and enters the PIN).
IDLE_TIMEOUT_SECONDS = 600
HANDSHAKE_TIMEOUT_SECONDS = 15


class EidListener(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """The TLS listener of an :class:`EidService`. ``serve_forever()`` blocks; :meth:`start` runs it in
    a thread; :meth:`stop` ends it."""

    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up stop()
    allow_reuse_address = True
    request_queue_size = 1024  # a burst of citizens (200 at once in the benchmark) must not overflow the accept queue

    def __init__(self, service: EidService, address: tuple[str, int], certificate_path: Path, key_path: Path,
                 idle_timeout: float = IDLE_TIMEOUT_SECONDS) -> None:
        self.service = service
        self.idle_timeout = idle_timeout
        self.tls = server_context(certificate_path, key_path, service.psk_for)
        self._thread: threading.Thread | None = None
        super().__init__(address, _Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def get_request(self):
        connection, address = self.socket.accept()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.settimeout(HANDSHAKE_TIMEOUT_SECONDS)
        return self.tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False), address

    def shutdown_request(self, request) -> None:
        """End a connection so that its TLS session stays resumable (the no-PSK mode needs that).

        OpenSSL drops a session from the server's cache when the SSL object is freed without a sent
        close_notify. With OpenSSL 3.0 there is a second trap: reading the client's EOF *after* sending our
        close_notify assigns RECEIVED_SHUTDOWN and so clears the "sent" flag again (seen with AusweisApp,
        which then fails its resumption check). So: send close_notify without waiting for the client's,
        and if the flag got cleared anyway, shut down once more to set it before the object is freed.
        """
        connection = getattr(request, "_sslobj", None)  # the OpenSSL object behind the SSLSocket
        try:
            request.setblocking(False)
            request.unwrap()
        except (OSError, ValueError):
            pass
        if connection is not None:
            try:
                connection.shutdown()
            except (OSError, ValueError):
                pass
        request.close()

    def handle_error(self, request, client_address) -> None:
        log.exception("eID-Server connection from %s failed", client_address[0])

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), name=f"eid-listener-{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "eid-broker"
    sys_version = ""
    server: EidListener

    def setup(self) -> None:
        self.channel: ChannelFacts | None = None
        self.session_identifier: str | None = None
        try:
            self.channel = handshake(self.request)
        except (ssl.SSLError, OSError) as error:
            log.info("TLS handshake with %s failed: %s", self.client_address[0], error)
        self.request.settimeout(self.server.idle_timeout)
        super().setup()

    def handle(self) -> None:
        if self.channel is not None:
            super().handle()

    def do_GET(self) -> None:
        if self.path.startswith(TC_TOKEN_PATH):
            self._reply(self.server.service.tc_token(self.path[len(TC_TOKEN_PATH):], self.channel))
        else:
            self._reply(Reply(404, b"not found\n"))

    def do_POST(self) -> None:
        if self.path != PAOS_PATH:
            self._reply(Reply(404, b"not found\n"), discard_body=True)
            return
        body = self._body()
        if body is None:
            return
        reply = self.server.service.paos(body, self.channel, self.headers.get("requestid"), self.session_identifier)
        if reply.session_identifier is not None and reply.status == 200:
            self.session_identifier = reply.session_identifier
        self._reply(reply)

    def _body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding") or length is None or not length.isdigit():
            self._reply(Reply(411, b"a PAOS request needs a Content-Length\n"))
            self.close_connection = True
            return None
        if int(length) > MAX_MESSAGE_BYTES:
            self._reply(Reply(413, b"PAOS message too large\n"))
            self.close_connection = True
            return None
        return self.rfile.read(int(length))

    def _reply(self, reply: Reply, discard_body: bool = False) -> None:
        if discard_body:
            self.close_connection = True
        head = [f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('',))[0]}",
                f"Server: {self.server_version}",
                f"Date: {self.date_time_string()}",
                f"Content-Type: {reply.content_type}",
                f"Content-Length: {len(reply.body)}",
                "Cache-Control: no-store"]
        if self.close_connection:
            head.append("Connection: close")
        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body)
        route = TC_TOKEN_PATH.strip("/") if self.path.startswith(TC_TOKEN_PATH) else self.path
        log.debug("%s %s -> %d (%s)", self.command, route, reply.status, self.channel.cipher if self.channel else "")

    def log_message(self, format: str, *args) -> None:
        """http.server's own messages; the request line would show a TC-token reference, so only errors."""
        if args and isinstance(args[0], int) and args[0] >= 400:
            log.info("HTTP %s from %s", args[0], self.client_address[0])
