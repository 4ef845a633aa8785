"""PAOS messages between eID-Server and eID client (BSI TR-03112-7 §2.6 and §3.6, TR-03124-1 §2.7).

The SOAP 1.1 envelope with the PAOS and WS-Addressing header, and the eCard-API calls of an online
authentication, as frozen dataclasses that parse from and serialise to bytes:

  client → server: StartPAOS, InitializeFrameworkResponse, DIDAuthenticateResponse (EAC1OutputType,
                   EAC2OutputType), TransmitResponse
  server → client: InitializeFramework, DIDAuthenticate (EAC1InputType, EAC2InputType,
                   EACAdditionalInputType), Transmit, StartPAOSResponse

Parsing is hardened (:func:`read_xml`): no DTD, no entities, no network, no processing instructions,
UTF-8 only, and limits on size, depth and element count. Every malformed input raises a
:class:`PaosError` subclass naming what was wrong. lxml is imported here and nowhere else.

Serialisation is exact and deterministic: prefixed namespaces in the layout AusweisApp 1.26.2 accepted
(tests/vectors/paos/01-out.xml), hexBinary in upper case, no whitespace between elements.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from lxml import etree

from eid.errors import MalformedData

# --- namespaces and fixed URIs ---------------------------------------------------------------------

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
PAOS = "urn:liberty:paos:2006-08"
WSA = "http://www.w3.org/2005/03/addressing"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ISO = "urn:iso:std:iso-iec:24727:tech:schema"
DSS = "urn:oasis:names:tc:dss:1.0:core:schema"
ECARD = "http://www.bsi.bund.de/ecard/api/1.1"
XML = "http://www.w3.org/XML/1998/namespace"

PAOS_VERSION = PAOS
PAOS_ROLE_ADDRESS = "http://www.projectliberty.org/2006/01/role/paos"
PAOS_REPLY_TO = "http://www.projectliberty.org/2006/02/role/paos"
PAOS_SERVICE_TYPE = "http://www.bsi.bund.de/ecard/api/1.1/PAOS/GetNextCommand"
SOAP_ACTOR_NEXT = "http://schemas.xmlsoap.org/soap/actor/next"
CONTENT_TYPE = "application/vnd.paos+xml"

#: TR-03112-7 §3.6: EAC version 2 (PACE, TA 2, CA 2, RI).
EAC_PROTOCOL = "urn:oid:1.3.162.15480.3.0.14.2"
#: The DIDName AusweisApp and the eID-Servers in the field use for the EAC DID.
DID_NAME_PIN = "PIN"

RESULT_MAJOR_OK = "http://www.bsi.bund.de/ecard/api/1.1/resultmajor#ok"
RESULT_MAJOR_WARNING = "http://www.bsi.bund.de/ecard/api/1.1/resultmajor#warning"
RESULT_MAJOR_ERROR = "http://www.bsi.bund.de/ecard/api/1.1/resultmajor#error"
_MINOR = "http://www.bsi.bund.de/ecard/api/1.1/resultminor"
RESULT_MINOR_INTERNAL_ERROR = f"{_MINOR}/al/common#internalError"
RESULT_MINOR_PARAMETER_ERROR = f"{_MINOR}/al/common#parameterError"
RESULT_MINOR_UNKNOWN_ERROR = f"{_MINOR}/al/common#unknownError"
RESULT_MINOR_NO_PERMISSION = f"{_MINOR}/al/common#noPermission"
RESULT_MINOR_TIMEOUT = f"{_MINOR}/dp#timeout"
RESULT_MINOR_CANCELLATION_BY_USER = f"{_MINOR}/sal#cancellationByUser"
RESULT_MINOR_SECURITY_CONDITIONS_NOT_SATISFIED = f"{_MINOR}/sal#securityConditionsNotSatisfied"
RESULT_MINOR_COMMUNICATION_ERROR = f"{_MINOR}/al/common#communicationError"
RESULT_MINOR_TRUSTED_CHANNEL_FAILED = f"{_MINOR}/dp#trustedChannelEstablishmentFailed"
RESULT_MINOR_NO_CARD = f"{_MINOR}/ifdl/terminal#noCard"
#: What every ResultMinor URI starts with (TR-03112-1 §4.1).
RESULT_MINOR_PREFIX = _MINOR + "/"

# --- limits of the hardened parser ------------------------------------------------------------------

#: The largest PAOS message accepted. A TransmitResponse with every data group of an ID card and
#: EF.CardSecurity in hex stays far below this.
MAX_MESSAGE_BYTES = 256 * 1024
MAX_DEPTH = 16
MAX_ELEMENTS = 2000


# --- errors ------------------------------------------------------------------------------------------


class PaosError(MalformedData):
    """A PAOS message (or other eID XML) that is not acceptable."""


class XmlRejected(PaosError):
    """Not well-formed, not UTF-8, too large or too deep, or uses DTDs, entities or processing instructions."""


class NotPaosMessage(PaosError):
    """Well-formed XML that is no SOAP envelope carrying a known eCard-API message."""


class MissingElement(PaosError):
    """A required element is absent (or present in the wrong namespace)."""


class RepeatedElement(PaosError):
    """An element that may occur once occurs more often."""


class InvalidValue(PaosError):
    """An element's text or attribute does not have its schema type (hexBinary, integer, …)."""


