"""Rate limits: a per-source token bucket for the webhooks, which cannot be turned against
Zalo itself, and a sliding window of reserved attempts for the dashboard's sign-in.

Deliveries that carry the right secret are never limited: an attacker without the secret
can exhaust the bucket of an address but can never make us drop a real (re)delivery.
The bucket uses the monotonic clock, not the injected business clock: it protects the process
in real time, and a FixedClock that never moves would otherwise never refill a bucket.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_SOURCES = 10_000  # bounded memory under a spoofed-source flood; the oldest is forgotten


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """`per_minute` requests a minute per source, with bursts up to one minute's worth."""

    def __init__(
        self,
        per_minute: int,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        max_sources: int = MAX_SOURCES,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self._now = monotonic
        self._max = max_sources
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def check(self, source: str) -> float:
        """Take one token for `source`: 0.0 if allowed, else the seconds until one is free."""
        now = self._now()
        bucket = self._buckets.pop(source, None)
        if bucket is None:
            bucket = _Bucket(self.capacity, now)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
        self._buckets[source] = bucket  # most recently seen last
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> str:
        """The Retry-After header value: whole seconds, at least 1."""
        return str(max(1, math.ceil(wait)))

    def __len__(self) -> int:
        return len(self._buckets)


class Reservation:
    """Attempts counted against some window keys; `refund` takes them back (a success)."""

    def __init__(self, owner: SlidingWindow, entries: list[tuple[str, datetime]]) -> None:
        self._owner = owner
        self._entries = entries

    def refund(self) -> None:
        for key, stamp in self._entries:
            self._owner._drop(key, stamp)
        self._entries = []


class SlidingWindow:
    """At most `limit` attempts per key in any `window`, counted when reserved.

    An attempt is reserved before it is checked and in the same synchronous step as the
    test for room, so concurrent attempts can never all see room (issue 13). Times come
    from the business clock, so tests move the window with it.
    """

    def __init__(self, limit: int, window: timedelta, *, max_keys: int = MAX_SOURCES) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self._max = max_keys
        self._stamps: OrderedDict[str, deque[datetime]] = OrderedDict()

    def _recent(self, key: str, now: datetime) -> deque[datetime] | None:
        stamps = self._stamps.get(key)
        if stamps is None:
            return None
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        return stamps

    def reserve(self, keys: Iterable[str], now: datetime) -> Reservation | None:
        """Count one attempt against every key, or none at all when any key is full."""
        wanted = list(dict.fromkeys(keys))
        for key in wanted:
            stamps = self._recent(key, now)
            if stamps is not None and len(stamps) >= self.limit:
                return None
        for key in wanted:
            stamps = self._stamps.pop(key, None) or deque()
            stamps.append(now)
            self._stamps[key] = stamps  # most recently used last
        while len(self._stamps) > self._max:
            self._stamps.popitem(last=False)
        return Reservation(self, [(key, now) for key in wanted])

    def retry_after(self, keys: Iterable[str], now: datetime) -> float:
        """Seconds until every key has room again (0 when it has now)."""
        wait = 0.0
        for key in keys:
            stamps = self._recent(key, now)
            if stamps is not None and len(stamps) >= self.limit:
                free_at = stamps[len(stamps) - self.limit] + self.window
                wait = max(wait, (free_at - now).total_seconds())
        return wait

    def _drop(self, key: str, stamp: datetime) -> None:
        stamps = self._stamps.get(key)
        if stamps is not None:
            with contextlib.suppress(ValueError):  # already out of the window
                stamps.remove(stamp)

    def __len__(self) -> int:
        return len(self._stamps)
