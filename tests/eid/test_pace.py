"""PACE: the ICAO and BSI worked examples value by value, both roles against each other, and refusals."""

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eid import authentication_token, ec, key_agreement, oid, pace
from eid.apdu import CommandApdu, ResponseApdu
from eid.errors import EidError
from eid.key_derivation import kdf
from eid.pace import Password, PasswordType, PaceParameters
from eid.status import PinBlocked, PinDeactivated, PinSuspended, WrongPin
from eid.tlv import decode_all, encode
from tests.eid._vectors import hexval, load, scalar_bytes, scripted_rng

ICAO = load("icao9303-11-pace-gm-ecdh.json")
BSI = load("bsi-worked-example-pace-ca-sm.json")
OK = 0x9000


def _point_int(entry):
    return int.from_bytes(hexval(entry), "big")


# ---------------------------------------------------------------- ICAO Doc 9303-11 appendix G.1


def test_icao_password_encoding_and_key():
    v = ICAO["values"]
    mrz = ICAO["mrz"]
    password = Password.from_mrz(mrz["document_number"], mrz["date_of_birth"], mrz["date_of_expiry"])
    assert password.value == v["mrz_information"]["text"]
    assert password.encoded() == hexval(v["k"])
    assert pace.password_key(password, 16) == hexval(v["k_pi"])


def icao_terminal_run():
    v = ICAO["values"]
    mrz = ICAO["mrz"]
    password = Password.from_mrz(mrz["document_number"], mrz["date_of_birth"], mrz["date_of_expiry"])
    params = PaceParameters(ICAO["protocol"], ICAO["parameter_id"])
    rng = scripted_rng(hexval(v["pcd_mapping_private"]), hexval(v["pcd_ephemeral_private"]))
    return v, pace.start(params, password, rng, send_parameter_id=False)


def test_icao_terminal_side_every_value():
    v, step = icao_terminal_run()
    assert step.command.encode() == hexval(v["mse_set_at"])
    step = step.receive(ResponseApdu(b"", OK))
    assert step.password_key == hexval(v["k_pi"])
    assert step.command.encode() == hexval(v["get_nonce_command"])
    response = ResponseApdu.parse(hexval(v["get_nonce_response"]))
    assert response.data[4:] == hexval(v["encrypted_nonce"])
    step = step.receive(response)
    assert step.nonce.to_bytes(16, "big") == hexval(v["nonce"])
    assert step.mapping_key.public_bytes == hexval(v["pcd_mapping_public"])
    assert step.command.encode() == hexval(v["map_nonce_command"])
    curve = step.context.parameters.curve
    picc_mapping = ec.decode_point(curve, hexval(v["picc_mapping_public"]))
    h, mapped = pace.map_generator(curve, step.nonce, step.mapping_key.private, picc_mapping)
    assert ec.encode_point(curve, h) == hexval(v["shared_secret_h"])
    step = step.receive(ResponseApdu.parse(hexval(v["map_nonce_response"])))
    assert ec.encode_point(curve, step.mapped_generator) == hexval(v["mapped_generator"])
    assert step.ephemeral_key.public_bytes == hexval(v["pcd_ephemeral_public"])
    assert step.command.encode() == hexval(v["key_agreement_command"])
    picc_public = ec.decode_point(curve, hexval(v["picc_ephemeral_public"]))
    assert key_agreement.shared_secret(curve, step.ephemeral_key.private, picc_public) == hexval(v["shared_secret_k"])
    step = step.receive(ResponseApdu.parse(hexval(v["key_agreement_response"])))
    assert step.keys.k_enc == hexval(v["k_enc"])
    assert step.keys.k_mac == hexval(v["k_mac"])
    assert authentication_token.public_key_data(ICAO["protocol"], step.picc_public) == hexval(v["token_input_pcd"])
    assert authentication_token.public_key_data(ICAO["protocol"], step.pcd_public) == hexval(v["token_input_picc"])
    assert step.token == hexval(v["token_pcd"])
    assert step.command.encode() == hexval(v["mutual_authentication_command"])
    result = step.receive(ResponseApdu.parse(hexval(v["mutual_authentication_response"])))
    assert result.keys.k_enc == hexval(v["k_enc"])
    assert result.id_picc == hexval(v["picc_ephemeral_public"])[1:33]
    assert result.cars == ()


