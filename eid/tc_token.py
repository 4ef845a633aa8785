"""The TC token (BSI TR-03124-1 §2.6): how an eID client reaches the eID-Server for one authentication.

An XML fragment of ``TCTokenType`` without prolog, served as ``text/xml; charset=utf-8`` at the
tcTokenURL. It names the PAOS endpoint (``ServerAddress``), the session (``SessionIdentifier``, also
the TLS ``psk_identity``), where the browser goes afterwards (``RefreshAddress``) or on a
communication error (``CommunicationErrorAddress``), the PAOS binding, and — in the PSK mode — the
pre-shared key. Without a PSK the client must reuse the TLS session of the TC token download.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from eid.errors import MalformedData
from eid.paos import ISO, PaosError, children, element_text, read_xml

BINDING_PAOS = "urn:liberty:paos:2006-08"
PATH_SECURITY_PSK = "urn:ietf:rfc:4279"
CONTENT_TYPE = "text/xml; charset=utf-8"

#: A TC token is a few hundred bytes; anything much larger is not one.
MAX_TOKEN_BYTES = 8 * 1024
#: Entropy of generated values, in bytes (TR-03124-1: unpredictable, cryptographically strong).
SESSION_IDENTIFIER_BYTES = 16
PSK_BYTES = 32

_SESSION_IDENTIFIER = re.compile(r"[\x21-\x7e]{1,128}")
# scheme://authority[path/query/fragment], no whitespace; urllib stays out of the pure core (architecture test).
_HTTP_URL = re.compile(r"https?://[^\s/?#]+(?:[/?#]\S*)?")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})+")
_FIELDS = ("ServerAddress", "SessionIdentifier", "RefreshAddress", "CommunicationErrorAddress", "Binding",
           "PathSecurity-Protocol", "PathSecurity-Parameters")


class TcTokenError(MalformedData):
    """A TC token that is not well-formed or breaks a rule of TR-03124-1 §2.6."""


@dataclass(frozen=True)
class TcToken:
    server_address: str
    session_identifier: str
    refresh_address: str
    communication_error_address: str | None = None
    psk: bytes | None = field(default=None, repr=False)  # a secret: never in logs
    binding: str = BINDING_PAOS

    def __post_init__(self) -> None:
        _check(self)

    @property
    def path_security_protocol(self) -> str | None:
        return PATH_SECURITY_PSK if self.psk is not None else None

    def serialise(self) -> bytes:
        """The token as TR-03124-1 shows it: elements in schema order, no prolog, no namespace."""
        parts = ["<TCTokenType>"]

        def add(name: str, value: str) -> None:
            parts.append(f"<{name}>{escape(value)}</{name}>")

        add("ServerAddress", self.server_address)
        add("SessionIdentifier", self.session_identifier)
        add("RefreshAddress", self.refresh_address)
        if self.communication_error_address is not None:
            add("CommunicationErrorAddress", self.communication_error_address)
        add("Binding", self.binding)
        if self.psk is not None:
            add("PathSecurity-Protocol", PATH_SECURITY_PSK)
            parts.append(f"<PathSecurity-Parameters><PSK>{self.psk.hex().upper()}</PSK></PathSecurity-Parameters>")
        parts.append("</TCTokenType>")
        return "".join(parts).encode()


def new_session_identifier(rng: Callable[[int], bytes]) -> str:
    """An unpredictable SessionIdentifier (upper-case hex, 128 bits) — the PSK identity on the wire."""
    return rng(SESSION_IDENTIFIER_BYTES).hex().upper()


def new_psk(rng: Callable[[int], bytes]) -> bytes:
    """A 256-bit pre-shared key."""
    return rng(PSK_BYTES)


def parse(data: bytes) -> TcToken:
    """Read a TC token as an eID client receives it.

    Elements are accepted in any order and in no namespace or the ISO 24727 one (TR-03124-1 asks clients
    to be lenient); each at most once. The XML itself goes through the hardened parser of eid.paos.
    """
    try:
        root = read_xml(data, MAX_TOKEN_BYTES)
    except PaosError as error:
        raise TcTokenError(f"TC token: {error}") from None
    if root.tag not in ("TCTokenType", f"{{{ISO}}}TCTokenType"):
        raise TcTokenError(f"TC token root element is {root.tag!r}, not TCTokenType")
    namespace = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else None

    def find(parent, name: str):
        found = children(parent, namespace, name) if namespace else [c for c in parent if c.tag == name]
        if len(found) > 1:
            raise TcTokenError(f"TC token has {name} {len(found)} times")
        return found[0] if found else None

    def text(parent, name: str) -> str | None:
        element = find(parent, name)
        if element is None:
            return None
        try:
            return element_text(element).strip()
        except PaosError as error:
            raise TcTokenError(f"TC token: {error}") from None

    values = {name: text(root, name) for name in _FIELDS if name != "PathSecurity-Parameters"}
    parameters = find(root, "PathSecurity-Parameters")
    psk_text = text(parameters, "PSK") if parameters is not None else None
    protocol = values["PathSecurity-Protocol"]
    if (protocol is None) != (psk_text is None):
        raise TcTokenError("TC token: PathSecurity-Protocol and the PSK must come together")
    if protocol is not None and protocol != PATH_SECURITY_PSK:
        raise TcTokenError(f"TC token: unknown PathSecurity-Protocol {protocol!r}")
    for name in ("ServerAddress", "SessionIdentifier", "RefreshAddress", "Binding"):
        if values[name] is None:
            raise TcTokenError(f"TC token: {name} missing")
    if psk_text is not None and not _HEX.fullmatch(psk_text):
        raise TcTokenError("TC token: PSK is not hexBinary")
    psk = None if psk_text is None else bytes.fromhex(psk_text)
    return TcToken(
        server_address=values["ServerAddress"],
        session_identifier=values["SessionIdentifier"],
        refresh_address=values["RefreshAddress"],
        communication_error_address=values["CommunicationErrorAddress"],
        psk=psk,
        binding=values["Binding"],
    )


def _check(token: TcToken) -> None:
    for name, url in (("ServerAddress", token.server_address), ("RefreshAddress", token.refresh_address)):
        if not _is_https(url):
            raise TcTokenError(f"TC token: {name} must be an https URL")
    if token.communication_error_address is not None and not _HTTP_URL.fullmatch(token.communication_error_address):
        raise TcTokenError("TC token: CommunicationErrorAddress must be an http or https URL")
    if token.binding != BINDING_PAOS:
        raise TcTokenError(f"TC token: Binding must be {BINDING_PAOS}, not {token.binding!r}")
    if not _SESSION_IDENTIFIER.fullmatch(token.session_identifier):
        raise TcTokenError("TC token: SessionIdentifier must be 1 to 128 visible ASCII characters (the PSK identity)")
    if token.psk is not None and len(token.psk) < 16:
        raise TcTokenError("TC token: a PSK needs at least 128 bits")


def _is_https(url: str) -> bool:
    return bool(_HTTP_URL.fullmatch(url)) and url.startswith("https://")
