"""eid/server/listener.py and tls.py over real loopback TLS: PSK and no-PSK mode, keep-alive, HTTP errors."""

import base64
import datetime
import http.client
import logging
import os
import socket
import ssl

import pytest

from eid import paos, tc_token
from eid.paos import DidAuthenticate, DidAuthenticateResponse, Eac2Input, PaosEnvelope, Result
from eid.server.certificate import create_self_signed
from eid.server.listener import EidListener
from eid.server.service import EidService
from eid.server.session import MemorySessionStore
from eid.server.tls import PSK_CIPHERS
from tests.eid.server.common import REQUEST, eac1_output, start_paos, terminal
from tests.support.network import free_port


@pytest.fixture(scope="module")
def credentials(tmp_path_factory):
    credentials = create_self_signed()
    return credentials, *credentials.write(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def server(credentials):
    _, certificate_path, key_path = credentials
    port = free_port()
    service = EidService(store=MemorySessionStore(), terminal=terminal(), public_url=f"https://127.0.0.1:{port}",
                         now=lambda: datetime.datetime.now(datetime.UTC), rng=os.urandom)
    listener = EidListener(service, ("127.0.0.1", port), certificate_path, key_path, idle_timeout=5)
    listener.start()
    yield listener
    listener.stop()


def client_context(credentials, psk: tuple[str, bytes] | None = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_verify_locations(credentials[1])
    if psk is not None:
        context.set_ciphers(PSK_CIPHERS[0])
        context.set_psk_client_callback(lambda hint: psk)
    return context


class Connection:
    """A keep-alive HTTP/1.1 client over one TLS connection (http.client cannot resume TLS sessions)."""

    def __init__(self, server: EidListener, context: ssl.SSLContext, session: ssl.SSLSession | None = None):
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        self.tls = context.wrap_socket(raw, server_hostname="127.0.0.1", session=session)

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
                content_length: bool = True) -> tuple[int, dict[str, str], bytes]:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
        if content_length and method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.tls.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        response = http.client.HTTPResponse(self.tls)
        response.begin()
        return response.status, dict(response.getheaders()), response.read()

    def close(self) -> None:
        self.tls.close()


def fetch_token(server, credentials, use_psk: bool, context: ssl.SSLContext | None = None
                ) -> tuple[tc_token.TcToken, Connection]:
    started = server.service.start_session(REQUEST, "https://broker.example/refresh?ref=", None, use_psk)
    connection = Connection(server, context or client_context(credentials))
    status, headers, body = connection.request("GET", started.tc_token_url.removeprefix(server.service.public_url))
    assert status == 200 and headers["Content-Type"] == "text/xml; charset=utf-8"
    return tc_token.parse(body), connection


def post(connection: Connection, envelope: PaosEnvelope, session_identifier: str) -> tuple[int, bytes]:
    status, headers, body = connection.request("POST", "/paos", paos.serialise(envelope),
                                               {"requestid": session_identifier,
                                                "Content-Type": "application/vnd.paos+xml; charset=UTF-8"})
    if status == 200:
        assert headers["Content-Type"] == "application/vnd.paos+xml; charset=utf-8"
    return status, body


def test_psk_mode_runs_the_conversation(server, credentials):
    token, download = fetch_token(server, credentials, use_psk=True)
    download.close()
    assert token.server_address == server.service.public_url + "/paos"
    connection = Connection(server, client_context(credentials, (token.session_identifier, token.psk)))
    assert connection.tls.cipher()[0] == "RSA-PSK-AES256-GCM-SHA384"
    status, body = post(connection, start_paos(token.session_identifier), token.session_identifier)
    request = paos.parse(body)
    assert status == 200 and isinstance(request.message, DidAuthenticate)
    answer = PaosEnvelope(DidAuthenticateResponse(Result(), eac1_output()), "urn:uuid:c2", request.message_id)
    status, body = post(connection, answer, token.session_identifier)  # same keep-alive connection
    assert status == 200 and isinstance(paos.parse(body).message.data, Eac2Input)
    assert server.service.session(token.session_identifier).received == (
        "StartPAOS", "DIDAuthenticateResponse/EAC1OutputType")
    connection.close()


def test_the_psk_never_reaches_the_log(server, credentials, caplog):
    """Every log line of a TC-token download and two PAOS round trips, at DEBUG: the PSK appears in no
    form, and the session is named only by a prefix of its identifier."""
    caplog.set_level(logging.DEBUG)
    token, download = fetch_token(server, credentials, use_psk=True)
    download.close()
    connection = Connection(server, client_context(credentials, (token.session_identifier, token.psk)))
    status, body = post(connection, start_paos(token.session_identifier), token.session_identifier)
    answer = PaosEnvelope(DidAuthenticateResponse(Result(), eac1_output()), "urn:uuid:c2", paos.parse(body).message_id)
    assert post(connection, answer, token.session_identifier)[0] == 200
    connection.close()
    assert "TC token of session" in caplog.text and "(PSK mode)" in caplog.text
    for form in (token.psk.hex(), token.psk.hex().upper(), repr(token.psk), base64.b64encode(token.psk).decode(),
                 token.session_identifier):
        assert form not in caplog.text


def test_without_requestid_the_connection_remembers_the_session(server, credentials):
    """AusweisApp 2.x no longer sends requestid; in the no-PSK mode only StartPAOS names the session."""
    token, connection = fetch_token(server, credentials, use_psk=False)
    _, _, body = connection.request("POST", "/paos", paos.serialise(start_paos(token.session_identifier)))
    request = paos.parse(body)
    answer = PaosEnvelope(DidAuthenticateResponse(Result(), eac1_output()), "urn:uuid:c2", request.message_id)
    status, _, body = connection.request("POST", "/paos", paos.serialise(answer))
    assert status == 200 and isinstance(paos.parse(body).message.data, Eac2Input)


@pytest.mark.parametrize("wrong", ["key", "identity"])
def test_wrong_psk_or_identity_fails_the_handshake(server, credentials, wrong):
    token, _ = fetch_token(server, credentials, use_psk=True)
    psk = (token.session_identifier, bytes(32)) if wrong == "key" else ("NOT-A-SESSION", token.psk)
    with pytest.raises(ssl.SSLError):
        Connection(server, client_context(credentials, psk))
    assert server.service.session(token.session_identifier).received == ()


def test_psk_of_a_session_whose_token_was_not_fetched_is_unknown(server, credentials):
    started = server.service.start_session(REQUEST, "https://broker.example/refresh?ref=")
    psk = server.service.session(started.session_identifier).psk
    with pytest.raises(ssl.SSLError):
        Connection(server, client_context(credentials, (started.session_identifier, psk)))


def test_psk_mode_refuses_paos_without_psk(server, credentials):
    token, download = fetch_token(server, credentials, use_psk=True)
    status, _ = post(download, start_paos(token.session_identifier), token.session_identifier)
    assert status == 403


def test_no_psk_mode_on_the_keep_alive_connection(server, credentials):
    token, connection = fetch_token(server, credentials, use_psk=False)
    assert token.psk is None
    status, body = post(connection, start_paos(token.session_identifier), token.session_identifier)
    assert status == 200 and isinstance(paos.parse(body).message, DidAuthenticate)


def test_no_psk_mode_on_a_resumed_tls_session(server, credentials):
    context = client_context(credentials)
    token, download = fetch_token(server, credentials, use_psk=False, context=context)
    session = download.tls.session
    download.close()
    resumed = Connection(server, context, session)
    assert resumed.tls.session_reused
    status, body = post(resumed, start_paos(token.session_identifier), token.session_identifier)
    assert status == 200 and isinstance(paos.parse(body).message, DidAuthenticate)


def test_no_psk_mode_refuses_a_new_tls_session(server, credentials):
    token, _ = fetch_token(server, credentials, use_psk=False)
    fresh = Connection(server, client_context(credentials))
    assert not fresh.tls.session_reused
    status, body = post(fresh, start_paos(token.session_identifier), token.session_identifier)
    assert status == 403 and b"does not belong" in body
    assert server.service.session(token.session_identifier).received == ()


def test_tc_token_twice_on_one_connection(server, credentials):
    started = server.service.start_session(REQUEST, "https://broker.example/refresh?ref=")
    connection = Connection(server, client_context(credentials))
    path = started.tc_token_url.removeprefix(server.service.public_url)
    assert connection.request("GET", path)[0] == 200
    assert connection.request("GET", path)[0] == 410


@pytest.mark.parametrize("method,path,headers,content_length,status", [
    ("GET", "/nothing", {}, True, 404),
    ("POST", "/elsewhere", {}, True, 404),
    ("POST", "/paos", {}, False, 411),
    ("POST", "/paos", {"Content-Length": str(paos.MAX_MESSAGE_BYTES + 1)}, False, 413),
])
def test_http_errors(server, credentials, method, path, headers, content_length, status):
    connection = Connection(server, client_context(credentials))
    assert connection.request(method, path, b"", headers, content_length=content_length)[0] == status


def test_server_certificate_is_verifiable_for_127_0_0_1(server, credentials):
    connection = Connection(server, client_context(credentials))
    assert connection.tls.version() == "TLSv1.2"
    assert connection.tls.getpeercert(binary_form=True) == credentials[0].certificate_der


def test_tls_1_3_only_clients_are_refused(server, credentials):
    context = client_context(credentials)
    context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1_3
    with pytest.raises(ssl.SSLError):
        Connection(server, context)


def test_session_survives_a_client_that_hangs_up_without_close_notify(server, credentials):
    """As AusweisApp does when the server answers "Connection: close": the TCP connection ends without the
    client's close_notify. The server's TLS session must stay resumable for the PAOS channel. (The client's
    own SSL object is kept alive here, so that only the server's side is under test.)"""
    context = client_context(credentials)
    for _ in range(5):
        started = server.service.start_session(REQUEST, "https://broker.example/refresh?ref=", None, use_psk=False)
        download = Connection(server, context)
        status, _, body = download.request("GET", started.tc_token_url.removeprefix(server.service.public_url),
                                           headers={"Connection": "close"})
        assert status == 200
        with socket.socket(fileno=os.dup(download.tls.fileno())) as raw:
            raw.shutdown(socket.SHUT_RDWR)
        resumed = Connection(server, context, download.tls.session)
        assert resumed.tls.session_reused
        status, body = post(resumed, start_paos(started.session_identifier), started.session_identifier)
        assert status == 200
        resumed.close()
        download.close()
