"""Username and password: assurance level low, amr ``pwd`` (RFC 8176)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from broker import throttle
from broker.accounts import find_by_username, username_key
from broker.assurance import Level
from broker.methods import AuthenticationMethod
from broker.models import Account
from broker.passwords import PasswordHasher
from broker.throttle import DeviceCookie, ThrottlePolicy


class LoginFailed(Exception):
    """Unknown username or wrong password; deliberately not saying which."""


class LoginThrottled(Exception):
    """Too many recent failures for this username (or this device): wait ``retry_after``."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(f"login throttled for {retry_after}")
        self.retry_after = retry_after


class PasswordMethod(AuthenticationMethod):
    name = "password"
    level = Level.LOW
    amr = ("pwd",)

    def __init__(self, hasher: PasswordHasher, throttle_policy: ThrottlePolicy) -> None:
        self.hasher = hasher
        self.throttle_policy = throttle_policy

    def authenticate(self, db: Session, username: str, password: str, device: DeviceCookie | None,
                     now: datetime) -> Account:
        """The account for these credentials. Raises LoginThrottled or LoginFailed; a failure is counted
        in ``db`` (the caller commits it). A hash made with outdated parameters is redone."""
        account = find_by_username(db, username)
        if device is not None and account is not None and device.account_id == account.id:
            key = throttle.device_key(device.nonce)
        else:
            key = throttle.username_key(username_key(username))
        state = throttle.budget(db, key, now, self.throttle_policy)
        if state.wait is not None:
            raise LoginThrottled(state.wait)
        if account is None:
            self.hasher.burn(password)
            throttle.record_failure(db, key, now)
            raise LoginFailed()
        if not self.hasher.verify(account.password_hash, password):
            throttle.record_failure(db, key, now)
            raise LoginFailed()
        if state.failures:
            throttle.clear(db, key)
        if self.hasher.needs_rehash(account.password_hash):
            account.password_hash = self.hasher.hash(password)
        return account
