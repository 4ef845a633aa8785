import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eid import oid
from eid.card_security import CardSecurity
from eid.domain_parameters import by_name
from eid.errors import EidError
from eid.security_infos import (
    CardInfoLocator,
    ChipAuthenticationDomainParameterInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    DomainParameters,
    EidSecurityInfo,
    FileId,
    PaceDomainParameterInfo,
    PaceInfo,
    ParameterForm,
    PrivilegedTerminalInfo,
    RestrictedIdentificationDomainParameterInfo,
    RestrictedIdentificationInfo,
    SecurityInfoError,
    SecurityInfos,
    SubjectPublicKey,
    TerminalAuthenticationInfo,
    UnknownSecurityInfo,
    encode_security_infos,
    parse_security_infos,
)
from tests.support.properties import corrupt, result_or_our_error
from tests.support.vectors import hex_value

WE = "bsi-worked-example-card-files"
SIM = "ausweisapp-simulator-card-files"
BRAINPOOL = by_name("brainpoolP256r1")


def test_worked_example_card_access():
    raw = hex_value(WE, "ef_card_access")
    infos = parse_security_infos(raw)
    assert infos.encode() == raw
    assert infos.pace_infos() == [PaceInfo(oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_128, 2, 13)]
    assert infos.of_type(TerminalAuthenticationInfo) == [TerminalAuthenticationInfo(oid.ID_TA, 2)]
    assert infos.chip_authentication_info() == ChipAuthenticationInfo(oid.ID_CA_ECDH_AES_CBC_CMAC_128, 2, 1)
    assert infos.of_type(ChipAuthenticationDomainParameterInfo) == [
        ChipAuthenticationDomainParameterInfo(oid.ID_CA_ECDH, DomainParameters(BRAINPOOL), 1)
    ]
    assert infos.of_type(CardInfoLocator) == [CardInfoLocator("https://www.hjp-consulting.com/home")]
    privileged = infos.of_type(PrivilegedTerminalInfo)[0].security_infos
    assert privileged.chip_authentication_info().key_id == 2


def test_worked_example_card_security_content():
    security = CardSecurity.parse(hex_value(WE, "ef_card_security"))
    infos = security.security_infos
    # the worked example's SET OF is not in DER order; re-encoding sorts, the content stays the same
    assert parse_security_infos(infos.encode()).infos == tuple(sorted(infos.infos, key=lambda i: i.encode()))
    public_key = infos.chip_authentication_public_key(key_id=1)
    assert public_key.protocol == oid.ID_PK_ECDH
    assert public_key.public_key.point == hex_value(WE, "ca_public_key")
    assert public_key.public_key.curve is BRAINPOOL
    ri = infos.restricted_identification_infos()
    assert {(i.protocol, i.key_id, i.authorized_only) for i in ri} == {
        (oid.ID_RI_ECDH_SHA_256, 1, False), (oid.ID_RI_ECDH_SHA_256, 2, True)
    }
    assert infos.of_type(RestrictedIdentificationDomainParameterInfo)[0].domain_parameters.curve is BRAINPOOL


def test_ausweisapp_simulator_files():
    access = parse_security_infos(hex_value(SIM, "ef_card_access"))
    assert access.chip_authentication_info().key_id == 41
    # the simulator does not sort its SET OF; we encode in DER order and keep the content
    assert parse_security_infos(access.encode()).infos == tuple(sorted(access.infos, key=lambda i: i.encode()))
    security = CardSecurity.parse(hex_value(SIM, "ef_card_security")).security_infos
    ri_parameters = security.of_type(RestrictedIdentificationDomainParameterInfo)[0].domain_parameters
    assert ri_parameters == DomainParameters(BRAINPOOL, ParameterForm.NAMED)
    eid_security = security.of_type(EidSecurityInfo)[0]
    assert eid_security.hash_algorithm == "2.16.840.1.101.3.4.2.4"  # SHA-224
    assert [n for n, _ in eid_security.data_group_hashes][:3] == [1, 2, 3]
    assert all(len(h) == 28 for _, h in eid_security.data_group_hashes)
    assert parse_security_infos(security.encode()) == SecurityInfos(tuple(sorted(security.infos, key=lambda i: i.encode())))


def test_build_what_the_virtual_card_needs():
    point = bytes.fromhex("04" + "8BD2AEB9CB7E57CB2C4B482FFC81B7AFB9DE27E1E3BD23C23A4453BD9ACE3262"
                          "547EF835C3DAC4FD97F8461A14611DC9C27745132DED8E545C1D54C72F046997")
    infos = [
        PaceInfo(oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_256, 2, 13),
        ChipAuthenticationInfo(oid.ID_CA_ECDH_AES_CBC_CMAC_128, 2, 1),
        ChipAuthenticationDomainParameterInfo(oid.ID_CA_ECDH, DomainParameters(BRAINPOOL), 1),
        ChipAuthenticationPublicKeyInfo(oid.ID_PK_ECDH, SubjectPublicKey(DomainParameters(BRAINPOOL, ParameterForm.EXPLICIT), point), 1),
        TerminalAuthenticationInfo(ef_cvca=FileId(b"\x01\x1c", b"\x1c")),
        RestrictedIdentificationInfo(oid.ID_RI_ECDH_SHA_256, key_id=2, authorized_only=False, max_key_length=256),
        PaceDomainParameterInfo(oid.ID_PACE_ECDH_GM, DomainParameters(by_name("brainpoolP512r1"), ParameterForm.EXPLICIT), 32),
        UnknownSecurityInfo("0.4.0.127.0.7.2.2.12.3", bytes.fromhex("3003020103")),
        CardInfoLocator("http://example.org", extended=bytes.fromhex("8101")),
    ]
    raw = encode_security_infos(infos)
    parsed = parse_security_infos(raw)
    assert sorted(parsed.infos, key=repr) == sorted(infos, key=repr)
    assert parsed.encode() == raw


@pytest.mark.parametrize("raw", [
    "3100",  # empty is fine
])
def test_empty_set(raw):
    assert len(parse_security_infos(bytes.fromhex(raw))) == 0


@pytest.mark.parametrize("raw,message", [
    ("3003300106", "SecurityInfo"),
    ("300D060804007F0007020202020102", "expected tag 31"),
    ("31153013060804007F0007020202020102020101020101", "elements"),
    ("31123010060A04007F0007020204020202020001", "INTEGER"),
])
def test_rejects_malformed(raw, message):
    with pytest.raises(EidError, match=message):
        parse_security_infos(bytes.fromhex(raw))


def test_lookup_errors():
    infos = parse_security_infos(hex_value(WE, "ef_card_access"))
    with pytest.raises(SecurityInfoError):
        infos.chip_authentication_public_key()
    with pytest.raises(SecurityInfoError):
        infos.chip_authentication_info(key_id=7)


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_any_bytes_parse_or_raise_our_error(data):
    result_or_our_error(parse_security_infos, data)


@settings(max_examples=300)
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_corrupted_card_access_parses_or_raises_our_error(position, value):
    raw = corrupt(hex_value(WE, "ef_card_access"), position, value)
    result_or_our_error(parse_security_infos, raw)
