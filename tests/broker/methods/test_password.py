from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from broker.accounts import create_account
from broker.assurance import AuthenticationEvent, Level
from broker.methods import AuthenticationMethod
from broker.models import Account
from broker.methods.password import LoginFailed, LoginThrottled, PasswordMethod
from broker.passwords import Argon2Parameters, PasswordHasher, PasswordPolicy
from broker.throttle import DeviceCookie, ThrottlePolicy

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
HASHER = PasswordHasher(Argon2Parameters())
METHOD = PasswordMethod(HASHER, ThrottlePolicy(free_failures=2, base_delay=timedelta(seconds=10)))


@pytest.fixture
def session(database):
    with database.session() as session:
        create_account(session, HASHER, PasswordPolicy(), username="Erika", email="e@example.de",
                       password="Lange Rede, kurzer Sinn", now=NOW)
        session.commit()
        yield session


def account_id(session) -> int:
    return session.scalar(select(Account.id).where(Account.username == "Erika"))


def test_password_method_is_low_with_amr_pwd():
    assert isinstance(METHOD, AuthenticationMethod)
    assert METHOD.event(NOW) == AuthenticationEvent(method="password", level=Level.LOW, amr=("pwd",), at=NOW)


def test_authenticate(session):
    assert METHOD.authenticate(session, "ERIKA", "Lange Rede, kurzer Sinn", None, NOW) == account_id(session)
    with pytest.raises(LoginFailed):
        METHOD.authenticate(session, "Erika", "Lange Rede", None, NOW)
    with pytest.raises(LoginFailed):
        METHOD.authenticate(session, "Niemand", "Lange Rede, kurzer Sinn", None, NOW)


def test_device_cookie_of_the_account_has_its_own_budget(session):
    opened = METHOD.authenticate(session, "Erika", "Lange Rede, kurzer Sinn", None, NOW)
    for _ in range(2):
        with pytest.raises(LoginFailed):
            METHOD.authenticate(session, "Erika", "falsch", None, NOW)
    with pytest.raises(LoginThrottled) as throttled:
        METHOD.authenticate(session, "Erika", "Lange Rede, kurzer Sinn", None, NOW)
    assert throttled.value.retry_after == timedelta(seconds=10)
    own = DeviceCookie(account_id=opened, nonce="n1", issued_at=NOW)
    assert METHOD.authenticate(session, "Erika", "Lange Rede, kurzer Sinn", own, NOW) == opened
    foreign = DeviceCookie(account_id=opened + 1, nonce="n2", issued_at=NOW)  # a cookie of another account counts for nothing
    with pytest.raises(LoginThrottled):
        METHOD.authenticate(session, "Erika", "Lange Rede, kurzer Sinn", foreign, NOW)
