"""The virtual card on its own: files and access, sessions, power cycles, PIN management, robustness."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardreader.pcsc import Pcsc
from cardreader.virtual import VirtualCard
from cardreader.virtual.card import ATR
from eid.apdu import CommandApdu, ResponseApdu
from eid.chat import AccessRight, Chat, Role
from eid.cvc import create_certificate
from eid.pace import Password, PasswordType
from eid.signature import PrivateKeySigner
from eid.terminal import (
    AuthenticationTerminal,
    CardSession,
    ChangePin,
    ReadBinary,
    ReadDataGroups,
    ReadFile,
    select_application,
)
from tests.support import eid_world as world

PROFILES = Path(__file__).resolve().parents[3] / "cardreader" / "virtual" / "profiles"


def send(card, command: CommandApdu) -> ResponseApdu:
    return ResponseApdu.parse(card.transmit(command.encode()))


def test_atr_and_power():
    card = VirtualCard(world.profile())
    assert card.power_on() == card.atr == ATR
    checksum = 0
    for byte in ATR[1:]:
        checksum ^= byte
    assert checksum == 0  # TCK
    card.power_off()
    assert not card.powered


def test_default_profile_ships_and_loads():
    card = VirtualCard.from_profile(PROFILES / "erika-mustermann.json")
    card.power_on()
    assert CardSession(card).read_card_access().pace_infos()
    assert card.profile.person.family_names == "MUSTERMANN"


def test_card_access_free_card_security_after_pace_data_groups_after_eac():
    card = world.card()
    assert send(card, ReadBinary(0x1C).request()[0]).sw == 0x9000
    assert send(card, ReadBinary(0x1D).request()[0]).sw == 0x6982
    assert send(card, select_application().request()[0]).sw == 0x9000
    assert send(card, ReadBinary(4).request()[0]).sw == 0x6982
    card_session = CardSession(card)
    card_session.pace(Password(PasswordType.CAN, world.CAN), world.rng, chat=world.terminal_chat())
    assert card_session.run(ReadFile(0x1D))[0] == world.profile().card_security
    read = card_session.run(ReadDataGroups((4,)))[0]
    assert read.refused[4].sw == 0x6982


def test_select_and_read_by_file_identifier_with_offsets():
    card = world.card()
    assert send(card, CommandApdu(0x00, 0xA4, 0x02, 0x0C, b"\x01\x1c")).sw == 0x9000
    whole = send(card, CommandApdu(0x00, 0xB0, 0x00, 0x00, ne=256)).data
    assert whole == world.profile().card_access
    part = send(card, CommandApdu(0x00, 0xB0, 0x00, 0x05, ne=4))
    assert part == ResponseApdu(whole[5:9], 0x9000)
    assert send(card, CommandApdu(0x00, 0xB0, 0x00, len(whole) - 2, ne=10)).sw == 0x6282
    assert send(card, CommandApdu(0x00, 0xB0, 0x7F, 0x00, ne=1)).sw == 0x6B00
    assert send(card, CommandApdu(0x00, 0xA4, 0x02, 0x0C, b"\x01\x01")).sw == 0x6A82  # DG1 is not in the MF
    assert send(card, CommandApdu(0x00, 0xA4, 0x04, 0x0C, b"\xa0\x00")).sw == 0x6A82


def test_power_cycle_forgets_the_session_but_not_the_retry_counter():
    card = world.card()
    card_session = CardSession(card)
    with pytest.raises(Exception):
        card_session.pace(Password(PasswordType.PIN, "111111"), world.rng)
    card.power_off()
    card.power_on()
    assert card.passwords.pin_retries == 2
    card_session = CardSession(card)
    card_session.pace(Password(PasswordType.PIN, world.PIN), world.rng)
    card.power_off()
    card.power_on()
    assert send(card, ReadBinary(0x1D).request()[0]).sw == 0x6982  # PACE is gone
    assert card.passwords.pin_retries == 3


def test_plain_command_ends_secure_messaging():
    card = world.card()
    card_session = CardSession(card)
    card_session.pace(Password(PasswordType.CAN, world.CAN), world.rng)
    assert send(card, ReadBinary(0x1D).request()[0]).sw == 0x6982
    assert send(card, ReadBinary(0x1C).request()[0]).sw == 0x9000


def test_protected_command_without_a_session():
    card = world.card()
    assert send(card, CommandApdu(0x0C, 0xB0, 0x9C, 0x00, bytes.fromhex("970100" "8E080000000000000000"), 256)).sw == 0x6988


def test_unknown_and_malformed_commands():
    card = world.card()
    assert send(card, CommandApdu(0x00, 0xCA, 0x00, 0x00, ne=256)).sw == 0x6D00
    assert ResponseApdu.parse(card.transmit(b"\x00\xa4")).sw == 0x6700
    assert send(card, CommandApdu(0x00, 0x86, 0x00, 0x00, b"\x7c\x00", 256)).sw == 0x6985  # no MSE:Set AT
    assert send(card, CommandApdu(0x00, 0x22, 0xC1, 0xA4, b"\x80\x01\x00")).sw == 0x6A80


def test_new_pin_must_have_six_digits():
    card = world.card()
    card_session = CardSession(card)
    card_session.pace(Password(PasswordType.PIN, world.PIN), world.rng)
    command = CommandApdu(0x00, 0x2C, 0x02, 0x03, b"12345")
    assert card_session.transmit(command).sw == 0x6A80
    card_session.run(ChangePin("222222"))
    assert card.passwords.pin == "222222"


def test_pin_management_right_switches_the_eid_function():
    manager = Chat(Role.TERMINAL, {AccessRight.PIN_MANAGEMENT, AccessRight.read(4)})
    p = world.shared_pki()
    certificate = create_certificate(car=p.dv.chr, public_key=p.terminal.public_key, chr="DETESTAT00009", chat=manager,
                                     effective_date=world.TODAY, expiration_date=p.terminal.expiration_date,
                                     signer=PrivateKeySigner(p.dv_key, p.terminal.public_key.algorithm))
    terminal = AuthenticationTerminal((p.cvca, p.dv, certificate), certificate, p.terminal_signer())
    card = world.card()
    card_session = CardSession(card)
    result = card_session.pace(Password(PasswordType.PIN, world.PIN), world.rng, chat=manager)
    card_session.eac(terminal, result, world.rng)
    assert card_session.transmit(CommandApdu(0x00, 0x04, 0x10, 0x03)).sw == 0x9000
    assert not card.passwords.eid_activated
    assert card_session.transmit(CommandApdu(0x00, 0x44, 0x10, 0x03)).sw == 0x9000
    assert card.passwords.eid_activated
    plain = CardSession(world.card())
    plain.pace(Password(PasswordType.PIN, world.PIN), world.rng)
    assert plain.transmit(CommandApdu(0x00, 0x04, 0x10, 0x03)).sw == 0x6982


def test_challenge_right_after_pace_as_an_eid_client_fetches_it():
    """TR-03112-7 order (AusweisApp's too): GET CHALLENGE after PACE for EAC1OutputType, then the certificates,
    MSE:Set AT and EXTERNAL AUTHENTICATE with EAC2. The early challenge is the one the signature must cover."""
    from eid import key_agreement
    from eid import terminal_authentication as ta

    card = world.card()
    card_session = CardSession(card)
    result = card_session.pace(Password(PasswordType.PIN, world.PIN), world.rng, chat=world.terminal_chat())
    answer = card_session.transmit(ta.get_challenge())
    assert answer.sw == 0x9000 and len(answer.data) == ta.CHALLENGE_LENGTH
    terminal = world.terminal()
    chain = terminal.chain_for(result.cars)
    ephemeral = key_agreement.generate(world.shared_pki().curve, world.rng)
    for command in [*ta.certificate_commands(chain), ta.set_at(chain[-1], ephemeral.public_bytes)]:
        assert card_session.transmit(command).sw == 0x9000
    stale = ta.sign_challenge(terminal.signer, result.id_picc, bytes(8), ephemeral.public_bytes)
    assert card_session.transmit(ta.external_authenticate(stale)).sw == 0x6300
    card_session = CardSession(card)
    result = card_session.pace(Password(PasswordType.PIN, world.PIN), world.rng, chat=world.terminal_chat())
    challenge = card_session.transmit(ta.get_challenge()).data
    for command in [*ta.certificate_commands(chain), ta.set_at(chain[-1], ephemeral.public_bytes)]:
        card_session.transmit(command)
    signature = ta.sign_challenge(terminal.signer, result.id_picc, challenge, ephemeral.public_bytes)
    assert card_session.transmit(ta.external_authenticate(signature)).sw == 0x9000
    assert card_session.transmit(ta.get_challenge()).sw == 0x6985  # TA is done


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_any_bytes_get_a_status_word(command):
    """Whatever arrives, the card answers with a response APDU and never raises."""
    card = world.card()
    response = ResponseApdu.parse(card.transmit(command))
    assert 0x6000 <= response.sw <= 0x9FFF


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200), st.sampled_from([0x22, 0x86, 0x2A, 0x82, 0x20, 0xB0, 0xA4, 0x2C]),
       st.sampled_from([(0xC1, 0xA4), (0x41, 0xA4), (0x81, 0xA4), (0x81, 0xB6), (0x00, 0xBE), (0x80, 0x00), (0, 0)]))
def test_any_protected_command_data_gets_a_status_word(data, ins, p1p2):
    card = world.card()
    card_session = CardSession(card)
    card_session.pace(Password(PasswordType.CAN, world.CAN), world.rng)
    response = card_session.sm.protect(CommandApdu(0x00, ins, *p1p2, data))
    answer = ResponseApdu.parse(card.transmit(response.encode()))
    assert 0x6000 <= answer.sw <= 0x9FFF


@pytest.mark.pcscd
def test_full_authentication_through_pcscd(pcscd, vpcd):
    """The same terminal code over real PC/SC: pyscard → pcscd → vpcd driver → the virtual card."""
    vpcd(world.card())
    with Pcsc() as pcsc, pcsc.connect() as channel:
        card_session = CardSession(channel)
        result = card_session.pace(Password(PasswordType.PIN, world.PIN), world.rng, chat=world.terminal_chat())
        card_session.eac(world.terminal(), result, world.rng, passive=world.passive_policy())
        read = card_session.run(ReadDataGroups((4, 5, 17)))[0]
    assert read.value(4) == "ERIKA" and read.value(5) == "MUSTERMANN"
    assert read.value(17) == world.profile().person.place_of_residence
