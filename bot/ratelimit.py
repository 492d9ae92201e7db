"""A per-source token bucket for the webhooks, which cannot be turned against Zalo itself.

Deliveries that carry the right secret are never limited: an attacker without the secret
can exhaust the bucket of an address but can never make us drop a real (re)delivery.
Limits use the monotonic clock, not the injected business clock: they protect the process
in real time, and a FixedClock that never moves would otherwise never refill a bucket.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

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
