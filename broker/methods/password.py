"""Username and password: assurance level low, amr ``pwd`` (RFC 8176)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, literal_column, select, update
from sqlalchemy.orm import Session, aliased

from broker import throttle
from broker.accounts import username_key
from broker.assurance import Level
from broker.db import Prepared, connection_of
from broker.methods import AuthenticationMethod
from broker.models import Account, LoginThrottle
from broker.passwords import PasswordHasher
from broker.throttle import DeviceCookie, ThrottlePolicy


# One statement for the account and both throttle counts that may apply to this attempt (the username's
# and the device cookie's): outer joins from a one-row anchor, so the counts come back without an account.
_USER_COUNT = aliased(LoginThrottle, name="user_count")
_DEVICE_COUNT = aliased(LoginThrottle, name="device_count")
_ANCHOR = select(literal_column("1").label("anchor")).subquery("anchor")
_FIND_ACCOUNT = Prepared(
    select(Account.id, Account.password_hash,
           _USER_COUNT.failures.label("user_failures"), _USER_COUNT.last_failure_at.label("user_failed_at"),
           _DEVICE_COUNT.failures.label("device_failures"),
           _DEVICE_COUNT.last_failure_at.label("device_failed_at"))
    .select_from(_ANCHOR
                 .outerjoin(Account, Account.username_key == bindparam("b_key"))
                 .outerjoin(_USER_COUNT, _USER_COUNT.key == bindparam("b_user_key"))
                 .outerjoin(_DEVICE_COUNT, _DEVICE_COUNT.key == bindparam("b_device_key")))
)


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

    def authenticate(self, db: Session | Connection, username: str, password: str, device: DeviceCookie | None,
                     now: datetime) -> int:
        """The id of the account these credentials open. Raises LoginThrottled or LoginFailed; a failure
        is counted in ``db`` (the caller commits it). A hash made with outdated parameters is redone.

        Core statements (on the request's connection, or an ORM session's): the hot path of every login."""
        connection = connection_of(db)
        key_value = username_key(username)
        user_key = throttle.username_key(key_value)
        device_key = throttle.device_key(device.nonce) if device is not None else None
        row = _FIND_ACCOUNT.first(connection, {"b_key": key_value, "b_user_key": user_key,
                                                "b_device_key": device_key})
        account_id: int | None = row.id
        if device is not None and device_key is not None and device.account_id == account_id:
            key = device_key
            state = throttle.budget_of(row.device_failures, row.device_failed_at, now, self.throttle_policy)
        else:
            key = user_key
            state = throttle.budget_of(row.user_failures, row.user_failed_at, now, self.throttle_policy)
        if state.wait is not None:
            raise LoginThrottled(state.wait)
        if account_id is None:
            self.hasher.burn(password)
            throttle.record_failure(connection, key, now)
            raise LoginFailed()
        if not self.hasher.verify(row.password_hash, password):
            throttle.record_failure(connection, key, now)
            raise LoginFailed()
        if state.failures:
            throttle.clear(connection, key)
        if self.hasher.needs_rehash(row.password_hash):
            connection.execute(update(Account).where(Account.id == account_id)
                               .values(password_hash=self.hasher.hash(password)))
        return account_id
