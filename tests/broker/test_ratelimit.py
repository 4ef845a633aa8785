"""broker/ratelimit.py: the in-process counter storage behind the per-address limits."""

import threading

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from broker import ratelimit
from broker.ratelimit import ProcessMemoryStorage


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def storage(clock: Clock) -> ProcessMemoryStorage:
    return ProcessMemoryStorage(clock=clock)


def test_the_uri_names_this_storage(clock):
    assert isinstance(storage_from_string("process-memory://", clock=clock), ProcessMemoryStorage)


def test_a_fixed_window_limit_counts_and_starts_again_after_its_window(storage, clock):
    limiter = FixedWindowRateLimiter(storage)
    limit = parse("3 per minute")
    assert [limiter.hit(limit, "198.51.100.7") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(limit, "198.51.100.8")  # another address has its own count
    clock.now += 59
    assert not limiter.hit(limit, "198.51.100.7")
    clock.now += 1
    assert limiter.hit(limit, "198.51.100.7")
    assert storage.get(limit.key_for("198.51.100.7")) == 1


def test_window_stats_tell_the_remaining_hits_and_the_reset(storage, clock):
    limiter = FixedWindowRateLimiter(storage)
    limit = parse("10 per hour")
    for _ in range(4):
        limiter.hit(limit, "a")
    reset_at, remaining = limiter.get_window_stats(limit, "a")
    assert (reset_at, remaining) == (clock.now + 3600, 6)
    clock.now += 3600
    assert storage.get(limit.key_for("a")) == 0
    assert storage.get_expiry("never counted") == clock.now


def test_expired_counts_are_swept_out(storage, clock):
    for index in range(ratelimit.SWEEP_EVERY - 1):
        storage.incr(f"old {index}", 60)
    clock.now += 61
    assert len(storage) == ratelimit.SWEEP_EVERY - 1  # not yet: expired, but not met again
    storage.incr("new", 60)  # the SWEEP_EVERY-th hit
    assert len(storage) == 1 and storage.get("new") == 1


def test_clear_and_reset(storage):
    storage.incr("a", 60)
    storage.incr("b", 60, amount=2)
    storage.clear("a")
    assert (storage.get("a"), storage.get("b")) == (0, 2)
    assert storage.reset() == 1 and len(storage) == 0


def test_hits_start_no_threads(storage, clock):
    """limits' own memory:// starts a threading.Timer on a hit whenever its last one has run out."""
    before = {thread.ident for thread in threading.enumerate()}
    for _ in range(50):
        storage.incr("198.51.100.7", 60)
        clock.now += 0.02
    assert {thread.ident for thread in threading.enumerate()} == before


def test_counts_from_concurrent_threads_add_up(storage):
    def hit() -> None:
        for _ in range(2000):
            storage.incr("shared", 3600)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert storage.get("shared") == 16000
