import threading
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select

from broker import throttle
from broker.models import LoginThrottle
from broker.throttle import DEVICE_COOKIE_SALT, DeviceCookie, DeviceCookies, ThrottlePolicy

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(free_failures=5, base_delay=timedelta(seconds=1), max_delay=timedelta(minutes=5))


def test_delay_doubles_after_the_free_failures_up_to_the_cap():
    assert [POLICY.delay(n).total_seconds() for n in range(4, 11)] == [0, 1, 2, 4, 8, 16, 32]
    assert POLICY.delay(40) == timedelta(minutes=5)
    assert POLICY.delay(10**6) == timedelta(minutes=5)


def test_counting_and_waiting(database):
    key = throttle.username_key("erika")
    with database.session() as session:
        for _ in range(5):  # the free failures
            assert throttle.retry_after(session, key, NOW, POLICY) is None
            throttle.record_failure(session, key, NOW)
        session.commit()
        assert throttle.retry_after(session, key, NOW, POLICY) == timedelta(seconds=1)
        throttle.record_failure(session, key, NOW)
        assert throttle.retry_after(session, key, NOW, POLICY) == timedelta(seconds=2)
        assert throttle.retry_after(session, key, NOW + timedelta(seconds=2), POLICY) is None
        throttle.clear(session, key)
        session.commit()
        assert throttle.retry_after(session, key, NOW, POLICY) is None


def test_concurrent_failures_are_all_counted(database):
    key = throttle.username_key("erika")
    barrier = threading.Barrier(4)

    def fail():
        with database.session() as session:
            barrier.wait()
            for _ in range(5):
                throttle.record_failure(session, key, NOW)
                session.commit()

    threads = [threading.Thread(target=fail) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.session() as session:
        assert session.scalar(select(LoginThrottle.failures).where(LoginThrottle.key == key)) == 20


def test_keys_do_not_contain_the_username():
    assert "erika" not in throttle.username_key("erika")
    assert throttle.username_key("erika") != throttle.username_key("erika2")


def test_device_cookie_round_trip_and_tampering():
    cookies = DeviceCookies("secret", timedelta(days=180))
    value = cookies.issue(42)
    read = cookies.read(value)
    assert read is not None and read.account_id == 42 and len(read.nonce) >= 20
    assert cookies.issue(42) != value
    assert cookies.read(value[:-2] + ("AA" if not value.endswith("AA") else "BB")) is None
    assert DeviceCookies("other secret", timedelta(days=180)).read(value) is None
    assert cookies.read("") is None and cookies.read(None) is None
    assert cookies.read("garbage.garbage.garbage") is None


def test_device_cookie_expires_and_needs_an_account_and_a_nonce():
    class TwoDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - 2 * 24 * 3600

    fresh = DeviceCookies("secret", timedelta(days=1))
    assert fresh.read(TwoDaysAgo("secret", salt=DEVICE_COOKIE_SALT).sign("42.nonce").decode()) is None
    signer = TimestampSigner("secret", salt=DEVICE_COOKIE_SALT)
    for content in ("x.nonce", "42.", "42", "-1.nonce", "\u0664\u0662.nonce"):
        assert fresh.read(signer.sign(content).decode()) is None, content
    read = fresh.read(signer.sign("42.nonce").decode())
    assert read is not None and (read.account_id, read.nonce) == (42, "nonce")
    assert abs(read.issued_at - datetime.now(UTC)) < timedelta(seconds=5)


def test_device_cookie_is_renewed_when_missing_foreign_or_past_half_its_lifetime():
    cookies = DeviceCookies("secret", timedelta(days=180))
    young = DeviceCookie(account_id=42, nonce="n", issued_at=NOW - timedelta(days=89))
    assert not cookies.renewal_due(young, 42, NOW)
    assert cookies.renewal_due(young, 43, NOW)
    assert cookies.renewal_due(None, 42, NOW)
    assert cookies.renewal_due(DeviceCookie(account_id=42, nonce="n", issued_at=NOW - timedelta(days=90)), 42, NOW)


def test_stale_counts_are_purged(database):
    with database.session() as session:
        throttle.record_failure(session, "user:old", NOW - timedelta(days=2))
        throttle.record_failure(session, "user:new", NOW - timedelta(hours=1))
        throttle.purge_stale(session, NOW)
        session.commit()
        assert session.scalars(select(LoginThrottle.key)).all() == ["user:new"]
