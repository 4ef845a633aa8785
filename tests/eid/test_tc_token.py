"""eid/tc_token.py: building and reading the TC token of TR-03124-1 §2.6."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eid import tc_token
from eid.tc_token import TcToken, TcTokenError

TOKEN = TcToken(
    server_address="https://127.0.0.1:8443/paos",
    session_identifier="1A2BB129",
    refresh_address="https://127.0.0.1:8443/refresh?ref=7eb3&x=1",
    communication_error_address="https://127.0.0.1:8443/error?ref=7eb3",
    psk=bytes.fromhex("4BC1" * 16),
)


def test_serialised_as_the_example_of_tr_03124_1():
    assert TOKEN.serialise() == (
        b"<TCTokenType>"
        b"<ServerAddress>https://127.0.0.1:8443/paos</ServerAddress>"
        b"<SessionIdentifier>1A2BB129</SessionIdentifier>"
        b"<RefreshAddress>https://127.0.0.1:8443/refresh?ref=7eb3&amp;x=1</RefreshAddress>"
        b"<CommunicationErrorAddress>https://127.0.0.1:8443/error?ref=7eb3</CommunicationErrorAddress>"
        b"<Binding>urn:liberty:paos:2006-08</Binding>"
        b"<PathSecurity-Protocol>urn:ietf:rfc:4279</PathSecurity-Protocol>"
        b"<PathSecurity-Parameters><PSK>" + b"4BC1" * 16 + b"</PSK></PathSecurity-Parameters>"
        b"</TCTokenType>"
    )


def test_without_psk_there_is_no_path_security():
    token = TcToken("https://h/paos", "S1", "https://h/r")
    assert token.path_security_protocol is None
    assert b"PathSecurity" not in token.serialise() and b"CommunicationErrorAddress" not in token.serialise()
    assert tc_token.parse(token.serialise()) == token


def test_round_trip_and_psk_stays_out_of_repr():
    assert tc_token.parse(TOKEN.serialise()) == TOKEN
    assert TOKEN.path_security_protocol == "urn:ietf:rfc:4279"
    assert "4BC1" not in repr(TOKEN).upper() and "psk" not in repr(TOKEN)


def test_the_tr_example_layout_with_whitespace_and_any_order_is_read():
    data = b"""<TCTokenType>
 <Binding> urn:liberty:paos:2006-08 </Binding>
 <PathSecurity-Parameters>
 <PSK> 4BC1A0B5 4BC1A0B5 4BC1A0B5 4BC1A0B5 </PSK>
 </PathSecurity-Parameters>
 <ServerAddress> https://eid-server.example.de/entrypoint </ServerAddress>
 <SessionIdentifier> 1A2B </SessionIdentifier>
 <RefreshAddress>
 https://service.example.de/loggedin?7eb3
 </RefreshAddress>
 <PathSecurity-Protocol> urn:ietf:rfc:4279 </PathSecurity-Protocol>
</TCTokenType>"""
    with pytest.raises(TcTokenError, match="PSK is not hexBinary"):
        tc_token.parse(data)
    token = tc_token.parse(data.replace(b" 4BC1A0B5 4BC1A0B5 4BC1A0B5 4BC1A0B5 ", b"4BC1A0B5" * 4))
    assert token.server_address == "https://eid-server.example.de/entrypoint"
    assert token.refresh_address == "https://service.example.de/loggedin?7eb3"
    assert token.session_identifier == "1A2B" and token.psk == bytes.fromhex("4BC1A0B5" * 4)


def test_generated_values_come_from_the_rng():
    assert tc_token.new_session_identifier(lambda n: b"\xab" * n) == "AB" * 16
    assert tc_token.new_psk(lambda n: b"\x01" * n) == b"\x01" * 32


@pytest.mark.parametrize("data,reason", [
    (TOKEN.serialise().replace(b"https://127.0.0.1:8443/paos", b"http://127.0.0.1:8443/paos"),
     "ServerAddress must be an https URL"),
    (TOKEN.serialise().replace(b"https://127.0.0.1:8443/refresh", b"ftp://127.0.0.1:8443/refresh"),
     "RefreshAddress must be an https URL"),
    (TOKEN.serialise().replace(b"https://127.0.0.1:8443/error", b"javascript:alert(1)//"),
     "CommunicationErrorAddress"),
    (TOKEN.serialise().replace(b"urn:liberty:paos:2006-08", b"urn:liberty:paos:2003-08"), "Binding"),
    (TOKEN.serialise().replace(b"urn:ietf:rfc:4279", b"urn:ietf:rfc:5246"), "unknown PathSecurity-Protocol"),
    (TOKEN.serialise().replace(b"<PathSecurity-Protocol>urn:ietf:rfc:4279</PathSecurity-Protocol>", b""),
     "must come together"),
    (TOKEN.serialise().replace(b"<PSK>" + b"4BC1" * 16 + b"</PSK>", b"<PSK>4BC1</PSK>"), "at least 128 bits"),
    (TOKEN.serialise().replace(b"<SessionIdentifier>1A2BB129</SessionIdentifier>", b""), "SessionIdentifier missing"),
    (TOKEN.serialise().replace(b"<Binding>", b"<Binding>x</Binding><Binding>"), "Binding 2 times"),
    (TOKEN.serialise().replace(b"TCTokenType", b"Token"), "not TCTokenType"),
    (b'<!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + TOKEN.serialise(), "document type"),
    (TOKEN.serialise() + b" " * tc_token.MAX_TOKEN_BYTES, "exceeds the limit"),
    (TOKEN.serialise()[:-5], "not well-formed"),
    (TOKEN.serialise().replace(b"1A2BB129", b"<b>1</b>"), "must hold text"),
])
def test_bad_tokens_are_rejected(data, reason):
    with pytest.raises(TcTokenError, match=reason):
        tc_token.parse(data)


@given(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=128),
       st.none() | st.binary(min_size=16, max_size=64))
def test_any_valid_token_round_trips(session_identifier, psk):
    token = TcToken("https://h.example/paos", session_identifier, "https://h.example/r?a=<&>", None, psk)
    assert tc_token.parse(token.serialise()) == token
