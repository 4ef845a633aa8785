import dataclasses
import datetime

import pytest
from cryptography.hazmat.primitives import serialization

from eid import passive_authentication as pa
from eid.card_security import CardSecurity
from eid.errors import EidError, MalformedData
from eid.pki import create_card_profile, create_test_pki
from eid.security_infos import ChipAuthenticationPublicKeyInfo
from tests.support.vectors import hex_value

TODAY = datetime.date(2025, 3, 1)
NOW = datetime.datetime(2025, 3, 2, 12, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def setup():
    pki = create_test_pki(today=TODAY)
    return pki, create_card_profile(pki, today=TODAY)


def test_genuine_card_passes(setup):
    pki, profile = setup
    result = pa.verify(profile.card_security, [pki.csca], NOW)
    assert result.csca == pki.csca and result.document_signer == pki.document_signer
    assert result.security_infos.of_type(ChipAuthenticationPublicKeyInfo)


def test_csca_list_from_pem(setup):
    pki, profile = setup
    other = create_test_pki(today=TODAY)
    bundle = other.csca.public_bytes(serialization.Encoding.PEM) + pki.csca.public_bytes(serialization.Encoding.PEM)
    cscas = pa.load_csca_list(bundle)
    assert len(cscas) == 2
    assert pa.verify(profile.card_security, cscas, NOW).csca == pki.csca
    with pytest.raises(MalformedData):
        pa.load_csca_list(b"not pem")


def test_card_of_a_foreign_csca_fails(setup):
    pki, _ = setup
    simulator = hex_value("ausweisapp-simulator-card-files", "ef_card_security")  # signed under "TEST csca-germany"
    with pytest.raises(pa.PassiveAuthenticationFailed, match="no configured CSCA named CN=TEST csca-germany"):
        pa.verify(simulator, [pki.csca], NOW)


def test_same_name_other_key_fails(setup):
    pki, profile = setup
    impostor = create_test_pki(today=TODAY)  # same subject names, other keys
    assert impostor.csca.subject == pki.csca.subject
    with pytest.raises(pa.PassiveAuthenticationFailed, match="not signed by CSCA"):
        pa.verify(profile.card_security, [impostor.csca], NOW)


def test_forged_card_security_fails(setup):
    pki, profile = setup
    # a card personalised by someone with a DS certificate of another CSCA, but the same names
    forger = create_test_pki(today=TODAY)
    forged = create_card_profile(forger, today=TODAY).card_security
    with pytest.raises(pa.PassiveAuthenticationFailed):
        pa.verify(forged, [pki.csca], NOW)
    # content changed after signing
    security = CardSecurity.parse(profile.card_security)
    tampered = dataclasses.replace(security, content=security.content[:-1] + bytes([security.content[-1] ^ 1]))
    with pytest.raises(EidError):
        pa.verify(tampered, [pki.csca], NOW)


def test_validity_is_checked(setup):
    pki, profile = setup
    with pytest.raises(pa.PassiveAuthenticationFailed, match="Document Signer"):
        pa.verify(profile.card_security, [pki.csca], datetime.datetime(2037, 1, 1, tzinfo=datetime.UTC))
    with pytest.raises(pa.PassiveAuthenticationFailed, match="CSCA"):
        pa.verify(profile.card_security, [pki.csca], datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))
    with pytest.raises(ValueError):
        pa.verify(profile.card_security, [pki.csca], datetime.datetime(2025, 3, 2))


def test_blocklist_hook(setup):
    pki, profile = setup
    serial = pki.document_signer.serial_number
    assert pa.verify(profile.card_security, [pki.csca], NOW, blocklist=lambda r: None)
    with pytest.raises(pa.DocumentBlocked, match="revoked"):
        pa.verify(profile.card_security, [pki.csca], NOW,
                  blocklist=lambda r: "DS revoked" if r.document_signer.serial_number == serial else None)


def test_the_worked_example_without_its_csca_fails():
    with pytest.raises(pa.PassiveAuthenticationFailed):
        pa.verify(hex_value("bsi-worked-example-card-files", "ef_card_security"), [], NOW)
