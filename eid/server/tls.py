"""TLS for the eID-Server: one context for the TC-token download and the PAOS channel.

TR-03124-1 §2.7.2 and TR-03112-7 §2.4.1.2: with a PSK in the TC token the PAOS channel uses a PSK
cipher suite with ``psk_identity`` = SessionIdentifier; without one, the client must reuse the TLS
session of the TC-token download. Both are served from the same :class:`ssl.SSLContext`:

- TLS 1.2 only (Python's PSK callback covers TLS 1.2; AusweisApp 1.26 offers its RSA-PSK suites in 1.2);
- the RSA-PSK suites AusweisApp offers, plus ECDHE-RSA suites for the PSK-less download;
- no session tickets, so that a resumed session keeps the session ID the server chose, which then
  binds the PAOS channel to the TC-token download (and the session cache of this context is the
  only way to resume: a context of another process cannot);
- the PSK of an identity is looked up per handshake; an unknown or finished session gives no key,
  and the handshake fails with ``unknown_psk_identity``.

The identity the client used is only visible inside the callback, which OpenSSL calls in the thread
doing the handshake; :func:`handshake` records it there and returns it with the other facts.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: RSA-PSK suites offered by AusweisApp 1.26 (strongest first), then ECDHE-RSA for the plain download.
PSK_CIPHERS = ("RSA-PSK-AES256-GCM-SHA384", "RSA-PSK-AES256-CBC-SHA384", "RSA-PSK-AES128-GCM-SHA256",
               "RSA-PSK-AES128-CBC-SHA256", "RSA-PSK-AES256-CBC-SHA")
CERTIFICATE_CIPHERS = ("ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256",
                       "ECDHE-RSA-AES256-SHA384", "ECDHE-RSA-AES128-SHA256")

PskLookup = Callable[[str], bytes | None]
"""SessionIdentifier (as the client's psk_identity) → its PSK, or None if there is no such session."""


@dataclass(frozen=True)
class ChannelFacts:
    """What the TLS layer tells the PAOS endpoint about one connection."""

    cipher: str
    session_id: bytes
    resumed: bool
    psk_identity: str | None = None

    @property
    def uses_psk(self) -> bool:
        return self.psk_identity is not None and "PSK" in self.cipher


_handshake_identity = threading.local()


def server_context(certificate_path: Path, key_path: Path, psk_lookup: PskLookup) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    # A client that hangs up without close_notify must not spoil its session for resumption; HTTP
    # bodies here are delimited by Content-Length, so a truncation is seen anyway.
    context.options |= (ssl.OP_NO_TICKET | ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE
                        | ssl.OP_IGNORE_UNEXPECTED_EOF)
    context.load_cert_chain(certificate_path, key_path)
    context.set_ciphers(":".join(PSK_CIPHERS + CERTIFICATE_CIPHERS))

    def psk_callback(identity: str | None) -> bytes:
        _handshake_identity.value = identity
        if not identity:
            return b""
        psk = psk_lookup(identity)
        return psk or b""

    context.set_psk_server_callback(psk_callback)
    return context


def handshake(connection: ssl.SSLSocket) -> ChannelFacts:
    """Complete the server handshake of ``connection`` (in this thread) and report what was agreed."""
    _handshake_identity.value = None
    connection.do_handshake()
    identity = _handshake_identity.value
    _handshake_identity.value = None
    cipher = connection.cipher()
    session = connection.session
    return ChannelFacts(
        cipher=cipher[0] if cipher else "",
        session_id=session.id if session is not None else b"",
        resumed=connection.session_reused,
        psk_identity=identity,
    )
