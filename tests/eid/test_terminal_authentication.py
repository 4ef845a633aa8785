import datetime
import itertools

import pytest
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec
from hypothesis import given
from hypothesis import strategies as st

from eid import auxiliary_data, oid
from eid import terminal_authentication as ta
from eid.apdu import CommandApdu
from eid.chat import AccessRight, Chat, Role, TerminalType
from eid.cvc import CertificateRejected, CvCertificate, ImportedKey, KeyNotFound
from eid.domain_parameters import by_name
from eid.errors import EidError
from eid.signature import PrivateKeySigner
from tests.support.cv_pki import DAY, Pki, public_point
from tests.support.vectors import hex_value, load

WE = "bsi-worked-example-ta"


def worked_example():
    return {name: CvCertificate.parse(hex_value(WE, f"{name}_certificate")) for name in ("cvca", "dv", "terminal")}


def test_vector_file_names_every_source():
    for section in ("values", "derived"):
        for name, entry in load(WE)[section].items():
            assert entry["source"], name


def test_worked_example_signed_data_and_signature():
    id_picc = hex_value(WE, "id_picc")
    r_picc = hex_value(WE, "r_picc")
    ca_key = hex_value(WE, "ca_ephemeral_pcd_public_key")
    assert id_picc == ta.compress(hex_value(WE, "pace_ephemeral_picc_public_key"))
    assert ta.compress(ca_key) == hex_value(WE, "compressed_ca_key")
    assert ta.signed_data(id_picc, r_picc, ta.compress(ca_key), None) == hex_value(WE, "signed_data")
    certs = worked_example()
    chain = [ImportedKey.trust_point(certs["cvca"])]
    chip = ta.CertificateImport(tuple(chain), datetime.date(2010, 9, 1))
    for command in ta.certificate_commands(ta.chain_for("DECVCAAT00001", [certs["dv"]], certs["terminal"])):
        chip = chip.set_dst(command.data) if command.ins == ta.INS_MSE else chip.verify_certificate(command.data)
    assert chip.current_date == datetime.date.fromisoformat(load(WE)["derived"]["current_date_after_chain"]["value"])
    selected = chip.set_at(ta.set_at(certs["terminal"], ca_key).data)
    challenged = selected.get_challenge(lambda n: r_picc)
    # the worked example's own signature verifies on the chip side
    done = challenged.external_authenticate(hex_value(WE, "terminal_signature"), id_picc)
    assert done.terminal.chr == "DETESTATDE019"
    assert done.compressed_ephemeral_key == hex_value(WE, "compressed_ca_key")
    # and so does one made by our terminal code with the worked example's key
    scalar = int.from_bytes(hex_value(WE, "terminal_private_scalar"), "big")
    key = crypto_ec.derive_private_key(scalar, by_name("brainpoolP512r1").curve())
    assert certs["terminal"].public_key.point == public_point(key)
    ours = ta.sign_challenge(PrivateKeySigner(key, oid.ID_TA_ECDSA_SHA_512), id_picc, r_picc, ca_key)
    assert challenged.external_authenticate(ours, id_picc).terminal.chr == "DETESTATDE019"
    with pytest.raises(ta.TerminalAuthenticationFailed):
        challenged.external_authenticate(ours, bytes(32))


def test_apdus():
    certs = worked_example()
    assert ta.set_dst("DECVCAAT00001").encode() == bytes.fromhex("002281B60F830D") + b"DECVCAAT00001"
    verify = ta.verify_certificate(certs["dv"])
    assert (verify.ins, verify.p1, verify.p2) == (0x2A, 0x00, 0xBE)
    assert verify.data == hex_value(WE, "dv_certificate")[5:]  # the certificate without 7F21 82 01 66
    assert ta.get_challenge().encode() == bytes.fromhex("0084000008")
    assert ta.external_authenticate(b"\x01\x02").encode() == bytes.fromhex("00820000020102")
    aux = auxiliary_data.build(required_date_of_birth=datetime.date(2007, 3, 1))
    set_at = ta.set_at(certs["terminal"], hex_value(WE, "ca_ephemeral_pcd_public_key"), aux)
    assert set_at.header == bytes.fromhex("002281A4")
    selection = ta.TaSelection.parse(set_at.data)
    assert selection.algorithm == oid.ID_TA_ECDSA_SHA_512
    assert selection.terminal_reference == "DETESTATDE019"
    assert selection.aux_data == aux
    assert selection.compressed_ephemeral_key == hex_value(WE, "compressed_ca_key")