# --- message types -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """dss:Result (OASIS DSS, as profiled by TR-03112-1 §4.1)."""

    major: str = RESULT_MAJOR_OK
    minor: str | None = None
    message: str | None = None
    message_lang: str | None = None

    @property
    def ok(self) -> bool:
        return self.major == RESULT_MAJOR_OK

    @classmethod
    def error(cls, minor: str, message: str | None = None) -> Result:
        return cls(RESULT_MAJOR_ERROR, minor, message, "en" if message is not None else None)


@dataclass(frozen=True)
class ConnectionHandle:
    """iso:ConnectionHandle (ISO/IEC 24727-3); every part optional, hexBinary parts as bytes."""

    context_handle: bytes | None = None
    ifd_name: str | None = None
    slot_index: int | None = None
    card_application: bytes | None = None
    slot_handle: bytes | None = None


@dataclass(frozen=True)
class UserAgent:
    name: str
    version_major: int
    version_minor: int
    version_subminor: int | None = None


@dataclass(frozen=True)
class ApiVersion:
    """SupportedAPIVersions / Version: minor and subminor absent mean "all"."""

    major: int
    minor: int | None = None
    subminor: int | None = None


@dataclass(frozen=True)
class StartPaos:
    """iso:StartPAOS, the client's first message (TR-03112-7 §2.6)."""

    session_identifier: str
    connection_handles: tuple[ConnectionHandle, ...]
    user_agent: UserAgent
    supported_api_versions: tuple[ApiVersion, ...]
    supported_did_protocols: tuple[str, ...] = ()


@dataclass(frozen=True)
class StartPaosResponse:
    """iso:StartPAOSResponse, the server's last message, ending the PAOS conversation."""

    result: Result


@dataclass(frozen=True)
class InitializeFramework:
    """ecard:InitializeFramework (TR-03112-1): asks the client for its eCard-API version."""


@dataclass(frozen=True)
class InitializeFrameworkResponse:
    result: Result
    version: ApiVersion


@dataclass(frozen=True)
class Eac1Input:
    """iso:EAC1InputType (TR-03112-7 §3.6.4.1): certificates, description, CHATs for extended PACE."""

    certificates: tuple[bytes, ...]
    certificate_description: bytes
    required_chat: bytes | None = None
    optional_chat: bytes | None = None
    authenticated_auxiliary_data: bytes | None = None
    transaction_info: str | None = None


@dataclass(frozen=True)
class Eac2Input:
    """iso:EAC2InputType (§3.6.4.2): further certificates, the ephemeral CA key and the TA signature."""

    ephemeral_public_key: bytes
    signature: bytes | None = None
    certificates: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class EacAdditionalInput:
    """iso:EACAdditionalInputType (§3.6.4.3): the TA signature sent in a round of its own."""

    signature: bytes


@dataclass(frozen=True)
class Eac1Output:
    """iso:EAC1OutputType: the result of PACE. Empty values are allowed only in an error response."""

    ef_card_access: bytes
    id_picc: bytes
    challenge: bytes
    certificate_holder_authorization_template: bytes | None = None
    certification_authority_references: tuple[str, ...] = ()
    retry_counter: int | None = None


@dataclass(frozen=True)
class Eac2Output:
    """iso:EAC2OutputType: EF.CardSecurity, CA token and nonce — or only the challenge, when the
    EAC2InputType carried no signature."""

    ef_card_security: bytes | None = None
    authentication_token: bytes | None = None
    nonce: bytes | None = None
    challenge: bytes | None = None

    @property
    def has_chip_authentication(self) -> bool:
        return None not in (self.ef_card_security, self.authentication_token, self.nonce)


