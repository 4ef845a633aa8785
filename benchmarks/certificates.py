"""What the structures and the test PKI cost: CV chain validation as the chip does it, Terminal
Authentication signature and check, passive authentication, SecurityInfos and data groups.

    .venv/bin/python benchmarks/certificates.py [runs]

Prints the median of ``runs`` (default 300) in milliseconds.
"""

from __future__ import annotations

import datetime
import statistics
import sys
import time
from collections.abc import Callable

from eid import pki
from eid import terminal_authentication as ta
from eid.cvc import CvCertificate, ImportedKey, validate_chain
from eid.data_groups import decode_data_group
from eid.passive_authentication import verify as passive_authentication
from eid.security_infos import parse_security_infos

TODAY = datetime.date(2025, 3, 1)
NOW = datetime.datetime(2025, 3, 2, tzinfo=datetime.UTC)


def median_ms(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(runs: int) -> None:
    test_pki = pki.create_test_pki(today=TODAY)
    profile = pki.create_card_profile(test_pki, today=TODAY)
    trust = [ImportedKey.trust_point(test_pki.cvca)]
    signer = test_pki.terminal_signer()
    ephemeral = b"\x04" + bytes(range(64))
    id_picc, r_picc = bytes(32), bytes(8)
    signature = ta.sign_challenge(signer, id_picc, r_picc, ephemeral)
    chip = ta.CertificateImport(tuple(trust), TODAY)
    for command in ta.certificate_commands([test_pki.dv, test_pki.terminal]):
        chip = chip.set_dst(command.data) if command.ins == ta.INS_MSE else chip.verify_certificate(command.data)
    challenged = chip.set_at(ta.set_at(test_pki.terminal, ephemeral).data).get_challenge(lambda n: r_picc)
    groups = profile.data_groups()
    figures = {
        "test PKI and card profile (create)": (lambda: pki.create_card_profile(pki.create_test_pki(today=TODAY), today=TODAY), 30),
        "parse the CVCA, DV and terminal certificates": (
            lambda: [CvCertificate.parse(c.encode()) for c in (test_pki.cvca, test_pki.dv, test_pki.terminal)], runs),
        "validate DV + terminal certificate (chip side)": (lambda: validate_chain([test_pki.dv, test_pki.terminal], trust, TODAY), runs),
        "TA signature (terminal)": (lambda: ta.sign_challenge(signer, id_picc, r_picc, ephemeral), runs),
        "TA signature check (chip)": (lambda: challenged.external_authenticate(signature, id_picc), runs),
        "passive authentication of EF.CardSecurity": (lambda: passive_authentication(profile.card_security, [test_pki.csca], NOW), runs),
        "parse EF.CardAccess": (lambda: parse_security_infos(profile.card_access), runs),
        f"decode {len(groups)} data groups": (lambda: [decode_data_group(n, d) for n, d in groups.items()], runs),
    }
    for name, (action, count) in figures.items():
        print(f"{name:50s} {median_ms(action, count):8.3f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