def test_icao_chip_side_every_value():
    v = ICAO["values"]
    mrz = ICAO["mrz"]
    password = Password.from_mrz(mrz["document_number"], mrz["date_of_birth"], mrz["date_of_expiry"])
    params = PaceParameters(ICAO["protocol"], ICAO["parameter_id"])
    selection = pace.PaceSelection.parse(CommandApdu.parse(hexval(v["mse_set_at"])).data)
    assert (selection.protocol, selection.password_type, selection.parameter_id) == (ICAO["protocol"],
                                                                                     PasswordType.MRZ, None)
    rng = scripted_rng(hexval(v["nonce"]), hexval(v["picc_mapping_private"]), hexval(v["picc_ephemeral_private"]))
    chip = pace.chip_start(selection, params, password, rng)
    for command_name, response_name in (("get_nonce_command", "get_nonce_response"),
                                        ("map_nonce_command", "map_nonce_response"),
                                        ("key_agreement_command", "key_agreement_response")):
        data, chip = chip.respond(CommandApdu.parse(hexval(v[command_name])).data)
        assert ResponseApdu(data, OK).encode() == hexval(v[response_name])
    data, result = chip.respond(CommandApdu.parse(hexval(v["mutual_authentication_command"])).data)
    assert ResponseApdu(data, OK).encode() == hexval(v["mutual_authentication_response"])
    assert result.keys.k_mac == hexval(v["k_mac"])
    assert result.pcd_public == hexval(v["pcd_ephemeral_public"])


# ---------------------------------------------------------------- BSI worked example (PIN, CHAT, CAR)


def bsi_parameters():
    return PaceParameters(BSI["pace"]["protocol"], BSI["pace"]["parameter_id"])


def bsi_password():
    return Password(PasswordType[BSI["pace"]["password"]["type"]], BSI["pace"]["password"]["value"])


def test_bsi_terminal_side_every_value():
    v = BSI["pace"]["values"]
    rng = scripted_rng(scalar_bytes(v["pcd_mapping_private"], 32), scalar_bytes(v["pcd_ephemeral_private"], 32))
    step = pace.start(bsi_parameters(), bsi_password(), rng, chat=hexval(v["chat"]))
    worked = pace.PaceSelection.parse(CommandApdu.parse(hexval(v["mse_set_at"])).data)
    # Same data objects; ours in the order of TR-03110-3 §B.14.1 (84 before 7F4C), the example has 7F4C first.
    assert step.template == worked
    assert sorted(t.encode() for t in decode_all(step.command.data)) == sorted(
        t.encode() for t in decode_all(CommandApdu.parse(hexval(v["mse_set_at"])).data))
    step = step.receive(ResponseApdu(b"", OK))
    assert step.password_key == hexval(v["k_pi"])
    assert step.command.encode() == hexval(v["get_nonce_command"])
    step = step.receive(ResponseApdu.parse(hexval(v["get_nonce_response"])))
    assert step.nonce.to_bytes(16, "big") == hexval(v["nonce"])
    assert step.mapping_key.public_bytes == hexval(v["pcd_mapping_public"])
    assert step.command.encode() == hexval(v["map_nonce_command"])
    curve = step.context.parameters.curve
    h, _ = pace.map_generator(curve, step.nonce, step.mapping_key.private,
                              ec.decode_point(curve, hexval(v["picc_mapping_public"])))
    assert ec.encode_point(curve, h) == hexval(v["shared_secret_h"])
    step = step.receive(ResponseApdu.parse(hexval(v["map_nonce_response"])))
    assert ec.encode_point(curve, step.mapped_generator) == hexval(v["mapped_generator"])
    assert step.ephemeral_key.public_bytes == hexval(v["pcd_ephemeral_public"])
    assert step.command.encode() == hexval(v["key_agreement_command"])
    secret = key_agreement.shared_secret(curve, step.ephemeral_key.private,
                                         ec.decode_point(curve, hexval(v["picc_ephemeral_public"])))
    assert secret == hexval(v["shared_secret_k"])
    step = step.receive(ResponseApdu.parse(hexval(v["key_agreement_response"])))
    assert (step.keys.k_enc, step.keys.k_mac) == (hexval(v["k_enc"]), hexval(v["k_mac"]))
    assert step.token == hexval(v["token_pcd"])
    assert step.command.encode() == hexval(v["mutual_authentication_command"])
    picc_token = authentication_token.compute(step.keys.k_mac, step.context.parameters.protocol, step.pcd_public)
    assert picc_token == hexval(v["token_picc"])
    car = v["car"]["text"].encode()
    response = encode(0x7C, encode(0x86, picc_token) + encode(0x87, car))
    result = step.receive(ResponseApdu(response, OK))
    assert result.cars == (v["car"]["text"],)
    assert result.id_picc == hexval(v["picc_ephemeral_public"])[1:33]


