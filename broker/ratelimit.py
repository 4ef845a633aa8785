"""Per-address rate limits: Flask-Limiter on the views that take passwords, send mail or start the eID
step-up, and the in-process storage its counters live in by default.

``process-memory://`` (:class:`ProcessMemoryStorage`, the default ``ratelimit_storage_uri``) keeps
fixed-window counts in this process as the `limits` library's own ``memory://`` does, but forgets an expired
count when it meets one, and sweeps out all expired counts every :data:`SWEEP_EVERY` hits. ``memory://``
expires its counts from a ``threading.Timer`` of 10 ms that it starts anew on a hit whenever the last one
has run out — at an ordinary rate of requests, a new thread on every limited request, started and run on
the core that serves the requests (benchmarks/password_login.py: the ratio of logins to bare argon2 runs
fell from 0.89 to 0.84 with it). Counts in process memory are per worker process: with several workers, a
shared storage (``redis://``, ``memcached://``) makes the limit one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import Storage

from broker.config import Settings
from broker.views import step_up

SWEEP_EVERY = 1000
"""Hits between two sweeps of expired counts: the memory held is the live counts and at most this many
dead ones."""


class ProcessMemoryStorage(Storage):
    """Fixed-window counters in a dict: key → (count, end of its window), behind one lock (gunicorn's
    threads share it). For the fixed-window strategy, Flask-Limiter's default."""

    STORAGE_SCHEME = ["process-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 clock: Callable[[], float] = time.time, **options: float | str | bool) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}
        self._hits_since_sweep = 0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Count ``amount`` more for ``key``; a count whose window has ended starts a new window of
        ``expiry`` seconds."""
        now = self._clock()
        with self._lock:
            count, ends_at = self._counts.get(key, (0, now))
            if ends_at <= now:
                count, ends_at = 0, now + expiry
            count += amount
            self._counts[key] = (count, ends_at)
            self._hits_since_sweep += 1
            if self._hits_since_sweep >= SWEEP_EVERY:
                self._hits_since_sweep = 0
                self._counts = {live: entry for live, entry in self._counts.items() if entry[1] > now}
            return count

    def get(self, key: str) -> int:
        now = self._clock()
        with self._lock:
            count, ends_at = self._counts.get(key, (0, now))
            return count if ends_at > now else 0

    def get_expiry(self, key: str) -> float:
        """When ``key``'s window ends (now when it has none)."""
        now = self._clock()
        with self._lock:
            _, ends_at = self._counts.get(key, (0, now))
            return max(ends_at, now)

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            cleared = len(self._counts)
            self._counts.clear()
            return cleared

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def __len__(self) -> int:
        """Counts held, live or not yet swept."""
        return len(self._counts)


def install(app: Flask, settings: Settings) -> Limiter:
    """Flask-Limiter on ``app`` with the configured limits, after its blueprints are registered."""
    limiter = Limiter(get_remote_address, app=app, storage_uri=settings.ratelimit_storage_uri)
    for endpoint, limit in (("login.login", settings.ratelimit_login),
                            ("registration.register", settings.ratelimit_register),
                            ("reset.request_link", settings.ratelimit_reset),
                            ("reset.set_password", settings.ratelimit_reset)):
        app.view_functions[endpoint] = limiter.limit(limit, methods=["POST"])(app.view_functions[endpoint])
    step_up.rate_limits(app, limiter, settings)
    return limiter
