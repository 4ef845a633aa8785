"""Per-account login throttling that slows guessing without locking the citizen out.

OWASP's "device cookies" scheme: a browser that once logged in to an account gets a signed device cookie
for it. Failed attempts are counted per key in the database (so all workers share them):

- attempts from a browser with a valid device cookie for the account count against that cookie only;
- all other attempts count against the username (whether or not an account of that name exists, so the
  answers tell no usernames apart).

The first ``free_failures`` failures cost nothing; after that each attempt must wait ``base_delay``
doubled per further failure, at most ``max_delay``. Attempts made while waiting are refused without
looking at the password and without counting. An attacker therefore gets a few guesses per
``max_delay``, while the citizen's own browser keeps its own budget and a password reset clears the
username's count.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, TimestampSigner
from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from broker.db import connection_of
from broker.models import LoginThrottle

DEVICE_COOKIE_SALT = "eid-broker device cookie"


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 5
    base_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=5)

    def delay(self, failures: int) -> timedelta:
        """How long after the last failure the next attempt must wait."""
        if failures < self.free_failures:
            return timedelta(0)
        exponent = min(failures - self.free_failures, 32)
        return min(self.base_delay * (2 ** exponent), self.max_delay)


def username_key(username_key_value: str) -> str:
    return "user:" + hashlib.sha256(username_key_value.encode("utf-8")).hexdigest()


def device_key(nonce: str) -> str:
    return "device:" + nonce


@dataclass(frozen=True)
class Budget:
    """The state of one key: how many failures are on record, and how long to wait now (None: no wait)."""

    failures: int
    wait: timedelta | None


# Built once (this runs on every login), executed on the session's connection.
_BUDGET = (select(LoginThrottle.failures, LoginThrottle.last_failure_at)
           .where(LoginThrottle.key == bindparam("b_key")))


def budget(db: Session | Connection, key: str, now: datetime, policy: ThrottlePolicy) -> Budget:
    row = connection_of(db).execute(_BUDGET, {"b_key": key}).first()
    if row is None:
        return Budget(failures=0, wait=None)
    return budget_of(row.failures, row.last_failure_at, now, policy)


def budget_of(failures: int | None, last_failure_at: datetime | None, now: datetime,
              policy: ThrottlePolicy) -> Budget:
    """The budget of a key whose row (read elsewhere, None: no row) says this."""
    if failures is None or last_failure_at is None:
        return Budget(failures=0, wait=None)
    wait = last_failure_at + policy.delay(failures) - now
    return Budget(failures=failures, wait=wait if wait > timedelta(0) else None)


def retry_after(db: Session | Connection, key: str, now: datetime, policy: ThrottlePolicy) -> timedelta | None:
    """How long ``key`` must still wait, or None when an attempt may be made now."""
    return budget(db, key, now, policy).wait


def record_failure(db: Session | Connection, key: str, now: datetime) -> None:
    """Count one failure for ``key``: one upsert, atomic under concurrent workers."""
    connection = connection_of(db)
    insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = insert(LoginThrottle).values(key=key, failures=1, last_failure_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[LoginThrottle.key],
        set_={"failures": LoginThrottle.failures + 1, "last_failure_at": now},
    )
    connection.execute(statement)


def clear(db: Session | Connection, key: str) -> None:
    connection_of(db).execute(delete(LoginThrottle).where(LoginThrottle.key == key))


# Failures older than this are forgotten (an attacker who waits a day gets the free failures again).
STALE_AFTER = timedelta(days=1)


def purge_stale(db: Session | Connection, now: datetime) -> None:
    connection_of(db).execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - STALE_AFTER))


@dataclass(frozen=True)
class DeviceCookie:
    account_id: int
    nonce: str
    issued_at: datetime


class DeviceCookies:
    """Signs and reads device cookies: ``<account id>.<nonce>`` with a timestamp and a MAC (itsdangerous'
    TimestampSigner, keyed with the application's secret key). Plain text, not a serialized object: a
    login reads one and issues one, so neither JSON nor compression is worth its time here."""

    def __init__(self, secret_key: str, lifetime: timedelta) -> None:
        self._signer = TimestampSigner(secret_key, salt=DEVICE_COOKIE_SALT)
        self.lifetime = lifetime
        self._max_age = int(lifetime.total_seconds())

    def issue(self, account_id: int) -> str:
        return self._signer.sign(f"{account_id}.{secrets.token_urlsafe(16)}").decode("ascii")

    def renewal_due(self, cookie: DeviceCookie | None, account_id: int, now: datetime) -> bool:
        """Whether a login of ``account_id`` should issue a new cookie: none yet, another account's, or one
        past half its lifetime. A younger one stays: it proves the same, and issuing a new one would not
        revoke it (the cookies are checked by signature alone)."""
        return cookie is None or cookie.account_id != account_id or now - cookie.issued_at >= self.lifetime / 2

    def read(self, value: str | None) -> DeviceCookie | None:
        """The cookie's content when it is genuine and not older than its lifetime, else None."""
        if not value:
            return None
        try:
            signed, issued_at = self._signer.unsign(value, max_age=self._max_age, return_timestamp=True)
            content = signed.decode("ascii")
        except (BadSignature, UnicodeError):
            return None
        account, _, nonce = content.partition(".")
        if not account.isascii() or not account.isdigit() or not nonce:
            return None
        return DeviceCookie(account_id=int(account), nonce=nonce, issued_at=issued_at)
