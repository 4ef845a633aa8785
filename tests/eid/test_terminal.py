"""Both roles in-process: the terminal (eid.terminal) against the virtual card, good paths and refusals."""

import dataclasses
import datetime

import pytest

from eid import auxiliary_data, oid, pki
from eid.apdu import ResponseApdu
from eid.chat import AccessRight, Chat, Role
from eid.chip_authentication import TokenMismatch
from eid.cvc import create_certificate
from eid.pace import Password, PasswordType
from eid.passive_authentication import PassiveAuthenticationFailed
from eid.restricted_identification import RestrictedIdentification
from eid.secure_messaging import SecureMessagingError, TerminalChannel
from eid.signature import PrivateKeySigner
from eid.status import (
    AuthenticationFailed,
    PinBlocked,
    PinDeactivated,
    PinSuspended,
    SecurityStatusNotSatisfied,
    TransportPinActive,
    WrongPin,
)
from eid.terminal import (
    AuthenticationTerminal,
    CardSession,
    EF_CARD_SECURITY,
    CertificateNotAccepted,
    ChangePin,
    ReadFile,
    ReadDataGroups,
    ResponsesMissing,
    TerminalAuthenticationRefused,
    UnblockPin,
    evaluate_batch,
    protect_batch,
    verify_age,
    verify_community_id,
    verify_validity,
)
from tests.support import eid_world as world
from tests.support.eid_world import CAN, PIN, PUK, TODAY

PIN_PASSWORD = Password(PasswordType.PIN, PIN)
ALL_GROUPS = tuple(range(1, 23))


def aux(age: int = 18, community: bytes = bytes.fromhex("02760503"), day: datetime.date = TODAY):
    return auxiliary_data.build(required_date_of_birth=auxiliary_data.required_birth_date_for_age(age, day),
                                validity_date=day, community_id=community)


def authenticate(card_session=None, password=PIN_PASSWORD, chat=None, aux_data=None, terminal=None):
    card_session = card_session or world.session()
    result = card_session.pace(password, world.rng, chat=chat or world.terminal_chat())
    eac = card_session.eac(terminal or world.terminal(), result, world.rng, aux_data or aux(), world.passive_policy())
    return card_session, eac


# ---------------------------------------------------------------- PACE with every password


@pytest.mark.parametrize("password", [Password(PasswordType.PIN, PIN), Password(PasswordType.CAN, CAN),
                                      Password(PasswordType.PUK, PUK),
                                      Password.from_mrz("T22000129", "840812", "340630")],
                         ids=("pin", "can", "puk", "mrz"))
def test_pace_with_each_password_then_card_security(password):
    card_session = world.session()
    result = card_session.pace(password, world.rng, chat=world.terminal_chat())
    assert result.cars == (world.shared_pki().cvca.chr,)
    assert card_session.sm is not None
    card_security = card_session.run(ReadFile(EF_CARD_SECURITY))[0]
    assert card_security == world.profile().card_security


def test_card_access_is_readable_before_pace():
    infos = world.session().read_card_access()
    assert [p.parameter_id for p in infos.pace_infos()] == [13]


# ---------------------------------------------------------------- TA, CA, reads, RI, VERIFY


def test_full_authentication_reads_every_data_group():
    card_session, eac = authenticate()
    assert eac.passive_authentication is not None
    assert eac.security_infos.chip_authentication_info().key_id == 1
    read = card_session.run(ReadDataGroups(ALL_GROUPS))[0]
    person = world.profile().person
    expected = world.profile().data_groups()
    assert read.contents == {n: expected[n] for n in range(1, 22) if n in expected}
    assert read.value(4) == person.given_names and read.value(5) == person.family_names
    assert read.value(8) == person.date_of_birth and read.value(17) == person.place_of_residence
    assert read.value(18) == person.community_id
    assert read.refused[22].sw == 0x6A82  # Erika's card has no e-mail address (DG22)
    assert set(read.refused) == set(ALL_GROUPS) - set(read.contents)