AuthenticationInput: TypeAlias = Eac1Input | Eac2Input | EacAdditionalInput
AuthenticationOutput: TypeAlias = Eac1Output | Eac2Output


@dataclass(frozen=True)
class DidAuthenticate:
    """iso:DIDAuthenticate carrying one of the EAC input types."""

    connection_handle: ConnectionHandle
    data: AuthenticationInput
    did_name: str = DID_NAME_PIN
    protocol: str = EAC_PROTOCOL


@dataclass(frozen=True)
class DidAuthenticateResponse:
    result: Result
    data: AuthenticationOutput | None = None
    protocol: str = EAC_PROTOCOL


@dataclass(frozen=True)
class InputApduInfo:
    """One command of a Transmit batch; the batch stops at a status word not listed (if any are)."""

    apdu: bytes
    acceptable_status_codes: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class Transmit:
    """iso:Transmit (TR-03112-6): a batch of APDUs for the card."""

    slot_handle: bytes
    apdus: tuple[InputApduInfo, ...]


@dataclass(frozen=True)
class TransmitResponse:
    result: Result
    output_apdus: tuple[bytes, ...] = ()


Message: TypeAlias = (
    StartPaos | StartPaosResponse | InitializeFramework | InitializeFrameworkResponse
    | DidAuthenticate | DidAuthenticateResponse | Transmit | TransmitResponse
)


@dataclass(frozen=True)
class PaosEnvelope:
    """A message with its WS-Addressing header: our MessageID and the peer's message it answers."""

    message: Message
    message_id: str
    relates_to: str | None = None


def new_message_id(rng: Callable[[int], bytes]) -> str:
    """A fresh ``urn:uuid:`` MessageID (random UUID, RFC 9562 version 4) from the injected ``rng``."""
    return "urn:uuid:" + str(uuid.UUID(bytes=rng(16), version=4))


# --- hardened XML ---------------------------------------------------------------------------------------

_UTF16_OR_32_START = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00", b"\x00<", b"<\x00")
_FORBIDDEN_MARKUP = re.compile(rb"<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)", re.IGNORECASE)