def test_bsi_chip_side_every_value():
    v = BSI["pace"]["values"]
    selection = pace.PaceSelection.parse(CommandApdu.parse(hexval(v["mse_set_at"])).data)
    assert selection.chat == hexval(v["chat"])
    assert selection.password_type is PasswordType.PIN and selection.parameter_id == 13
    rng = scripted_rng(hexval(v["nonce"]), hexval(v["picc_mapping_private"]), hexval(v["picc_ephemeral_private"]))
    chip = pace.chip_start(selection, bsi_parameters(), bsi_password(), rng, cars=(v["car"]["text"],))
    data, chip = chip.respond(CommandApdu.parse(hexval(v["get_nonce_command"])).data)
    assert ResponseApdu(data, OK).encode() == hexval(v["get_nonce_response"])
    data, chip = chip.respond(CommandApdu.parse(hexval(v["map_nonce_command"])).data)
    assert ResponseApdu(data, OK).encode() == hexval(v["map_nonce_response"])
    assert ec.encode_point(chip.context.parameters.curve, chip.mapped_generator) == hexval(v["mapped_generator"])
    data, chip = chip.respond(CommandApdu.parse(hexval(v["key_agreement_command"])).data)
    assert ResponseApdu(data, OK).encode() == hexval(v["key_agreement_response"])
    assert chip.keys.k_enc == hexval(v["k_enc"])
    data, result = chip.respond(CommandApdu.parse(hexval(v["mutual_authentication_command"])).data)
    assert pace.parse_dynamic_data(data, (0x86,), (0x87,)) == {
        0x86: hexval(v["token_picc"]), 0x87: v["car"]["text"].encode()}
    assert result.chat == hexval(v["chat"])
    assert result.id_picc == hexval(v["picc_ephemeral_public"])[1:33]


# ---------------------------------------------------------------- both roles in-process


def run_pace(params, terminal_password, chip_password, chat=None, cars=()):
    terminal = pace.start(params, terminal_password, os.urandom, chat=chat)
    chip = pace.chip_start(pace.PaceSelection.parse(terminal.command.data), params, chip_password, os.urandom, cars)
    step = terminal.receive(ResponseApdu(b"", OK))
    while not isinstance(chip, pace.ChipPaceResult):
        data, chip = chip.respond(step.command.data)
        step = step.receive(ResponseApdu(data, OK))
    return step, chip


CURVE_IDS = (12, 13, 15, 16, 17, 18)
PROTOCOLS = (oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_128, oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_192,
             oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_256)


@pytest.mark.parametrize("parameter_id", CURVE_IDS)
@pytest.mark.parametrize("protocol", PROTOCOLS, ids=("aes128", "aes192", "aes256"))
def test_both_roles_agree_on_every_curve_and_key_size(protocol, parameter_id):
    params = PaceParameters(protocol, parameter_id)
    password = Password(PasswordType.CAN, "500540")
    terminal, chip = run_pace(params, password, password)
    assert terminal.keys == chip.keys
    assert len(terminal.keys.k_enc) == params.key_length
    assert terminal.id_picc == chip.id_picc and len(terminal.id_picc) == params.curve.size


@pytest.mark.parametrize("password", [Password(PasswordType.PIN, "123456"), Password(PasswordType.PIN, "12345"),
                                      Password(PasswordType.CAN, "123456"), Password(PasswordType.PUK, "0123456789"),
                                      Password.from_mrz("L898902C", "690806", "940623")],
                         ids=("pin", "transport-pin", "can", "puk", "mrz"))
def test_every_password_type(password):
    chat = bytes.fromhex("7F4C0E060904007F000703010202530103")
    terminal, chip = run_pace(PaceParameters(oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_128, 13), password, password,
                              chat=chat, cars=("DETESTeID00005", "DETESTeID00004"))
    assert terminal.keys == chip.keys
    assert terminal.password_type is chip.password_type is password.type
    assert chip.chat == chat
    assert terminal.cars == ("DETESTeID00005", "DETESTeID00004")


def test_wrong_password_is_caught_by_the_chip():
    params = PaceParameters(oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_128, 13)
    with pytest.raises(pace.PaceAuthenticationFailed):
        run_pace(params, Password(PasswordType.PIN, "123456"), Password(PasswordType.PIN, "654321"))


def until_mutual_authentication(password):
    """Both roles up to the terminal's MutualAuthentication step (and the chip's)."""
    params = PaceParameters(oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_128, 13)
    terminal = pace.start(params, password, os.urandom)
    chip = pace.chip_start(terminal.template, params, password, os.urandom)
    step = terminal.receive(ResponseApdu(b"", OK))
    for _ in range(3):
        data, chip = chip.respond(step.command.data)
        step = step.receive(ResponseApdu(data, OK))
    return step, chip