def test_restricted_identification_same_sector_same_pseudonym_other_sector_other():
    first, second = world.sectors()
    card_session, _ = authenticate()
    one = card_session.run(RestrictedIdentification(oid.ID_RI_ECDH_SHA_256, 2, first))[0]
    both = card_session.run(RestrictedIdentification(oid.ID_RI_ECDH_SHA_256, 2, first, second))[0]
    assert one.first == both.first and len(one.first) == 32
    assert both.second != both.first
    again, _ = authenticate()  # a new session with the same card data
    assert again.run(RestrictedIdentification(oid.ID_RI_ECDH_SHA_256, 2, first))[0].first == one.first
    other_card_profile = pki.create_card_profile(world.shared_pki(), today=TODAY)
    other, _ = authenticate(world.session(other_card_profile))
    assert other.run(RestrictedIdentification(oid.ID_RI_ECDH_SHA_256, 2, first))[0].first != one.first


def test_restricted_identification_with_a_sector_key_not_in_the_certificate_is_refused():
    first, second = world.sectors()
    card_session, _ = authenticate()
    foreign = dataclasses.replace(first, point=pki.public_point(pki.private_key(first.curve, world.rng)))
    with pytest.raises(SecurityStatusNotSatisfied):
        card_session.run(RestrictedIdentification(oid.ID_RI_ECDH_SHA_256, 2, foreign))


def test_verify_age_community_and_validity():
    card_session, _ = authenticate()
    assert card_session.run(verify_age(), verify_community_id(), verify_validity()) == [True, True, True]
    older, _ = authenticate(aux_data=aux(age=60, community=bytes.fromhex("02760504")))
    assert older.run(verify_age(), verify_community_id(), verify_validity()) == [False, False, True]


def test_expired_document_fails_validity_verification():
    person = dataclasses.replace(world.profile().person, date_of_expiry=TODAY - datetime.timedelta(days=1))
    expired = dataclasses.replace(world.profile(), person=person)
    card_session, _ = authenticate(world.session(expired))
    assert card_session.run(verify_validity()) == [False]


# ---------------------------------------------------------------- batches as an eID-Server sends them


def test_batch_like_a_paos_transmit():
    card_session, eac = authenticate()
    card = card_session.channel
    server = TerminalChannel(eac.chip_authentication.keys)
    functions = [ReadDataGroups((4, 5, 8)), verify_age(), RestrictedIdentification(oid.ID_RI_ECDH_SHA_256, 2,
                                                                                   world.sectors()[0])]
    commands = protect_batch(server, functions)
    responses = [ResponseApdu.parse(card.transmit(c.encode())) for c in commands]
    read, age, ri = evaluate_batch(server, functions, responses)
    assert read.value(4) == "ERIKA" and age is True and len(ri.first) == 32


def test_batch_cut_short_at_a_refusal():
    restricted = Chat(Role.TERMINAL, pki.TERMINAL_RIGHTS - {AccessRight.read(17)})
    card_session, eac = authenticate(chat=restricted)
    card = card_session.channel
    server = TerminalChannel(eac.chip_authentication.keys)
    functions = [ReadDataGroups((4, 17, 5)), verify_age()]
    commands = protect_batch(server, functions)
    responses = []
    for command in commands:  # the client stops at the first status word other than 9000
        responses.append(ResponseApdu.parse(card.transmit(command.encode())))
        if responses[-1].sw != 0x9000:
            break
    results = evaluate_batch(server, functions, responses)
    assert len(results) == 1  # VERIFY never ran
    read = results[0]
    assert read.contents == {4: world.profile().data_groups()[4]} and read.refused[17].sw == 0x6982
    with pytest.raises(ResponsesMissing):
        verify_age().evaluate([])
    after = server.protect(ReadDataGroups((5,)).request()[1])
    assert server.unprotect(ResponseApdu.parse(card.transmit(after.encode()))).data == world.profile().data_groups()[5]


# ---------------------------------------------------------------- PIN states


