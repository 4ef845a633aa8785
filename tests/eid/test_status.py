import pytest
from hypothesis import given
from hypothesis import strategies as st

from eid import status
from eid.errors import EidError
from eid.status import (
    CardError,
    FileNotFound,
    PinBlocked,
    PinDeactivated,
    PinSuspended,
    SecurityStatusNotSatisfied,
    WrongPin,
    error_for_status,
    raise_for_status,
)


def test_success_raises_nothing():
    assert raise_for_status(0x9000) is None


@pytest.mark.parametrize("sw,kind", [
    (0x6A82, FileNotFound), (0x6982, SecurityStatusNotSatisfied), (0x6283, PinDeactivated),
    (0x6A88, status.ReferenceDataNotFound), (0x6988, status.SecureMessagingIncorrect), (0x6300, status.AuthenticationFailed),
])
def test_named_errors(sw, kind):
    error = error_for_status(sw)
    assert type(error) is kind and error.sw == sw
    with pytest.raises(kind):
        raise_for_status(sw, "READ BINARY")


@pytest.mark.parametrize("sw,tries", [(0x63C2, 2), (0x63C1, 1), (0x63C0, 0)])
def test_wrong_pin_reports_tries_left(sw, tries):
    error = error_for_status(sw, "PACE")
    assert isinstance(error, WrongPin) and error.tries_left == tries and error.sw == sw
    assert f"{tries} tries left" in str(error) and "PACE" in str(error)


def test_pin_states_have_their_own_classes():
    assert PinSuspended().need_can and PinSuspended().sw == 0x63C1
    assert PinBlocked().sw == 0x63C0
    assert "transport PIN" in str(status.TransportPinActive())


def test_unknown_status_words_are_generic_card_errors():
    error = error_for_status(0x6F42)
    assert type(error) is CardError and error.sw == 0x6F42 and "6F42" in str(error)


@given(st.integers(min_value=0, max_value=0xFFFF).filter(lambda sw: sw != 0x9000))
def test_every_status_word_maps_to_a_card_error(sw):
    error = error_for_status(sw)
    assert isinstance(error, CardError) and isinstance(error, EidError)
    assert error.sw == sw
