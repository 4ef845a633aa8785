"""The demo terminal: issued from the shipped test PKI for this broker's origin and TLS certificate, and
issued again when either changes; the shipped card accepts it."""

from __future__ import annotations

import datetime

from broker.eid_terminal import SHIPPED_CARD, demo_terminal
from eid.card_profile import load
from eid.certificate_description import comm_certificate_hash
from eid.server.certificate import create_self_signed
from eid.server.terminal import EidTerminal

TODAY = datetime.date(2026, 11, 25)


def test_the_demo_terminal_names_the_origin_and_the_certificate(tmp_path):
    certificate = create_self_signed().certificate_der
    directory = demo_terminal(tmp_path, "https://127.0.0.1:8443", [certificate], TODAY)
    terminal = EidTerminal.load(directory, served_certificates=[certificate])
    assert terminal.description.subject_url == "https://127.0.0.1:8443"
    assert terminal.description.comm_certificates == (comm_certificate_hash(certificate, terminal.dv),)
    card = load(SHIPPED_CARD.read_text())
    assert terminal.cvca.encode() in card.trust_points  # the shipped card trusts its chain
    issued = (directory / "terminal.cvcert").read_bytes()

    assert demo_terminal(tmp_path, "https://127.0.0.1:8443", [certificate], TODAY) == directory
    assert (directory / "terminal.cvcert").read_bytes() == issued  # kept while it fits

    demo_terminal(tmp_path, "https://127.0.0.1:9443", [certificate], TODAY)
    assert (directory / "terminal.cvcert").read_bytes() != issued
    renewed = create_self_signed().certificate_der
    demo_terminal(tmp_path, "https://127.0.0.1:9443", [renewed], TODAY)
    assert EidTerminal.load(directory, served_certificates=[renewed]).description.subject_url == "https://127.0.0.1:9443"
    assert (directory / "terminal.key").stat().st_mode & 0o777 == 0o600
