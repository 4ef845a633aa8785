"""Chip Authentication v2: the BSI worked example's values, both roles, and a chip without the key."""

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eid import chip_authentication as ca
from eid import key_agreement, oid
from eid.apdu import ResponseApdu
from eid.domain_parameters import by_standardized_id
from eid.errors import EidError, VerificationFailed
from eid.secure_messaging import ChipChannel, TerminalChannel
from tests.eid._vectors import hexval, load, scripted_rng

CA = load("bsi-worked-example-pace-ca-sm.json")["chip_authentication"]
V = CA["values"]
CURVE = by_standardized_id(CA["parameter_id"])


def terminal():
    ephemeral = key_agreement.from_private(CURVE, int.from_bytes(hexval(V["pcd_ephemeral_private"]), "big"))
    return ca.ChipAuthentication(CA["protocol"], CURVE, hexval(V["picc_static_public"]), ephemeral)


def test_worked_example_keys():
    chip_private = int.from_bytes(hexval(V["picc_static_private"]), "big")
    assert key_agreement.from_private(CURVE, chip_private).public_bytes == hexval(V["picc_static_public"])
    t = terminal()
    assert t.ephemeral_key.public_bytes == hexval(V["pcd_ephemeral_public"])
    shared = key_agreement.shared_secret(CURVE, t.ephemeral_key.private,
                                         key_agreement.from_private(CURVE, chip_private).public)
    assert shared == hexval(V["shared_secret_k"])


def test_worked_example_terminal_side():
    keys = terminal().verify(hexval(V["nonce"]), hexval(V["token_picc"]))
    assert (keys.k_enc, keys.k_mac) == (hexval(V["k_enc"]), hexval(V["k_mac"]))


def test_worked_example_chip_side():
    t = terminal()
    command = t.request()[1]
    response = ca.chip_respond(CA["protocol"], CURVE, int.from_bytes(hexval(V["picc_static_private"]), "big"),
                               command.data, scripted_rng(hexval(V["nonce"])), t.ephemeral_key.compressed)
    assert ca.parse_response(response.data) == (hexval(V["nonce"]), hexval(V["token_picc"]))
    assert (response.keys.k_enc, response.keys.k_mac) == (hexval(V["k_enc"]), hexval(V["k_mac"]))


def test_request_commands():
    set_at, general_authenticate = terminal().request()
    assert set_at.encode().hex().upper() == "0022" + "41A4" + "0C" + "800A04007F00070202030202"
    assert ca.ChipAuthenticationSelection.parse(set_at.data) == ca.ChipAuthenticationSelection(CA["protocol"])
    assert general_authenticate.data == bytes.fromhex("7C438041") + hexval(V["pcd_ephemeral_public"])
    with_key = ca.ChipAuthenticationSelection(CA["protocol"], 2)
    assert ca.ChipAuthenticationSelection.parse(with_key.encode()) == with_key


@pytest.mark.parametrize("protocol,parameter_id", [(oid.ID_CA_ECDH_AES_CBC_CMAC_128, 13),
                                                   (oid.ID_CA_ECDH_AES_CBC_CMAC_192, 16),
                                                   (oid.ID_CA_ECDH_AES_CBC_CMAC_256, 17),
                                                   (oid.ID_CA_ECDH_AES_CBC_CMAC_128, 12)])
def test_both_roles_then_secure_messaging_with_the_new_keys(protocol, parameter_id):
    curve = by_standardized_id(parameter_id)
    chip_key = key_agreement.generate(curve, os.urandom)
    t = ca.ChipAuthentication(protocol, curve, chip_key.public_bytes, key_agreement.generate(curve, os.urandom))
    mse, general_authenticate = t.request()
    answer = ca.chip_respond(protocol, curve, chip_key.private, general_authenticate.data, os.urandom,
                             t.ephemeral_key.compressed)
    result = t.evaluate([ResponseApdu(b"", 0x9000), ResponseApdu(answer.data, 0x9000)])
    assert result.keys == answer.keys
    terminal_channel, chip_channel = TerminalChannel(result.keys), ChipChannel(answer.keys)
    read = chip_channel.unprotect_command(terminal_channel.protect(ca.general_authenticate(b"\x04")))
    assert read.ins == 0x86


def test_chip_without_the_private_key_fails_the_token():
    impostor = key_agreement.generate(CURVE, os.urandom)
    t = terminal()
    answer = ca.chip_respond(CA["protocol"], CURVE, impostor.private, t.request()[1].data, os.urandom, None)
    with pytest.raises(ca.TokenMismatch):
        t.evaluate([ResponseApdu(b"", 0x9000), ResponseApdu(answer.data, 0x9000)])


def test_chip_refuses_a_key_other_than_the_one_ta_signed():
    t = terminal()
    other = key_agreement.generate(CURVE, os.urandom)
    with pytest.raises(VerificationFailed):
        ca.chip_respond(CA["protocol"], CURVE, 1234567, t.request()[1].data, os.urandom, other.compressed)


def test_card_errors_surface():
    with pytest.raises(EidError):
        terminal().evaluate([ResponseApdu(b"", 0x6A88), ResponseApdu(b"", 0x9000)])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120))
def test_any_general_authenticate_response_parses_or_raises_our_error(data):
    try:
        terminal().evaluate([ResponseApdu(b"", 0x9000), ResponseApdu(data, 0x9000)])
    except EidError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_any_command_data_is_handled_by_the_chip(data):
    for parse in (ca.ChipAuthenticationSelection.parse,
                  lambda d: ca.chip_respond(CA["protocol"], CURVE, 5, d, os.urandom, None)):
        try:
            parse(data)
        except EidError:
            pass