def test_wrong_pin_reports_tries_left_then_suspends_then_can_resumes():
    card = world.card()
    card_session = CardSession(card)
    with pytest.raises(WrongPin) as first:
        card_session.pace(Password(PasswordType.PIN, "000000"), world.rng)
    assert first.value.tries_left == 2
    card_session = CardSession(card)
    with pytest.raises(WrongPin) as second:
        card_session.pace(Password(PasswordType.PIN, "000000"), world.rng)
    assert second.value.tries_left == 1
    with pytest.raises(PinSuspended):
        CardSession(card).pace(PIN_PASSWORD, world.rng)
    resumed = CardSession(card)
    resumed.pace(Password(PasswordType.CAN, CAN), world.rng)
    result = resumed.pace(PIN_PASSWORD, world.rng, chat=world.terminal_chat())
    assert result.tries_left == 1
    assert card.passwords.pin_retries == 3
    authenticate(resumed)  # PIN PACE inside the CAN session, then TA/CA as usual


def test_third_wrong_pin_blocks_and_the_puk_unblocks():
    card = world.card(world.profile(pin_retries=1))
    card_session = CardSession(card)
    card_session.pace(Password(PasswordType.CAN, CAN), world.rng)
    with pytest.raises(WrongPin) as third:
        card_session.pace(Password(PasswordType.PIN, "000000"), world.rng)
    assert third.value.tries_left == 0
    with pytest.raises(PinBlocked):
        CardSession(card).pace(PIN_PASSWORD, world.rng)
    with pytest.raises(AuthenticationFailed):  # a wrong PUK (or CAN) has no retry counter: 6300
        CardSession(card).pace(Password(PasswordType.PUK, "0000000000"), world.rng)
    unblocking = CardSession(card)
    unblocking.pace(Password(PasswordType.PUK, PUK), world.rng)
    unblocking.run(UnblockPin())
    assert card.passwords.pin_retries == 3
    authenticate(CardSession(card))


def test_unblocking_needs_the_puk():
    card = world.card(world.profile(pin_retries=0))
    card_session = CardSession(card)
    card_session.pace(Password(PasswordType.CAN, CAN), world.rng)
    with pytest.raises(SecurityStatusNotSatisfied):
        card_session.run(UnblockPin())
    assert card.passwords.pin_retries == 0


def test_transport_pin_must_be_changed_first():
    card = world.card(world.profile(pin="12345", transport_pin=True))
    card_session = CardSession(card)
    result = card_session.pace(Password(PasswordType.PIN, "12345"), world.rng, chat=world.terminal_chat())
    with pytest.raises(TransportPinActive):
        card_session.eac(world.terminal(), result, world.rng, aux(), world.passive_policy())
    changing = CardSession(card)
    changing.pace(Password(PasswordType.PIN, "12345"), world.rng)
    changing.run(ChangePin("654321"))
    assert not card.passwords.transport_pin
    with pytest.raises(WrongPin):
        CardSession(card).pace(Password(PasswordType.PIN, "12345"), world.rng)
    authenticate(CardSession(card), Password(PasswordType.PIN, "654321"))


def test_deactivated_eid_function():
    card = world.card(world.profile(eid_activated=False))
    with pytest.raises(PinDeactivated):
        CardSession(card).pace(PIN_PASSWORD, world.rng)
    can_session = CardSession(card)
    result = can_session.pace(Password(PasswordType.CAN, CAN), world.rng, chat=world.terminal_chat())
    with pytest.raises(SecurityStatusNotSatisfied):
        can_session.eac(world.terminal(), result, world.rng, aux(), world.passive_policy())


# ---------------------------------------------------------------- access rights and certificates


def test_chat_without_dg17_gets_6982_for_dg17_only():
    restricted = Chat(Role.TERMINAL, pki.TERMINAL_RIGHTS - {AccessRight.read(17)})
    card_session, _ = authenticate(chat=restricted)
    read = card_session.run(ReadDataGroups((4, 17)))[0]
    assert 4 in read.contents and read.refused[17].sw == 0x6982


