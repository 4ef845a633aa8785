from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from broker.assurance import (
    AuthenticationEvent, AuthRequest, AuthResult, Level, StepUpRequired, UnknownLevel, current_level, evaluate,
)
from broker.attributes import Attribute, Source

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MAX_AGE = MappingProxyType({Level.LOW: timedelta(hours=12), Level.SUBSTANTIAL: timedelta(minutes=30),
                            Level.HIGH: timedelta(minutes=15)})


def event(method: str, level: Level, minutes_ago: float, amr: tuple[str, ...] = ("pwd",)) -> AuthenticationEvent:
    return AuthenticationEvent(method=method, level=level, amr=amr, at=NOW - timedelta(minutes=minutes_ago))


# design.md, "Assurance levels"
@pytest.mark.parametrize("level,eidas,tr03107,stork,bsi", [
    (Level.LOW, "http://eidas.europa.eu/LoA/low", "normal", "STORK-QAA-Level-1",
     "http://bsi.bund.de/eID/LoA/normal"),
    (Level.SUBSTANTIAL, "http://eidas.europa.eu/LoA/substantial", "substantiell", "STORK-QAA-Level-3",
     "http://bsi.bund.de/eID/LoA/substantiell"),
    (Level.HIGH, "http://eidas.europa.eu/LoA/high", "hoch", "STORK-QAA-Level-4",
     "http://bsi.bund.de/eID/LoA/hoch"),
])
def test_level_names_in_every_vocabulary(level, eidas, tr03107, stork, bsi):
    assert (level.eidas_uri, level.tr03107_name, level.stork_qaa, level.bsi_uri) == (eidas, tr03107, stork, bsi)
    for name in (eidas, tr03107, stork, bsi):
        assert Level.from_uri(name) is level


def test_levels_are_ordered():
    assert Level.LOW < Level.SUBSTANTIAL < Level.HIGH


@pytest.mark.parametrize("value", ["http://eidas.europa.eu/LoA/medium", "", "STORK-QAA-Level-2", "HIGH"])
def test_unknown_level_identifier_is_named(value):
    with pytest.raises(UnknownLevel) as raised:
        Level.from_uri(value)
    assert raised.value.value == value


def test_from_name():
    assert Level.from_name(" High ") is Level.HIGH
    with pytest.raises(ValueError, match="medium"):
        Level.from_name("medium")


def test_no_events_no_level():
    assert current_level([], NOW, MAX_AGE) is None


def test_password_login_is_low_for_its_max_age():
    assert current_level([event("password", Level.LOW, 60)], NOW, MAX_AGE) is Level.LOW
    assert current_level([event("password", Level.LOW, 12 * 60 + 1)], NOW, MAX_AGE) is None


def test_high_event_decays_to_low():
    events = [event("password", Level.LOW, 120), event("eid", Level.HIGH, 10, ("hwk", "pin"))]
    assert current_level(events, NOW, MAX_AGE) is Level.HIGH
    assert current_level(events, NOW + timedelta(minutes=6), MAX_AGE) is Level.SUBSTANTIAL
    assert current_level(events, NOW + timedelta(minutes=21), MAX_AGE) is Level.LOW
    # an eID login alone also stands for low as long as low lasts
    assert current_level(events[1:], NOW + timedelta(hours=2), MAX_AGE) is Level.LOW


def test_request_can_raise_but_never_lower_the_service_minimum():
    assert AuthRequest("svc", service_minimum=Level.SUBSTANTIAL).required_level is Level.SUBSTANTIAL
    assert AuthRequest("svc", Level.SUBSTANTIAL, requested_level=Level.HIGH).required_level is Level.HIGH
    assert AuthRequest("svc", Level.HIGH, requested_level=Level.LOW).required_level is Level.HIGH


def test_evaluate_asks_anonymous_sessions_to_authenticate():
    assert evaluate(AuthRequest("svc"), None, [], NOW, MAX_AGE, {}) == StepUpRequired(Level.LOW)


def test_evaluate_asks_for_step_up():
    request = AuthRequest("svc", requested_level=Level.HIGH)
    assert evaluate(request, 7, [event("password", Level.LOW, 1)], NOW, MAX_AGE, {}) == StepUpRequired(Level.HIGH)


def test_evaluate_releases_only_requested_attributes():
    email = Attribute("email", "a@example.de", Source.SELF_DECLARED, None, NOW)
    given = Attribute("given_name", "ERIKA", Source.EID, Level.HIGH, NOW)
    events = [event("password", Level.LOW, 30), event("eid", Level.HIGH, 5, ("hwk", "pin"))]
    request = AuthRequest("svc", requested_level=Level.HIGH, requested_attributes=frozenset({"given_name", "x"}))
    result = evaluate(request, 7, events, NOW, MAX_AGE, {"email": email, "given_name": given})
    assert isinstance(result, AuthResult)
    assert result.level is Level.HIGH and result.acr == "http://eidas.europa.eu/LoA/high"
    assert dict(result.attributes) == {"given_name": given}
    assert result.amr == ("hwk", "pin") and result.methods == ("eid",)
    assert result.auth_time == NOW - timedelta(minutes=5)
    assert result.account_id == 7 and result.service_id == "svc"


def test_evaluate_low_request_reports_the_higher_current_level_and_all_supporting_methods():
    events = [event("password", Level.LOW, 30), event("eid", Level.HIGH, 5, ("hwk", "pin"))]
    result = evaluate(AuthRequest("svc"), 7, events, NOW, MAX_AGE, {})
    assert isinstance(result, AuthResult)
    assert result.level is Level.HIGH
    assert result.amr == ("pwd", "hwk", "pin")
    assert result.auth_time == NOW - timedelta(minutes=5)


def test_evaluate_max_age_demands_a_fresh_authentication():
    request = AuthRequest("svc", max_age=timedelta(minutes=10))
    assert evaluate(request, 7, [event("password", Level.LOW, 11)], NOW, MAX_AGE, {}) == StepUpRequired(Level.LOW)
    assert isinstance(evaluate(request, 7, [event("password", Level.LOW, 9)], NOW, MAX_AGE, {}), AuthResult)
