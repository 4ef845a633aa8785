import datetime
import itertools

from cryptography.hazmat.primitives import serialization

from eid import oid, signature
from eid.card_security import CardSecurity
from eid.certificate_description import CertificateDescription, verify_binding
from eid.chat import AccessRight, Chat, Role
from eid.cvc import ImportedKey, validate_chain
from eid.pki import TERMINAL_RIGHTS, create_card_profile, create_test_pki
from eid.security_infos import ChipAuthenticationPublicKeyInfo, PaceInfo, parse_security_infos

TODAY = datetime.date(2025, 3, 1)


def counting_rng():
    counter = itertools.count(1)
    return lambda n: next(counter).to_bytes(n, "big")


def test_chain_description_and_sectors():
    pki = create_test_pki(today=TODAY, cvca_chr="DETESTeID00005", comm_certificates=[b"tls certificate DER"])
    assert (pki.cvca.chr, pki.cvca.car) == ("DETESTeID00005", "DETESTeID00005")
    assert pki.cvca.public_key.curve is not None and pki.dv.public_key.curve is None
    chain = validate_chain([pki.dv, pki.terminal], [ImportedKey.trust_point(pki.cvca)], TODAY)
    assert chain.terminal.effective_chat == Chat(Role.TERMINAL, TERMINAL_RIGHTS)
    verify_binding(pki.certificate_description, pki.terminal)
    description = CertificateDescription.parse(pki.certificate_description)
    assert description.comm_certificates == (signature.digest(oid.ID_TA_ECDSA_SHA_256, b"tls certificate DER"),)
    first, second = (k.public_key_data_object() for k in pki.sector_public_keys())
    assert pki.terminal.sector_hashes == (signature.digest(pki.dv.public_key.algorithm, first),
                                          signature.digest(pki.dv.public_key.algorithm, second))
    assert first.startswith(bytes.fromhex("7F49")) and first != second
    assert pki.terminal.expiration_date == TODAY + datetime.timedelta(days=3 * 365)


def test_seeded_rng_gives_the_same_keys():
    a = create_test_pki(today=TODAY, rng=counting_rng())
    b = create_test_pki(today=TODAY, rng=counting_rng())
    assert a.cvca.public_key == b.cvca.public_key and a.terminal.public_key == b.terminal.public_key
    assert a.files()["terminal.key"] == b.files()["terminal.key"]


def test_files_and_key_format():
    pki = create_test_pki(today=TODAY, chat=Chat(Role.TERMINAL, {AccessRight.READ_DG4}))
    files = pki.files()
    assert {"cvca.cvcert", "dv.cvcert", "terminal.cvcert", "terminal.key", "csca.pem", "ds.pem"} <= files.keys()
    key = serialization.load_pem_private_key(files["terminal.key"], None)
    assert files["terminal.key"].startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    assert key.public_key().public_numbers() == pki.terminal_key.public_key().public_numbers()
    assert pki.terminal.chat.rights == {AccessRight.READ_DG4}


def test_card_profile_files_are_consistent():
    pki = create_test_pki(today=TODAY)
    profile = create_card_profile(pki, today=TODAY)
    access = parse_security_infos(profile.card_access)
    assert access.pace_infos() == [PaceInfo(oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_128, 2, 13)]
    security = CardSecurity.parse(profile.card_security)
    security.verify_signature()
    ca_key = security.security_infos.chip_authentication_public_key(profile.chip_authentication.key_id)
    assert isinstance(ca_key, ChipAuthenticationPublicKeyInfo)
    from cryptography.hazmat.primitives.asymmetric import ec
    expected = ec.derive_private_key(profile.chip_authentication.private_key, ca_key.public_key.curve.curve())
    assert ca_key.public_key.point == expected.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert [(k.key_id, k.authorized_only) for k in profile.restricted_identification] == [(1, False), (2, True)]
    assert {i.key_id for i in security.security_infos.restricted_identification_infos()} == {1, 2}
    assert profile.trust_points == (pki.cvca.encode(),)
    assert profile.current_date == TODAY and not profile.expired
