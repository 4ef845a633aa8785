"""How long one eID authentication takes: the eID-Server's share, and a whole run against the virtual card.

Prints medians over many runs (``.venv/bin/python benchmarks/eac.py [runs]``):

- server side of one authentication — what an eID-Server computes itself: the ephemeral CA key and the
  Terminal Authentication signature, the CA key agreement with the token check, and secure messaging
  for reading DG1–DG17 plus Restricted Identification (protecting the batch, verifying and decrypting
  the answers, decoding the data groups); passive authentication of EF.CardSecurity is shown apart;
- a full in-process run: PACE + TA + CA + the same reads and RI, terminal and virtual card together.
"""

from __future__ import annotations

import datetime
import os
import statistics
import sys
import time

from cardreader.virtual import VirtualCard
from eid import auxiliary_data, key_agreement, oid, pki
from eid import terminal_authentication as ta
from eid.apdu import ResponseApdu
from eid.chat import Chat, Role
from eid.chip_authentication import ChipAuthentication, parse_response
from eid.pace import Password, PasswordType
from eid.passive_authentication import verify as passive_authentication
from eid.restricted_identification import RestrictedIdentification, SectorPublicKey
from eid.secure_messaging import TerminalChannel
from eid.terminal import (
    EF_CARD_SECURITY,
    AuthenticationTerminal,
    CardSession,
    ExternalAuthenticate,
    PassiveAuthenticationPolicy,
    ReadDataGroups,
    ReadFile,
    TerminalAuthentication,
    evaluate_batch,
    protect_batch,
)

TODAY = datetime.date(2026, 3, 2)
NOW = datetime.datetime.combine(TODAY, datetime.time(12), tzinfo=datetime.UTC)
PIN = Password(PasswordType.PIN, "123456")


class Stopwatch:
    def __init__(self) -> None:
        self.elapsed = 0.0

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed += time.perf_counter() - self._start


def setting():
    test_pki = pki.create_test_pki(today=TODAY)
    profile = pki.create_card_profile(test_pki, today=TODAY)
    terminal = AuthenticationTerminal((test_pki.cvca, test_pki.dv, test_pki.terminal), test_pki.terminal,
                                      test_pki.terminal_signer())
    sectors = [SectorPublicKey(oid.ID_RI_ECDH_SHA_256, test_pki.curve, pki.public_point(k)) for k in test_pki.sector_keys]
    aux = auxiliary_data.build(required_date_of_birth=auxiliary_data.required_birth_date_for_age(18, TODAY),
                               validity_date=TODAY)
    functions = [ReadDataGroups(tuple(range(1, 18))), RestrictedIdentification(oid.ID_RI_ECDH_SHA_256, 2, sectors[0])]
    chat = Chat(Role.TERMINAL, pki.TERMINAL_RIGHTS)
    policy = PassiveAuthenticationPolicy((test_pki.csca,), lambda: NOW)
    return test_pki, profile, terminal, aux, functions, chat, policy


def server_side(profile, terminal, aux, functions, chat, policy) -> tuple[float, float]:
    """Seconds of server work for one authentication, and of passive authentication."""
    card = VirtualCard(profile)
    session = CardSession(card)
    result = session.pace(PIN, os.urandom, chat=chat)
    server, passive = Stopwatch(), Stopwatch()
    card_security = session.run(ReadFile(EF_CARD_SECURITY))[0]
    with passive:
        infos = passive_authentication(card_security, policy.cscas, policy.now()).security_infos
    ca_info = infos.chip_authentication_info()
    ca_key = infos.chip_authentication_public_key(ca_info.key_id).public_key
    with server:
        ephemeral = key_agreement.generate(ca_key.curve, os.urandom)
    challenge = session.run(TerminalAuthentication(terminal.chain_for(result.cars), ephemeral.public_bytes, aux))[0]
    with server:
        signature = ta.sign_challenge(terminal.signer, result.id_picc, challenge, ephemeral.public_bytes, aux)
    session.run(ExternalAuthenticate(signature))
    ca = ChipAuthentication(ca_info.protocol, ca_key.curve, ca_key.point, ephemeral, ca_info.key_id)
    answers = [session.transmit(command) for command in ca.request()]  # relayed by the eID client
    nonce, token = parse_response(answers[1].data)
    with server:
        channel = TerminalChannel(ca.verify(nonce, token))
        commands = protect_batch(channel, functions)
    responses = [ResponseApdu.parse(card.transmit(c.encode())) for c in commands]
    with server:
        read, pseudonym = evaluate_batch(channel, functions, responses)
        values = [read.value(n) for n in read.contents]
    assert len(values) == 14 and len(pseudonym.first) == 32
    return server.elapsed, passive.elapsed


def full_run(profile, terminal, aux, functions, chat, policy) -> float:
    start = time.perf_counter()
    card = VirtualCard(profile)
    card.power_on()
    session = CardSession(card)
    result = session.pace(PIN, os.urandom, chat=chat)
    session.eac(terminal, result, os.urandom, aux, policy)
    read, pseudonym = session.run(*functions)
    assert len(read.contents) == 14 and pseudonym.first
    return time.perf_counter() - start


def main(runs: int = 60) -> None:
    _, *arguments = setting()
    for _ in range(3):  # warm up
        server_side(*arguments)
        full_run(*arguments)
    server, passive, full = [], [], []
    for _ in range(runs):
        s, p = server_side(*arguments)
        server.append(s)
        passive.append(p)
        full.append(full_run(*arguments))
    ms = lambda values: f"{statistics.median(values) * 1000:7.2f} ms"  # noqa: E731
    print(f"eID authentication, brainpoolP256r1, AES-128, median of {runs} runs")
    print(f"  server side (TA signature, CA key agreement, SM for DG1-DG17 + RI): {ms(server)}   target <= 15 ms")
    print(f"  passive authentication of EF.CardSecurity (server side, extra):      {ms(passive)}")
    print(f"  full in-process PACE + TA + CA + reads + RI with the virtual card:   {ms(full)}   target <= 150 ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
