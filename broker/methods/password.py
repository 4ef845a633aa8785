"""Username and password: assurance level low, amr ``pwd`` (RFC 8176)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from broker import throttle
from broker.accounts import username_key
from broker.assurance import Level
from broker.methods import AuthenticationMethod
from broker.models import Account
from broker.passwords import PasswordHasher
from broker.throttle import DeviceCookie, ThrottlePolicy


_FIND_ACCOUNT = select(Account.id, Account.password_hash).where(Account.username_key == bindparam("b_key"))


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
                     now: datetime) -> int:
        """The id of the account these credentials open. Raises LoginThrottled or LoginFailed; a failure
        is counted in ``db`` (the caller commits it). A hash made with outdated parameters is redone.

        Core statements on the session's connection: this is the hot path of every login."""
        connection = db.connection()
        key_value = username_key(username)
        account = connection.execute(_FIND_ACCOUNT, {"b_key": key_value}).first()
        if device is not None and account is not None and device.account_id == account.id:
            key = throttle.device_key(device.nonce)
        else:
            key = throttle.username_key(key_value)
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
            connection.execute(update(Account).where(Account.id == account.id)
                               .values(password_hash=self.hasher.hash(password)))
        return account.id