def read_xml(data: bytes, max_bytes: int = MAX_MESSAGE_BYTES) -> etree._Element:
    """Parse untrusted XML into an element tree, or raise :class:`XmlRejected`.

    Rejected: more than ``max_bytes``; encodings other than UTF-8; any DTD or markup declaration (so no
    entities, internal or external); processing instructions; depth over MAX_DEPTH; more than
    MAX_ELEMENTS elements. Comments are dropped. Nothing is ever loaded from the network or disk.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise XmlRejected("XML must be given as bytes")
    if len(data) > max_bytes:
        raise XmlRejected(f"XML of {len(data)} bytes exceeds the limit of {max_bytes}")
    if data.startswith(_UTF16_OR_32_START):
        raise XmlRejected("XML must be UTF-8 encoded")
    if _FORBIDDEN_MARKUP.search(data):
        raise XmlRejected("XML with a document type declaration (DTD or entities) is not accepted")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
        remove_comments=True, remove_pis=False, collect_ids=False,
    )
    try:
        root = etree.fromstring(bytes(data), parser)
    except etree.XMLSyntaxError as error:
        raise XmlRejected(f"XML not well-formed: {error}") from None
    if root is None:
        raise XmlRejected("XML document is empty")
    tree = root.getroottree()
    encoding = (tree.docinfo.encoding or "UTF-8").upper()
    if encoding not in ("UTF-8", "UTF8"):
        raise XmlRejected(f"XML must be UTF-8 encoded, not {encoding}")
    if tree.docinfo.doctype:
        raise XmlRejected("XML with a document type declaration is not accepted")
    for sibling in (*root.itersiblings(preceding=True), *root.itersiblings()):
        if isinstance(sibling, etree._ProcessingInstruction):
            raise XmlRejected(f"processing instruction <?{sibling.target}?> not accepted")
    _check_tree(root)
    return root


def _check_tree(root: etree._Element) -> None:
    count = 0
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if isinstance(element, etree._ProcessingInstruction):
            raise XmlRejected(f"processing instruction <?{element.target}?> not accepted")
        if isinstance(element, etree._Entity):
            raise XmlRejected(f"entity reference &{element.name}; not accepted")
        count += 1
        if count > MAX_ELEMENTS:
            raise XmlRejected(f"XML has more than {MAX_ELEMENTS} elements")
        if depth > MAX_DEPTH:
            raise XmlRejected(f"XML is nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in element)


def qualified_name(element: etree._Element) -> tuple[str | None, str]:
    """(namespace, local name) of an element."""
    name = etree.QName(element)
    return name.namespace, name.localname


def element_text(element: etree._Element) -> str:
    """All text directly inside ``element``; child elements there are an error (simple types only)."""
    if len(element):
        raise InvalidValue(f"{etree.QName(element).localname} must hold text, not elements")
    return element.text or ""


def children(parent: etree._Element, namespace: str, name: str) -> list[etree._Element]:
    return [child for child in parent if isinstance(child.tag, str) and child.tag == f"{{{namespace}}}{name}"]


def optional_child(parent: etree._Element, namespace: str, name: str) -> etree._Element | None:
    found = children(parent, namespace, name)
    if len(found) > 1:
        raise RepeatedElement(f"{name} occurs {len(found)} times in {etree.QName(parent).localname}")
    return found[0] if found else None


def one_child(parent: etree._Element, namespace: str, name: str) -> etree._Element:
    found = optional_child(parent, namespace, name)
    if found is None:
        raise MissingElement(f"{name} missing in {etree.QName(parent).localname}")
    return found


# --- simple types ----------------------------------------------------------------------------------------

_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})*")
_INTEGER = re.compile(r"[+]?[0-9]{1,9}")


def _hex(element: etree._Element) -> bytes:
    text = element_text(element).strip()
    if not _HEX.fullmatch(text):
        raise InvalidValue(f"{etree.QName(element).localname} is not hexBinary")
    return bytes.fromhex(text)


def _integer(element: etree._Element) -> int:
    text = element_text(element).strip()
    if not _INTEGER.fullmatch(text):
        raise InvalidValue(f"{etree.QName(element).localname} is not a non-negative integer")
    return int(text)


def _string(element: etree._Element) -> str:
    return element_text(element).strip()


def _one_hex(parent, namespace, name) -> bytes:
    return _hex(one_child(parent, namespace, name))


def _optional(convert, parent, namespace, name):
    element = optional_child(parent, namespace, name)
    return None if element is None else convert(element)


def _all(convert, parent, namespace, name) -> tuple:
    return tuple(convert(element) for element in children(parent, namespace, name))


def _at_least_one(convert, parent, namespace, name) -> tuple:
    values = _all(convert, parent, namespace, name)
    if not values:
        raise MissingElement(f"{name} missing in {etree.QName(parent).localname}")
    return values


def _xsi_type(element: etree._Element) -> str:
    """The local name of the ``xsi:type`` of ``element``, which must lie in the ISO 24727 namespace."""
    value = element.get(f"{{{XSI}}}type")
    if value is None:
        raise MissingElement(f"xsi:type missing on {etree.QName(element).localname}")
    prefix, _, local = value.strip().rpartition(":")
    if element.nsmap.get(prefix or None) != ISO:
        raise InvalidValue(f"xsi:type {value!r} is not a type of the ISO 24727 namespace")
    return local


# --- parsing ---------------------------------------------------------------------------------------------


def parse(data: bytes) -> PaosEnvelope:
    """Parse one PAOS message (a SOAP envelope) into its typed form."""
    envelope = read_xml(data)
    if qualified_name(envelope) != (SOAP, "Envelope"):
        raise NotPaosMessage(f"root element {envelope.tag!r} is not a SOAP 1.1 Envelope")
    header = optional_child(envelope, SOAP, "Header")
    if header is None:
        raise MissingElement("SOAP Header with the WS-Addressing MessageID missing")
    message_id = _string(one_child(header, WSA, "MessageID"))
    if not message_id:
        raise InvalidValue("MessageID is empty")
    relates_to = _optional(_string, header, WSA, "RelatesTo")
    body = one_child(envelope, SOAP, "Body")
    elements = [child for child in body if isinstance(child.tag, str)]
    if len(elements) != 1:
        raise NotPaosMessage(f"SOAP Body holds {len(elements)} elements, not one")
    (content,) = elements
    parser = _PARSERS.get(qualified_name(content))
    if parser is None:
        raise NotPaosMessage(f"unknown message {content.tag!r}")
    return PaosEnvelope(parser(content), message_id, relates_to)


def _parse_result(parent: etree._Element) -> Result:
    element = one_child(parent, DSS, "Result")
    message = optional_child(element, DSS, "ResultMessage")
    major = _string(one_child(element, DSS, "ResultMajor"))
    if major not in (RESULT_MAJOR_OK, RESULT_MAJOR_WARNING, RESULT_MAJOR_ERROR):
        raise InvalidValue(f"ResultMajor {major!r} is not one of ok, warning, error")
    return Result(
        major=major,
        minor=_optional(_string, element, DSS, "ResultMinor"),
        message=None if message is None else element_text(message),
        message_lang=None if message is None else message.get(f"{{{XML}}}lang"),
    )


def _parse_connection_handle(element: etree._Element) -> ConnectionHandle:
    return ConnectionHandle(
        context_handle=_optional(_hex, element, ISO, "ContextHandle"),
        ifd_name=_optional(_string, element, ISO, "IFDName"),
        slot_index=_optional(_integer, element, ISO, "SlotIndex"),
        card_application=_optional(_hex, element, ISO, "CardApplication"),
        slot_handle=_optional(_hex, element, ISO, "SlotHandle"),
    )


def _parse_api_version(element: etree._Element, namespace: str = ISO, subminor: str = "Subminor") -> ApiVersion:
    return ApiVersion(
        major=_integer(one_child(element, namespace, "Major")),
        minor=_optional(_integer, element, namespace, "Minor"),
        subminor=_optional(_integer, element, namespace, subminor),
    )


def _parse_start_paos(element: etree._Element) -> StartPaos:
    agent = one_child(element, ISO, "UserAgent")
    session_identifier = _string(one_child(element, ISO, "SessionIdentifier"))
    if not session_identifier:
        raise InvalidValue("SessionIdentifier is empty")
    return StartPaos(
        session_identifier=session_identifier,
        connection_handles=_at_least_one(_parse_connection_handle, element, ISO, "ConnectionHandle"),
        user_agent=UserAgent(
            name=_string(one_child(agent, ISO, "Name")),
            version_major=_integer(one_child(agent, ISO, "VersionMajor")),
            version_minor=_integer(one_child(agent, ISO, "VersionMinor")),
            version_subminor=_optional(_integer, agent, ISO, "VersionSubminor"),
        ),
        supported_api_versions=_at_least_one(_parse_api_version, element, ISO, "SupportedAPIVersions"),
        supported_did_protocols=_all(_string, element, ISO, "SupportedDIDProtocols"),
    )


def _parse_start_paos_response(element: etree._Element) -> StartPaosResponse:
    return StartPaosResponse(_parse_result(element))


def _parse_initialize_framework(element: etree._Element) -> InitializeFramework:
    return InitializeFramework()


def _parse_initialize_framework_response(element: etree._Element) -> InitializeFrameworkResponse:
    version = one_child(element, ECARD, "Version")
    return InitializeFrameworkResponse(_parse_result(element), _parse_api_version(version, ECARD, "SubMinor"))


def _protocol(element: etree._Element) -> str:
    protocol = element.get("Protocol")
    if not protocol:
        raise MissingElement("Protocol attribute missing on AuthenticationProtocolData")
    return protocol.strip()


def _parse_did_authenticate(element: etree._Element) -> DidAuthenticate:
    data = one_child(element, ISO, "AuthenticationProtocolData")
    kind = _xsi_type(data)
    if kind == "EAC1InputType":
        parsed: AuthenticationInput = Eac1Input(
            certificates=_at_least_one(_hex, data, ISO, "Certificate"),
            certificate_description=_one_hex(data, ISO, "CertificateDescription"),
            required_chat=_optional(_hex, data, ISO, "RequiredCHAT"),
            optional_chat=_optional(_hex, data, ISO, "OptionalCHAT"),
            authenticated_auxiliary_data=_optional(_hex, data, ISO, "AuthenticatedAuxiliaryData"),
            transaction_info=_optional(_string, data, ISO, "TransactionInfo"),
        )
    elif kind == "EAC2InputType":
        parsed = Eac2Input(
            ephemeral_public_key=_one_hex(data, ISO, "EphemeralPublicKey"),
            signature=_optional(_hex, data, ISO, "Signature"),
            certificates=_all(_hex, data, ISO, "Certificate"),
        )
    elif kind == "EACAdditionalInputType":
        parsed = EacAdditionalInput(signature=_one_hex(data, ISO, "Signature"))
    else:
        raise InvalidValue(f"DIDAuthenticate with unknown AuthenticationProtocolData type {kind!r}")
    return DidAuthenticate(
        connection_handle=_parse_connection_handle(one_child(element, ISO, "ConnectionHandle")),
        data=parsed,
        did_name=_string(one_child(element, ISO, "DIDName")),
        protocol=_protocol(data),
    )


def _parse_did_authenticate_response(element: etree._Element) -> DidAuthenticateResponse:
    result = _parse_result(element)
    data = optional_child(element, ISO, "AuthenticationProtocolData")
    if data is None:
        if result.ok:
            raise MissingElement("AuthenticationProtocolData missing in a successful DIDAuthenticateResponse")
        return DidAuthenticateResponse(result)
    kind = _xsi_type(data)
    if kind == "EAC1OutputType":
        parsed: AuthenticationOutput = _parse_eac1_output(data, result)
    elif kind == "EAC2OutputType":
        parsed = _parse_eac2_output(data, result)
    else:
        raise InvalidValue(f"DIDAuthenticateResponse with unknown AuthenticationProtocolData type {kind!r}")
    return DidAuthenticateResponse(result, parsed, _protocol(data))


def _parse_eac1_output(data: etree._Element, result: Result) -> Eac1Output:
    output = Eac1Output(
        ef_card_access=_one_hex(data, ISO, "EFCardAccess"),
        id_picc=_one_hex(data, ISO, "IDPICC"),
        challenge=_one_hex(data, ISO, "Challenge"),
        certificate_holder_authorization_template=_optional(
            _hex, data, ISO, "CertificateHolderAuthorizationTemplate"),
        certification_authority_references=_all(_string, data, ISO, "CertificationAuthorityReference"),
        retry_counter=_optional(_integer, data, ISO, "RetryCounter"),
    )
    if len(output.certification_authority_references) > 2:
        raise RepeatedElement("more than two CertificationAuthorityReference elements")
    if result.ok:
        for name, value in (("EFCardAccess", output.ef_card_access), ("IDPICC", output.id_picc),
                            ("Challenge", output.challenge)):
            if not value:
                raise InvalidValue(f"{name} is empty in a successful EAC1OutputType")
    return output


def _parse_eac2_output(data: etree._Element, result: Result) -> Eac2Output:
    output = Eac2Output(
        ef_card_security=_optional(_hex, data, ISO, "EFCardSecurity"),
        authentication_token=_optional(_hex, data, ISO, "AuthenticationToken"),
        nonce=_optional(_hex, data, ISO, "Nonce"),
        challenge=_optional(_hex, data, ISO, "Challenge"),
    )
    if result.ok:
        chip_parts = (output.ef_card_security, output.authentication_token, output.nonce)
        if output.challenge is not None:
            if any(part is not None for part in chip_parts):
                raise InvalidValue("EAC2OutputType holds both the Challenge and Chip Authentication data")
            if not output.challenge:
                raise InvalidValue("Challenge is empty in EAC2OutputType")
        elif not all(chip_parts):
            raise MissingElement("EAC2OutputType needs EFCardSecurity, AuthenticationToken and Nonce")
    return output


def _parse_transmit(element: etree._Element) -> Transmit:
    def apdu_info(info: etree._Element) -> InputApduInfo:
        codes = _all(_hex, info, ISO, "AcceptableStatusCode")
        if any(not 1 <= len(code) <= 2 for code in codes):
            raise InvalidValue("AcceptableStatusCode must be one or two bytes")
        apdu = _one_hex(info, ISO, "InputAPDU")
        if len(apdu) < 4:
            raise InvalidValue("InputAPDU is shorter than a command header")
        return InputApduInfo(apdu, codes)

    return Transmit(
        slot_handle=_one_hex(element, ISO, "SlotHandle"),
        apdus=_at_least_one(apdu_info, element, ISO, "InputAPDUInfo"),
    )


def _parse_transmit_response(element: etree._Element) -> TransmitResponse:
    return TransmitResponse(_parse_result(element), _all(_hex, element, ISO, "OutputAPDU"))


_PARSERS: dict[tuple[str, str], Callable[[etree._Element], Message]] = {
    (ISO, "StartPAOS"): _parse_start_paos,
    (ISO, "StartPAOSResponse"): _parse_start_paos_response,
    (ECARD, "InitializeFramework"): _parse_initialize_framework,
    (ECARD, "InitializeFrameworkResponse"): _parse_initialize_framework_response,
    (ISO, "DIDAuthenticate"): _parse_did_authenticate,
    (ISO, "DIDAuthenticateResponse"): _parse_did_authenticate_response,
    (ISO, "Transmit"): _parse_transmit,
    (ISO, "TransmitResponse"): _parse_transmit_response,
}


# --- serialisation ---------------------------------------------------------------------------------------

_ENVELOPE_NAMESPACES = {"soap": SOAP, "paos": PAOS, "wsa": WSA, "xsi": XSI}


def serialise(envelope: PaosEnvelope) -> bytes:
    """The exact bytes of ``envelope``: XML declaration, then the envelope on one line."""
    root = etree.Element(f"{{{SOAP}}}Envelope", nsmap=_ENVELOPE_NAMESPACES)
    header = _sub(root, SOAP, "Header")
    paos = _sub(header, PAOS, "PAOS", {f"{{{SOAP}}}mustUnderstand": "1", f"{{{SOAP}}}actor": SOAP_ACTOR_NEXT})
    _text(paos, PAOS, "Version", PAOS_VERSION)
    reference = _sub(paos, PAOS, "EndpointReference")
    _text(reference, PAOS, "Address", PAOS_ROLE_ADDRESS)
    _text(_sub(reference, PAOS, "MetaData"), PAOS, "ServiceType", PAOS_SERVICE_TYPE)
    _text(_sub(header, WSA, "ReplyTo"), WSA, "Address", PAOS_REPLY_TO)
    if envelope.relates_to is not None:
        _text(header, WSA, "RelatesTo", envelope.relates_to)
    _text(header, WSA, "MessageID", envelope.message_id)
    body = _sub(root, SOAP, "Body")
    writer = _WRITERS.get(type(envelope.message))
    if writer is None:
        raise TypeError(f"not a PAOS message: {type(envelope.message).__name__}")
    writer(body, envelope.message)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + etree.tostring(root, encoding="UTF-8")


def _sub(parent, namespace: str, name: str, attributes: dict[str, str] | None = None,
         nsmap: dict[str, str] | None = None) -> etree._Element:
    return etree.SubElement(parent, f"{{{namespace}}}{name}", attributes or {}, nsmap=nsmap)


def _text(parent, namespace: str, name: str, value: str | bytes | int | None) -> None:
    if value is None:
        return
    element = _sub(parent, namespace, name)
    if isinstance(value, bytes):
        element.text = value.hex().upper()
    else:
        element.text = str(value)


def _texts(parent, namespace: str, name: str, values: Sequence[str | bytes | int]) -> None:
    for value in values:
        _text(parent, namespace, name, value)


def _message_element(body, namespace: str, name: str, profile: bool = False) -> etree._Element:
    prefix = "iso" if namespace == ISO else "ecard"
    attributes = {"Profile": ECARD} if profile else None
    return _sub(body, namespace, name, attributes, nsmap={prefix: namespace})


def _write_result(parent, result: Result) -> None:
    element = _sub(parent, DSS, "Result", nsmap={"dss": DSS})
    _text(element, DSS, "ResultMajor", result.major)
    _text(element, DSS, "ResultMinor", result.minor)
    if result.message is not None:
        attributes = {f"{{{XML}}}lang": result.message_lang} if result.message_lang else None
        _sub(element, DSS, "ResultMessage", attributes).text = result.message


def _write_connection_handle(parent, handle: ConnectionHandle) -> None:
    element = _sub(parent, ISO, "ConnectionHandle")
    _text(element, ISO, "ContextHandle", handle.context_handle)
    _text(element, ISO, "IFDName", handle.ifd_name)
    _text(element, ISO, "SlotIndex", handle.slot_index)
    _text(element, ISO, "CardApplication", handle.card_application)
    _text(element, ISO, "SlotHandle", handle.slot_handle)


def _write_api_version(parent, name: str, version: ApiVersion, namespace: str = ISO,
                       subminor: str = "Subminor") -> None:
    element = _sub(parent, namespace, name)
    _text(element, namespace, "Major", version.major)
    _text(element, namespace, "Minor", version.minor)
    _text(element, namespace, subminor, version.subminor)


def _write_start_paos(body, message: StartPaos) -> None:
    element = _message_element(body, ISO, "StartPAOS")
    _text(element, ISO, "SessionIdentifier", message.session_identifier)
    for handle in message.connection_handles:
        _write_connection_handle(element, handle)
    agent = _sub(element, ISO, "UserAgent")
    _text(agent, ISO, "Name", message.user_agent.name)
    _text(agent, ISO, "VersionMajor", message.user_agent.version_major)
    _text(agent, ISO, "VersionMinor", message.user_agent.version_minor)
    _text(agent, ISO, "VersionSubminor", message.user_agent.version_subminor)
    for version in message.supported_api_versions:
        _write_api_version(element, "SupportedAPIVersions", version)
    _texts(element, ISO, "SupportedDIDProtocols", message.supported_did_protocols)


def _write_start_paos_response(body, message: StartPaosResponse) -> None:
    _write_result(_message_element(body, ISO, "StartPAOSResponse"), message.result)


def _write_initialize_framework(body, message: InitializeFramework) -> None:
    _message_element(body, ECARD, "InitializeFramework")


def _write_initialize_framework_response(body, message: InitializeFrameworkResponse) -> None:
    element = _message_element(body, ECARD, "InitializeFrameworkResponse", profile=True)
    _write_result(element, message.result)
    _write_api_version(element, "Version", message.version, ECARD, "SubMinor")


def _authentication_data(parent, protocol: str, kind: str) -> etree._Element:
    return _sub(parent, ISO, "AuthenticationProtocolData", {"Protocol": protocol, f"{{{XSI}}}type": f"iso:{kind}"})


def _write_did_authenticate(body, message: DidAuthenticate) -> None:
    element = _message_element(body, ISO, "DIDAuthenticate")
    _write_connection_handle(element, message.connection_handle)
    _text(element, ISO, "DIDName", message.did_name)
    data = message.data
    if isinstance(data, Eac1Input):
        apd = _authentication_data(element, message.protocol, "EAC1InputType")
        _texts(apd, ISO, "Certificate", data.certificates)
        _text(apd, ISO, "CertificateDescription", data.certificate_description)
        _text(apd, ISO, "RequiredCHAT", data.required_chat)
        _text(apd, ISO, "OptionalCHAT", data.optional_chat)
        _text(apd, ISO, "AuthenticatedAuxiliaryData", data.authenticated_auxiliary_data)
        _text(apd, ISO, "TransactionInfo", data.transaction_info)
    elif isinstance(data, Eac2Input):
        apd = _authentication_data(element, message.protocol, "EAC2InputType")
        _texts(apd, ISO, "Certificate", data.certificates)
        _text(apd, ISO, "EphemeralPublicKey", data.ephemeral_public_key)
        _text(apd, ISO, "Signature", data.signature)
    else:
        apd = _authentication_data(element, message.protocol, "EACAdditionalInputType")
        _text(apd, ISO, "Signature", data.signature)


def _write_did_authenticate_response(body, message: DidAuthenticateResponse) -> None:
    element = _message_element(body, ISO, "DIDAuthenticateResponse", profile=True)
    _write_result(element, message.result)
    data = message.data
    if isinstance(data, Eac1Output):
        apd = _authentication_data(element, message.protocol, "EAC1OutputType")
        _text(apd, ISO, "RetryCounter", data.retry_counter)
        _text(apd, ISO, "CertificateHolderAuthorizationTemplate", data.certificate_holder_authorization_template)
        _texts(apd, ISO, "CertificationAuthorityReference", data.certification_authority_references)
        _text(apd, ISO, "EFCardAccess", data.ef_card_access)
        _text(apd, ISO, "IDPICC", data.id_picc)
        _text(apd, ISO, "Challenge", data.challenge)
    elif isinstance(data, Eac2Output):
        apd = _authentication_data(element, message.protocol, "EAC2OutputType")
        _text(apd, ISO, "EFCardSecurity", data.ef_card_security)
        _text(apd, ISO, "AuthenticationToken", data.authentication_token)
        _text(apd, ISO, "Nonce", data.nonce)
        _text(apd, ISO, "Challenge", data.challenge)


def _write_transmit(body, message: Transmit) -> None:
    element = _message_element(body, ISO, "Transmit")
    _text(element, ISO, "SlotHandle", message.slot_handle)
    for info in message.apdus:
        info_element = _sub(element, ISO, "InputAPDUInfo")
        _text(info_element, ISO, "InputAPDU", info.apdu)
        _texts(info_element, ISO, "AcceptableStatusCode", info.acceptable_status_codes)


def _write_transmit_response(body, message: TransmitResponse) -> None:
    element = _message_element(body, ISO, "TransmitResponse", profile=True)
    _write_result(element, message.result)
    _texts(element, ISO, "OutputAPDU", message.output_apdus)


_WRITERS: dict[type, Callable[[etree._Element, Message], None]] = {
    StartPaos: _write_start_paos,
    StartPaosResponse: _write_start_paos_response,
    InitializeFramework: _write_initialize_framework,
    InitializeFrameworkResponse: _write_initialize_framework_response,
    DidAuthenticate: _write_did_authenticate,
    DidAuthenticateResponse: _write_did_authenticate_response,
    Transmit: _write_transmit,
    TransmitResponse: _write_transmit_response,
}