def run_ta(pki, chip, terminal_cert=None, signer_key=None, aux=None, id_picc=b"\x42" * 32):
    terminal_cert = terminal_cert or pki.terminal
    ephemeral = public_point(crypto_ec.generate_private_key(pki.curve.curve()))
    for command in ta.certificate_commands(ta.chain_for(pki.cvca.chr, [pki.dv], terminal_cert)):
        chip = chip.set_dst(command.data) if command.ins == ta.INS_MSE else chip.verify_certificate(command.data)
    selected = chip.set_at(ta.set_at(terminal_cert, ephemeral, aux).data)
    counter = itertools.count()
    challenged = selected.get_challenge(lambda n: bytes([next(counter)] * n))
    signature = ta.sign_challenge(PrivateKeySigner(signer_key or pki.terminal_key, pki.algorithm), id_picc,
                                  challenged.r_picc, ephemeral, aux)
    return challenged.external_authenticate(signature, id_picc)


def test_both_roles_with_our_pki_and_confined_chat():
    pki = Pki()
    confined = Chat(Role.TERMINAL, {AccessRight.READ_DG4})
    chip = ta.CertificateImport((pki.trust_point(),), DAY, confined)
    aux = auxiliary_data.build(required_date_of_birth=datetime.date(2007, 3, 1), community_id=bytes.fromhex("0276"))
    done = run_ta(pki, chip, aux=aux)
    assert done.effective_chat == confined  # AGE_VERIFICATION from the certificate is not in the confined CHAT
    assert done.aux_data == aux
    assert done.sector_hashes == (b"\x22" * 32, b"\x33" * 32)
    assert done.current_date == DAY
    unconfined = run_ta(pki, ta.CertificateImport((pki.trust_point(),), DAY))
    assert unconfined.effective_chat.rights == {AccessRight.READ_DG4, AccessRight.AGE_VERIFICATION}


def test_wrong_key_signature_is_refused():
    pki = Pki()
    chip = ta.CertificateImport((pki.trust_point(),), DAY)
    with pytest.raises(ta.TerminalAuthenticationFailed) as excinfo:
        run_ta(pki, chip, signer_key=crypto_ec.generate_private_key(pki.curve.curve()))
    assert ta.status_word(excinfo.value) == 0x6300


def test_chip_refusals_and_their_status_words():
    pki = Pki()
    chip = ta.CertificateImport((pki.trust_point(),), DAY)
    with pytest.raises(KeyNotFound) as unknown:
        chip.set_dst(ta.set_dst("DEUNKNOWN00001").data)
    assert ta.status_word(unknown.value) == 0x6A88
    with pytest.raises(ta.WrongState) as order:
        chip.verify_certificate(ta.verify_certificate(pki.dv).data)
    assert ta.status_word(order.value) == 0x6985
    # expired terminal certificate
    late = ta.CertificateImport((pki.trust_point(),), DAY + datetime.timedelta(days=120))
    late = late.set_dst(ta.set_dst(pki.cvca.chr).data)
    with pytest.raises(CertificateRejected) as expired:
        late.verify_certificate(ta.verify_certificate(pki.dv).data)
    assert ta.status_word(expired.value) == 0x6300
    # Set AT naming a key that was not imported
    with pytest.raises(KeyNotFound):
        chip.set_at(ta.set_at(pki.terminal, b"\x04" + bytes(64)).data)
    # terminal type of the chain differs from the one PACE was run for
    st_chip = ta.CertificateImport((pki.trust_point(),), DAY, Chat(Role.TERMINAL, terminal_type=TerminalType.SIGNATURE_TERMINAL))
    with pytest.raises(ta.TerminalTypeMismatch) as mismatch:
        run_ta(pki, st_chip)
    assert ta.status_word(mismatch.value) == 0x6985
    with pytest.raises(ta.TerminalAuthenticationError) as malformed:
        chip.set_dst(b"\x01\x02")
    assert ta.status_word(malformed.value) == 0x6A80


def test_chain_for_finds_the_path_or_fails():
    pki = Pki()
    assert ta.chain_for(pki.cvca.chr, [pki.dv], pki.terminal) == [pki.dv, pki.terminal]
    with pytest.raises(KeyNotFound):
        ta.chain_for("DEOTHER00001", [pki.dv], pki.terminal)


@given(st.binary(max_size=120))
def test_chip_parsers_raise_only_our_errors(data):
    pki = Pki.shared()
    chip = ta.CertificateImport((pki.trust_point(),), DAY).set_dst(ta.set_dst(pki.cvca.chr).data)
    for step in (chip.set_dst, chip.verify_certificate, chip.set_at, ta.TaSelection.parse):
        try:
            step(data)
        except EidError:
            pass


def test_commands_are_valid_apdus():
    pki = Pki()
    for command in ta.certificate_commands([pki.dv, pki.terminal]):
        assert CommandApdu.parse(command.encode()) == command
