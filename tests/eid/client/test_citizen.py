"""eid/client/consent.py and citizen.py: what the citizen is shown and asked, at a terminal or prepared."""

from eid.auxiliary_data import build
from eid.chat import AccessRight
from eid.client.checks import check_eac1
from eid.client.citizen import PreparedCitizen, TerminalCitizen
from eid.client.consent import Consent, PasswordPrompt
from eid.pace import PasswordType
from eid.paos import Eac1Input
from tests.support import eid_world

TODAY = eid_world.TODAY


def consent() -> Consent:
    p = eid_world.shared_pki()
    provider = check_eac1(Eac1Input((p.dv.encode(), p.terminal.encode()), p.certificate_description),
                          "https://localhost:8443/t", [])
    aux = build(required_date_of_birth=TODAY.replace(year=TODAY.year - 18), validity_date=TODAY,
                community_id=bytes.fromhex("027605"))
    return Consent(provider, frozenset({AccessRight.READ_DG4, AccessRight.READ_DG5}),
                   frozenset({AccessRight.READ_DG17, AccessRight.RESTRICTED_IDENTIFICATION}), "Bürgerkonto", aux)


def test_the_request_in_words():
    lines = consent().describe()
    assert lines[0] == "Provider: eid-broker test service (https://localhost:8443)"
    assert "Purpose: Bürgerkonto" in lines
    assert "Required: given names, family name" in lines
    assert "Optional: pseudonym (a service-specific identifier), address" in lines
    assert "The card confirms: born on or before 2008-03-02" in lines
    assert "The card confirms: living in community 027605…" in lines
    assert any(line.startswith("Terms of usage: Test service") for line in lines)


def test_terminal_citizen_asks_for_each_optional_right_and_hides_the_pin():
    shown, answers, secrets = [], iter(["n", "", ""]), iter(["123456"])
    citizen = TerminalCitizen(write=shown.append, ask=lambda prompt: next(answers), secret=lambda prompt: next(secrets))
    assert citizen.consent(consent()) == {AccessRight.READ_DG17}  # RI refused, address kept
    assert citizen.password(PasswordPrompt(PasswordType.PIN, 2, "the PIN was wrong")) == "123456"
    assert "the PIN was wrong (2 tries left)" in shown and not any("123456" in line for line in shown)


def test_terminal_citizen_may_cancel():
    citizen = TerminalCitizen(write=lambda line: None, ask=lambda prompt: "n", secret=lambda prompt: "")
    assert citizen.consent(consent()) is None
    assert citizen.password(PasswordPrompt(PasswordType.CAN)) is None


def test_prepared_citizen_deselects_and_runs_out():
    citizen = PreparedCitizen.with_passwords(["123456"], deselect=[AccessRight.READ_DG17])
    assert citizen.consent(consent()) == {AccessRight.RESTRICTED_IDENTIFICATION}
    assert citizen.password(PasswordPrompt(PasswordType.PIN)) == "123456"
    assert citizen.password(PasswordPrompt(PasswordType.PIN, 2)) is None
    assert "123456" not in repr(citizen)
