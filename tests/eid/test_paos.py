"""eid/paos.py: the captured AusweisApp 1.26.2 exchange, exact serialisation, hostile XML, properties."""

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eid import paos
from eid.errors import EidError, MalformedData
from eid.paos import (
    ApiVersion, ConnectionHandle, DidAuthenticate, DidAuthenticateResponse, Eac1Input, Eac1Output,
    Eac2Input, Eac2Output, EacAdditionalInput, InitializeFramework, InitializeFrameworkResponse,
    InputApduInfo, InvalidValue, MissingElement, NotPaosMessage, PaosEnvelope, PaosError,
    RepeatedElement, Result, StartPaos, StartPaosResponse, Transmit, TransmitResponse, UserAgent,
    XmlRejected,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "paos"


def vector(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def upper_hex(xml: bytes) -> bytes:
    """The captured stub wrote some hexBinary in lower case; we always write upper case."""
    return re.sub(rb">([0-9a-f]+)<", lambda m: b">" + m.group(1).upper() + b"<", xml)


# --- the captured exchange -------------------------------------------------------------------------


def test_start_paos_from_ausweisapp():
    envelope = paos.parse(vector("01-in.xml"))
    assert envelope.message_id == "urn:uuid:66f5c935-e8ba-b6f7-f413-c58591ee9d7a"
    assert envelope.relates_to is None
    assert envelope.message == StartPaos(
        session_identifier="1A2BB129",
        connection_handles=(ConnectionHandle(card_application=bytes.fromhex("e80704007f00070302"),
                                             slot_handle=b"\x00"),),
        user_agent=UserAgent("AusweisApp2", 1, 26, 2),
        supported_api_versions=(ApiVersion(1, 1, 5),),
    )


def test_did_authenticate_eac1_as_accepted_by_ausweisapp():
    envelope = paos.parse(vector("01-out.xml"))
    assert envelope.relates_to == "urn:uuid:66f5c935-e8ba-b6f7-f413-c58591ee9d7a"
    message = envelope.message
    assert isinstance(message, DidAuthenticate)
    assert message.did_name == "PIN" and message.protocol == paos.EAC_PROTOCOL
    assert message.connection_handle == ConnectionHandle(slot_handle=b"\x00")
    data = message.data
    assert isinstance(data, Eac1Input)
    assert [cert[:2] for cert in data.certificates] == [b"\x7f\x21", b"\x7f\x21"]
    # DV certificate (CAR DETESTeID00005, CHR DEOWNDV0000001) first, then the AT certificate.
    assert b"B\x0eDETESTeID00005" in data.certificates[0] and b"\x5f\x20\x0eDEOWNDV0000001" in data.certificates[0]
    assert b"B\x0eDEOWNDV0000001" in data.certificates[1] and b"\x5f\x20\x0eDEOWNAT0000001" in data.certificates[1]
    assert data.certificate_description.startswith(bytes.fromhex("308187060a04007f00070301030101"))
    assert data.required_chat == bytes.fromhex("7F4C12060904007F00070301020253050001137C05")
    assert data.optional_chat == bytes.fromhex("7F4C12060904007F00070301020253050000000000")
    assert data.authenticated_auxiliary_data is None and data.transaction_info is None


def test_cancelled_eac1_response_from_ausweisapp():
    envelope = paos.parse(vector("02-in.xml"))
    assert envelope.relates_to == "urn:uuid:eeefd228-ea4d-47ae-b52a-d7a723d2104d"
    assert envelope.message == DidAuthenticateResponse(
        result=Result(paos.RESULT_MAJOR_ERROR, paos.RESULT_MINOR_CANCELLATION_BY_USER,
                      "The process has been cancelled.", "en"),
        data=Eac1Output(ef_card_access=b"", id_picc=b"", challenge=b""),
    )
    assert not envelope.message.result.ok


def test_stub_start_paos_response():
    message = paos.parse(vector("02-out.xml")).message
    assert message == StartPaosResponse(Result.error(paos.RESULT_MINOR_UNKNOWN_ERROR, "stub server stops after EAC1"))


@pytest.mark.parametrize("name", ["01-out.xml", "02-out.xml"])
def test_server_messages_serialise_exactly_as_captured(name):
    raw = vector(name)
    assert paos.serialise(paos.parse(raw)) == upper_hex(raw)


@pytest.mark.parametrize("name", ["01-in.xml", "02-in.xml"])
def test_client_messages_round_trip(name):
    envelope = paos.parse(vector(name))
    assert paos.parse(paos.serialise(envelope)) == envelope


def test_message_id_is_a_random_uuid_from_the_injected_rng():
    assert paos.new_message_id(lambda n: bytes(range(n))) == "urn:uuid:00010203-0405-4607-8809-0a0b0c0d0e0f"


# --- every message type, written and read back ---------------------------------------------------------

HANDLE = ConnectionHandle(slot_handle=b"\x00")
EXAMPLES = [
    InitializeFramework(),
    InitializeFrameworkResponse(Result(), ApiVersion(1, 1, 5)),
    DidAuthenticate(HANDLE, Eac1Input((b"\x7f\x21\x01", b"\x7f\x21\x02"), b"\x30\x00", b"\x7f\x4c\x01",
                                      b"\x7f\x4c\x02", b"\x67\x00", "Vorgang 1 & <2>")),
    DidAuthenticate(HANDLE, Eac2Input(b"\x04" + bytes(64), bytes(64))),
    DidAuthenticate(HANDLE, Eac2Input(b"\x04" + bytes(64), None, (b"\x7f\x21\x00",))),
    DidAuthenticate(HANDLE, EacAdditionalInput(bytes(64))),
    DidAuthenticateResponse(Result(), Eac1Output(b"\x31\x00", b"\x01" * 32, b"\x02" * 8, b"\x7f\x4c\x00",
                                                 ("DETESTeID00005", "DETESTeID00004"), 3)),
    DidAuthenticateResponse(Result(), Eac2Output(b"\x30\x00", b"\x01" * 8, b"\x02" * 8)),
    DidAuthenticateResponse(Result(), Eac2Output(challenge=b"\x03" * 8)),
    DidAuthenticateResponse(Result.error(paos.RESULT_MINOR_INTERNAL_ERROR, "card removed")),
    Transmit(b"\x00", (InputApduInfo(bytes.fromhex("00A4040C09E80704007F00070302"), (b"\x90\x00",)),
                       InputApduInfo(bytes.fromhex("0CB0810000"), ()))),
    TransmitResponse(Result(), (b"\x90\x00", b"\x6a\x82")),
    StartPaosResponse(Result()),
]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: type(m).__name__)
def test_every_message_round_trips(message):
    envelope = PaosEnvelope(message, "urn:uuid:1", "urn:uuid:0")
    data = paos.serialise(envelope)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?><soap:Envelope ')
    assert paos.parse(data) == envelope
    assert paos.serialise(paos.parse(data)) == data


def test_result_ok_and_error():
    assert Result().ok
    error = Result.error(paos.RESULT_MINOR_TIMEOUT)
    assert not error.ok and error.minor.endswith("dp#timeout") and error.message is None


# --- hostile and malformed XML ----------------------------------------------------------------------------

START = vector("01-in.xml")


def edit(old: bytes, new: bytes, data: bytes = START) -> bytes:
    assert old in data
    return data.replace(old, new, 1)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&lol3;</soap:Body></soap:Envelope>"""

EXTERNAL_ENTITY = edit(b"<SessionIdentifier>1A2BB129", b"<SessionIdentifier>&xxe;",
                       edit(b'<?xml version="1.0" encoding="UTF-8"?>',
                            b'<?xml version="1.0" encoding="UTF-8"?>'
                            b'<!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'))

EXTERNAL_DTD = edit(b'<?xml version="1.0" encoding="UTF-8"?>',
                    b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE soap:Envelope SYSTEM "http://127.0.0.1:9/x.dtd">')

PARAMETER_ENTITY = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p">%p;]>'
                    b"<r/>")


@pytest.mark.parametrize("data,reason", [
    (BILLION_LAUGHS, "document type declaration"),
    (EXTERNAL_ENTITY, "document type declaration"),
    (EXTERNAL_DTD, "document type declaration"),
    (PARAMETER_ENTITY, "document type declaration"),
    (edit(b"<soap:Body>", b"<soap:Body><?php system('id'); ?>"), "processing instruction"),
    (edit(b'<?xml version="1.0" encoding="UTF-8"?>',
          b'<?xml version="1.0" encoding="UTF-8"?><?xml-stylesheet href="http://x/s.xsl"?>'),
     "processing instruction"),
    (START.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"), "UTF-8"),
    (edit(b'encoding="UTF-8"', b'encoding="ISO-8859-1"'), "UTF-8"),
    (START + b"x" * paos.MAX_MESSAGE_BYTES, "exceeds the limit"),
    (b"<a>" * (paos.MAX_DEPTH + 1) + b"</a>" * (paos.MAX_DEPTH + 1), "deeper"),
    (b"<a>" + b"<b/>" * paos.MAX_ELEMENTS + b"</a>", "more than"),
    (START[:-40], "not well-formed"),
    (b"", "not well-formed"),
    (b"\x00\x01\x02", "not well-formed"),
    ("<a>x</a>", "bytes"),
])
def test_hostile_xml_is_rejected(data, reason):
    with pytest.raises(XmlRejected, match=reason):
        paos.parse(data)


def test_comments_are_ignored():
    data = edit(b"<SessionIdentifier>", b"<!-- hello --><SessionIdentifier>")
    assert paos.parse(data).message.session_identifier == "1A2BB129"


@pytest.mark.parametrize("data,error,reason", [
    (edit(b"http://schemas.xmlsoap.org/soap/envelope/", b"http://www.w3.org/2003/05/soap-envelope"),
     NotPaosMessage, "not a SOAP 1.1 Envelope"),
    (edit(b'<StartPAOS xmlns="urn:iso:std:iso-iec:24727:tech:schema">',
          b'<StartPAOS xmlns="http://www.bsi.bund.de/ecard/api/1.1">').replace(b"</StartPAOS>", b"</StartPAOS>"),
     NotPaosMessage, "unknown message"),
    (edit(b"</StartPAOS>", b"</StartPAOS><StartPAOS xmlns='urn:iso:std:iso-iec:24727:tech:schema'/>"),
     NotPaosMessage, "holds 2 elements"),
    (edit(b"<soap:Body>", b"<soap:Body><Evil xmlns='urn:x'/>").replace(b"<StartPAOS", b"<Other", 1)
     .replace(b"</StartPAOS>", b"</Other>"), NotPaosMessage, "holds 2 elements"),
    (re.sub(rb"<wsa:MessageID>.*?</wsa:MessageID>", b"", START), MissingElement, "MessageID"),
    (re.sub(rb"<soap:Header>.*</soap:Header>", b"", START, flags=re.S), MissingElement, "Header"),
    (edit(b"<wsa:MessageID>urn:uuid:66f5c935-e8ba-b6f7-f413-c58591ee9d7a", b"<wsa:MessageID>"),
     InvalidValue, "MessageID is empty"),
    (re.sub(rb"<SessionIdentifier>.*?</SessionIdentifier>", b"", START), MissingElement, "SessionIdentifier"),
    (edit(b"<SessionIdentifier>1A2BB129</SessionIdentifier>",
          b"<SessionIdentifier xmlns='urn:other'>1A2BB129</SessionIdentifier>"), MissingElement,
     "SessionIdentifier"),
    (edit(b"<SessionIdentifier>1A2BB129</SessionIdentifier>",
          b"<SessionIdentifier>1</SessionIdentifier><SessionIdentifier>2</SessionIdentifier>"),
     RepeatedElement, "SessionIdentifier occurs 2 times"),
    (edit(b"<VersionMajor>1</VersionMajor>", b"<VersionMajor>one</VersionMajor>"), InvalidValue, "VersionMajor"),
    (edit(b"<VersionMajor>1</VersionMajor>", b"<VersionMajor>-1</VersionMajor>"), InvalidValue, "VersionMajor"),
    (edit(b"<SlotHandle>00</SlotHandle>", b"<SlotHandle>0G</SlotHandle>"), InvalidValue, "SlotHandle"),
    (edit(b"<SlotHandle>00</SlotHandle>", b"<SlotHandle>000</SlotHandle>"), InvalidValue, "SlotHandle"),
    (edit(b"<SlotHandle>00</SlotHandle>", b"<SlotHandle><b>00</b></SlotHandle>"), InvalidValue, "SlotHandle"),
    (re.sub(rb"<ConnectionHandle .*?</ConnectionHandle>", b"", START, flags=re.S), MissingElement,
     "ConnectionHandle"),
    (re.sub(rb"<UserAgent>.*?</UserAgent>", b"", START, flags=re.S), MissingElement, "UserAgent"),
    (re.sub(rb"<SupportedAPIVersions>.*?</SupportedAPIVersions>", b"", START, flags=re.S), MissingElement,
     "SupportedAPIVersions"),
])
def test_malformed_start_paos_is_rejected(data, error, reason):
    with pytest.raises(error, match=reason):
        paos.parse(data)


EAC1_REQUEST = vector("01-out.xml")
EAC1_RESPONSE = vector("02-in.xml")


def ok_eac1_response(body: bytes) -> bytes:
    """02-in.xml turned into a successful EAC1OutputType with ``body`` as its content."""
    data = re.sub(rb"<Result xmlns.*?</Result>",
                  b'<Result xmlns="urn:oasis:names:tc:dss:1.0:core:schema"><ResultMajor>'
                  + paos.RESULT_MAJOR_OK.encode() + b"</ResultMajor></Result>", EAC1_RESPONSE, flags=re.S)
    return re.sub(rb"<EFCardAccess>.*</Challenge>", body, data, flags=re.S)


def eac2_response(body: bytes) -> bytes:
    return ok_eac1_response(body).replace(b"iso:EAC1OutputType", b"iso:EAC2OutputType")


def test_successful_eac1_output_parses():
    message = paos.parse(ok_eac1_response(
        b"<CertificationAuthorityReference>DETESTeID00005</CertificationAuthorityReference>"
        b"<EFCardAccess>3100</EFCardAccess><IDPICC>0102</IDPICC><Challenge>A1A2A3A4A5A6A7A8</Challenge>")).message
    assert message.result.ok
    assert message.data == Eac1Output(b"\x31\x00", b"\x01\x02", bytes.fromhex("A1A2A3A4A5A6A7A8"), None,
                                      ("DETESTeID00005",))


@pytest.mark.parametrize("data,error,reason", [
    (ok_eac1_response(b"<EFCardAccess>3100</EFCardAccess><IDPICC>01</IDPICC><IDPICC>02</IDPICC>"
                      b"<Challenge>01</Challenge>"), RepeatedElement, "IDPICC occurs 2 times"),
    (ok_eac1_response(b"<EFCardAccess>3100</EFCardAccess><IDPICC>01</IDPICC>"), MissingElement, "Challenge"),
    (ok_eac1_response(b"<EFCardAccess>3100</EFCardAccess><IDPICC>01</IDPICC><Challenge></Challenge>"),
     InvalidValue, "Challenge is empty"),
    (ok_eac1_response(b"<CertificationAuthorityReference>A</CertificationAuthorityReference>" * 3
                      + b"<EFCardAccess>31</EFCardAccess><IDPICC>01</IDPICC><Challenge>01</Challenge>"),
     RepeatedElement, "CertificationAuthorityReference"),
    (ok_eac1_response(b"<EFCardAccess>31</EFCardAccess><IDPICC>01</IDPICC><Challenge>01</Challenge>"
                      b"<RetryCounter>x</RetryCounter>"), InvalidValue, "RetryCounter"),
    (edit(b' xsi:type="iso:EAC1OutputType"', b"", EAC1_RESPONSE), MissingElement, "xsi:type"),
    (edit(b'xsi:type="iso:EAC1OutputType"', b'xsi:type="dss:EAC1OutputType"', EAC1_RESPONSE), InvalidValue,
     "not a type of the ISO 24727 namespace"),
    (edit(b'xsi:type="iso:EAC1OutputType"', b'xsi:type="iso:PACEOutputType"', EAC1_RESPONSE), InvalidValue,
     "unknown AuthenticationProtocolData type 'PACEOutputType'"),
    (edit(b' Protocol="urn:oid:1.3.162.15480.3.0.14.2"', b"", EAC1_RESPONSE), MissingElement, "Protocol"),
    (edit(b"resultmajor#error", b"resultmajor#maybe", EAC1_RESPONSE), InvalidValue, "ResultMajor"),
    (re.sub(rb"<AuthenticationProtocolData.*</AuthenticationProtocolData>", b"",
            ok_eac1_response(b""), flags=re.S), MissingElement, "AuthenticationProtocolData"),
    (eac2_response(b"<EFCardSecurity>30</EFCardSecurity><AuthenticationToken>01</AuthenticationToken>"),
     MissingElement, "Nonce"),
    (eac2_response(b"<EFCardSecurity>30</EFCardSecurity><AuthenticationToken>01</AuthenticationToken>"
                   b"<Nonce>02</Nonce><Challenge>03</Challenge>"), InvalidValue, "both"),
    (eac2_response(b"<Challenge></Challenge>"), InvalidValue, "Challenge is empty"),
])
def test_malformed_did_authenticate_response_is_rejected(data, error, reason):
    with pytest.raises(error, match=reason):
        paos.parse(data)


def test_error_response_may_omit_the_protocol_data():
    data = re.sub(rb"<AuthenticationProtocolData.*</AuthenticationProtocolData>", b"", EAC1_RESPONSE, flags=re.S)
    message = paos.parse(data).message
    assert message.data is None and message.result.minor == paos.RESULT_MINOR_CANCELLATION_BY_USER


@pytest.mark.parametrize("data,error,reason", [
    (re.sub(rb"<iso:Certificate>.*?</iso:Certificate>", b"", EAC1_REQUEST), MissingElement, "Certificate"),
    (re.sub(rb"<iso:CertificateDescription>.*?</iso:CertificateDescription>", b"", EAC1_REQUEST),
     MissingElement, "CertificateDescription"),
    (edit(b"<iso:RequiredCHAT>7F4C", b"<iso:RequiredCHAT>XX4C", EAC1_REQUEST), InvalidValue, "RequiredCHAT"),
    (re.sub(rb"<iso:DIDName>PIN</iso:DIDName>", b"", EAC1_REQUEST), MissingElement, "DIDName"),
])
def test_malformed_did_authenticate_is_rejected(data, error, reason):
    with pytest.raises(error, match=reason):
        paos.parse(data)


def transmit_with(info: bytes) -> bytes:
    template = paos.serialise(PaosEnvelope(Transmit(b"\x00", (InputApduInfo(b"\x00\xa4\x04\x0c"),)), "urn:uuid:1"))
    return re.sub(rb"<iso:InputAPDUInfo>.*</iso:InputAPDUInfo>", info, template)


@pytest.mark.parametrize("info,error,reason", [
    (b"", MissingElement, "InputAPDUInfo"),
    (b"<iso:InputAPDUInfo><iso:InputAPDU>00A4</iso:InputAPDU></iso:InputAPDUInfo>", InvalidValue, "shorter"),
    (b"<iso:InputAPDUInfo><iso:InputAPDU>00A4040C</iso:InputAPDU>"
     b"<iso:AcceptableStatusCode>900000</iso:AcceptableStatusCode></iso:InputAPDUInfo>", InvalidValue,
     "AcceptableStatusCode"),
    (b"<iso:InputAPDUInfo></iso:InputAPDUInfo>", MissingElement, "InputAPDU"),
])
def test_malformed_transmit_is_rejected(info, error, reason):
    with pytest.raises(error, match=reason):
        paos.parse(transmit_with(info))


def test_errors_are_eid_errors():
    assert issubclass(PaosError, MalformedData) and issubclass(PaosError, EidError)
    for error in (XmlRejected, NotPaosMessage, MissingElement, RepeatedElement, InvalidValue):
        assert issubclass(error, PaosError)


# --- properties ------------------------------------------------------------------------------------------

xml_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40)
token = xml_text.map(str.strip).filter(bool)
blob = st.binary(max_size=64)
small = st.integers(min_value=0, max_value=999_999)
results = st.builds(Result, st.sampled_from([paos.RESULT_MAJOR_OK, paos.RESULT_MAJOR_ERROR]), st.none() | token) | \
    st.builds(Result, st.just(paos.RESULT_MAJOR_ERROR), token, xml_text, st.none() | st.just("en"))
handles = st.builds(ConnectionHandle, st.none() | blob, st.none() | token, st.none() | small, st.none() | blob,
                    st.none() | blob)
messages = st.one_of(
    st.builds(StartPaos, token, st.lists(handles, min_size=1, max_size=3).map(tuple),
              st.builds(UserAgent, token, small, small, st.none() | small),
              st.lists(st.builds(ApiVersion, small, st.none() | small, st.none() | small), min_size=1,
                       max_size=2).map(tuple),
              st.lists(token, max_size=2).map(tuple)),
    st.builds(StartPaosResponse, results),
    st.builds(InitializeFrameworkResponse, results, st.builds(ApiVersion, small, st.none() | small,
                                                              st.none() | small)),
    st.builds(DidAuthenticate, handles,
              st.one_of(st.builds(Eac1Input, st.lists(blob, min_size=1, max_size=3).map(tuple), blob,
                                  st.none() | blob, st.none() | blob, st.none() | blob, st.none() | token),
                        st.builds(Eac2Input, blob, st.none() | blob, st.lists(blob, max_size=2).map(tuple)),
                        st.builds(EacAdditionalInput, blob)),
              token),
    st.builds(DidAuthenticateResponse, st.just(Result.error(paos.RESULT_MINOR_INTERNAL_ERROR)),
              st.none() | st.builds(Eac1Output, blob, blob, blob, st.none() | blob,
                                    st.lists(token, max_size=2).map(tuple), st.none() | small)
              | st.builds(Eac2Output, st.none() | blob, st.none() | blob, st.none() | blob, st.none() | blob)),
    st.builds(Transmit, blob, st.lists(st.builds(InputApduInfo, st.binary(min_size=4, max_size=40),
                                                 st.lists(st.binary(min_size=2, max_size=2), max_size=2)
                                                 .map(tuple)), min_size=1, max_size=4).map(tuple)),
    st.builds(TransmitResponse, results, st.lists(blob, max_size=4).map(tuple)),
)


@settings(max_examples=300, deadline=None)
@given(messages, token, st.none() | token)
def test_any_message_round_trips(message, message_id, relates_to):
    envelope = PaosEnvelope(message, message_id, relates_to)
    assert paos.parse(paos.serialise(envelope)) == envelope


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["01-in.xml", "01-out.xml", "02-in.xml", "02-out.xml"]), st.data())
def test_mutated_messages_parse_or_raise_paos_error(name, data):
    raw = bytearray(vector(name))
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip":
            raw[position] = data.draw(st.integers(0, 255))
        elif action == "delete":
            del raw[position:position + data.draw(st.integers(1, 40))]
        else:
            raw[position:position] = data.draw(st.sampled_from(
                [b"<", b">", b"&", b"<x>", b"</x>", b"<!--", b"<?pi?>", b"&amp;", b"]]>", b'"', b"\xff", b"<!DOCTYPE"]))
        if not raw:
            break
    try:
        envelope = paos.parse(bytes(raw))
    except PaosError:
        return
    assert isinstance(envelope, PaosEnvelope)
    assert paos.parse(paos.serialise(envelope)) == envelope