def test_terminal_certificate_without_the_right_limits_the_chat():
    p = world.shared_pki()
    narrow = create_certificate(car=p.dv.chr, public_key=p.terminal.public_key, chr="DETESTAT00002",
                                chat=Chat(Role.TERMINAL, {AccessRight.read(4)}), effective_date=TODAY,
                                expiration_date=p.terminal.expiration_date,
                                signer=PrivateKeySigner(p.dv_key, p.terminal.public_key.algorithm))
    card_session, _ = authenticate(terminal=AuthenticationTerminal((p.cvca, p.dv, narrow), narrow, p.terminal_signer()))
    read = card_session.run(ReadDataGroups((4, 5)))[0]
    assert set(read.contents) == {4} and read.refused[5].sw == 0x6982
    with pytest.raises(SecurityStatusNotSatisfied):
        card_session.run(verify_age())


def test_expired_terminal_certificate_is_not_accepted():
    p = world.shared_pki()
    old = create_certificate(car=p.dv.chr, public_key=p.terminal.public_key, chr="DETESTAT00003",
                             chat=p.terminal.chat, effective_date=TODAY - datetime.timedelta(days=30),
                             expiration_date=TODAY - datetime.timedelta(days=1),
                             signer=PrivateKeySigner(p.dv_key, p.terminal.public_key.algorithm))
    with pytest.raises(CertificateNotAccepted):
        authenticate(terminal=AuthenticationTerminal((p.cvca, p.dv, old), old, p.terminal_signer()))


def test_foreign_chain_is_not_accepted():
    foreign = pki.create_test_pki(today=TODAY)  # same CVCA name, other keys
    with pytest.raises(CertificateNotAccepted):
        authenticate(terminal=world.terminal(foreign))


def test_signature_by_the_wrong_key_is_refused():
    p = world.shared_pki()
    wrong = AuthenticationTerminal((p.cvca, p.dv, p.terminal), p.terminal,
                                   PrivateKeySigner(p.dv_key, p.terminal.public_key.algorithm))
    with pytest.raises(TerminalAuthenticationRefused):
        authenticate(terminal=wrong)


def test_chip_without_the_card_security_key_fails_chip_authentication():
    base = world.profile()
    impostor = dataclasses.replace(base, chip_authentication=dataclasses.replace(
        base.chip_authentication, private_key=base.chip_authentication.private_key + 1))
    with pytest.raises(TokenMismatch):
        authenticate(world.session(impostor))


def test_forged_card_security_fails_passive_authentication():
    base = world.profile()
    other_pki = pki.create_test_pki(today=TODAY)
    forged = dataclasses.replace(base, card_security=pki.create_card_profile(other_pki, today=TODAY).card_security)
    with pytest.raises(PassiveAuthenticationFailed):
        authenticate(world.session(forged))


# ---------------------------------------------------------------- secure messaging on the wire


class Tamper:
    """A channel that flips one bit of the n-th response (counting from when it is armed)."""

    def __init__(self, card):
        self.card = card
        self.countdown = None

    def transmit(self, command: bytes) -> bytes:
        response = bytearray(self.card.transmit(command))
        if self.countdown is not None:
            self.countdown -= 1
            if self.countdown == 0:
                response[2] ^= 0x01
        return bytes(response)


def test_tampered_response_mac_ends_the_session():
    channel = Tamper(world.card())
    card_session, _ = authenticate(CardSession(channel))
    channel.countdown = 1
    with pytest.raises(SecureMessagingError):
        card_session.run(ReadDataGroups((4,)))
    with pytest.raises(SecureMessagingError):
        card_session.run(ReadDataGroups((4,)))


def test_ssc_desync_is_detected_and_the_card_drops_the_session():
    card_session, eac = authenticate()
    card = card_session.channel
    stale = TerminalChannel(eac.chip_authentication.keys)
    card_session.run(ReadDataGroups((4,)))  # the card's SSC moves on
    command = stale.protect(ReadDataGroups((4,)).request()[0])
    assert ResponseApdu.parse(card.transmit(command.encode())) == ResponseApdu(b"", 0x6988)
    with pytest.raises(SecureMessagingError):
        card_session.run(ReadDataGroups((4,)))  # the card has forgotten the keys