def test_forged_chip_token_is_caught_by_the_terminal():
    step, chip = until_mutual_authentication(Password(PasswordType.CAN, "123456"))
    data, _ = chip.respond(step.command.data)
    forged = data[:-1] + bytes([data[-1] ^ 1])
    with pytest.raises(pace.PaceAuthenticationFailed):
        step.receive(ResponseApdu(forged, OK))


def test_password_never_shown():
    password = Password(PasswordType.PIN, "123456")
    assert "123456" not in repr(password)
    step = pace.start(PaceParameters(oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_128, 13), password, os.urandom)
    assert "123456" not in repr(step)
    nonce_step = step.receive(ResponseApdu(b"", OK))
    assert repr(nonce_step.password_key) not in repr(nonce_step)


@pytest.mark.parametrize("kind,value", [(PasswordType.PIN, "1234"), (PasswordType.PIN, "12345a"),
                                        (PasswordType.CAN, "12345"), (PasswordType.PUK, "123456789"),
                                        (PasswordType.MRZ, "t2200")])
def test_malformed_passwords_are_refused(kind, value):
    with pytest.raises(pace.InvalidPassword):
        Password(kind, value)


def test_mrz_check_digits():
    # ICAO Doc 9303-3 §4.9 example: document number L898902C → check digit 3.
    assert pace.mrz_check_digit("L898902C<") == "3"
    assert Password.from_mrz("L898902C", "690806", "940623").value == "L898902C<369080619406236"


# ---------------------------------------------------------------- status words of the PIN states


def _after_set_at(password, sw):
    step = pace.start(PaceParameters(oid.ID_PACE_ECDH_GM_AES_CBC_CMAC_128, 13), password, os.urandom)
    return step.receive(ResponseApdu(b"", sw))


def test_set_at_warnings():
    pin = Password(PasswordType.PIN, "123456")
    assert _after_set_at(pin, 0x63C2).context.tries_left == 2
    assert _after_set_at(pin, 0x63C1).context.tries_left == 1  # suspended: resumed by PACE with the CAN first
    with pytest.raises(PinBlocked):
        _after_set_at(pin, 0x63C0)
    with pytest.raises(PinDeactivated):
        _after_set_at(pin, 0x6283)
    assert _after_set_at(Password(PasswordType.PUK, "0123456789"), 0x63C0).context.tries_left == 0


@pytest.mark.parametrize("sw,error", [(0x6983, PinBlocked), (0x6984, PinDeactivated), (0x6985, PinSuspended)])
def test_general_authenticate_refusals(sw, error):
    step = _after_set_at(Password(PasswordType.PIN, "123456"), OK)
    with pytest.raises(error):
        step.receive(ResponseApdu(b"", sw))


def test_wrong_pin_reports_tries_left():
    step, _ = until_mutual_authentication(Password(PasswordType.PIN, "123456"))
    with pytest.raises(WrongPin) as caught:
        step.receive(ResponseApdu(b"", 0x63C1))
    assert caught.value.tries_left == 1


# ---------------------------------------------------------------- malformed chip messages


def test_echoed_keys_are_refused():
    v = BSI["pace"]["values"]
    rng = scripted_rng(scalar_bytes(v["pcd_mapping_private"], 32))
    step = pace.start(bsi_parameters(), bsi_password(), rng).receive(ResponseApdu(b"", OK))
    step = step.receive(ResponseApdu.parse(hexval(v["get_nonce_response"])))
    echo = encode(0x7C, encode(0x82, step.mapping_key.public_bytes))
    with pytest.raises(pace.PaceError, match="echoed"):
        step.receive(ResponseApdu(echo, OK))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120))
def test_any_chip_answer_gives_a_step_or_our_error(data):
    """Parsers of card data: any bytes yield the next step or an EidError, never anything else."""
    v = BSI["pace"]["values"]
    step = pace.start(bsi_parameters(), bsi_password(), os.urandom).receive(ResponseApdu(b"", OK))
    for candidate in (data, encode(0x7C, data), encode(0x7C, encode(0x80, data))):
        try:
            step.receive(ResponseApdu(candidate, OK))
        except EidError:
            pass
    map_step = step.receive(ResponseApdu.parse(hexval(v["get_nonce_response"])))
    for candidate in (data, encode(0x7C, encode(0x82, data))):
        try:
            map_step.receive(ResponseApdu(candidate, OK))
        except EidError:
            pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_any_set_at_data_parses_or_raises_our_error(data):
    try:
        selection = pace.PaceSelection.parse(data)
    except EidError:
        return
    assert pace.PaceSelection.parse(selection.encode()) == selection


def test_kdf_is_the_password_key_function():
    password = Password(PasswordType.CAN, "123456")
    assert pace.password_key(password, 32) == kdf(b"123456", 3, 32)
