"""The platform refused our credentials: an outage, not a verdict on each message.

The sender and the poller share one PlatformOutage: while it lasts nothing is marked failed,
both wait and try again with a growing pause, and /healthz reports the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

FIRST_PAUSE_SECONDS = 15.0
MAX_PAUSE_SECONDS = 300.0

# What the operator should do, per platform (the log and /healthz say it).
HINTS = {
    "zalo_bot": "check ANTT_PLATFORM__TOKEN and run `antt-bot platform info`",
    "zalo_oa": "run `antt-bot platform oa-authorize` (and check ANTT_PLATFORM__APP_SECRET)",
}


def pause_seconds(failures: int) -> float:
    """15 s, 30 s, 1, 2, 4 minutes, then every 5 minutes: quick when a glitch, cheap when not."""
    return min(MAX_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2 ** max(0, failures - 1))


@dataclass
class PlatformOutage:
    """Whether the platform is refusing our token, since when, and when to try again."""

    reason: str | None = None
    since: datetime | None = None
    retry_at: datetime | None = None
    failures: int = 0

    def refused(self, now: datetime, reason: str) -> timedelta:
        """Record one refusal; returns how long to wait before the next try."""
        self.failures += 1
        self.reason = reason
        self.since = self.since or now
        pause = timedelta(seconds=pause_seconds(self.failures))
        self.retry_at = now + pause
        return pause

    def waiting(self, now: datetime) -> bool:
        """True while the pause after the last refusal runs."""
        return self.retry_at is not None and now < self.retry_at

    def recovered(self) -> bool:
        """The platform accepted us again; True if that ends an outage."""
        was = self.reason is not None
        self.reason, self.since, self.retry_at, self.failures = None, None, None, 0
        return was


def describe(platform: str, error: Exception) -> str:
    """The outage's reason as the log and /healthz give it: what failed and what to do."""
    hint = HINTS.get(platform, "check the platform credentials")
    return f"{platform} refused the credentials ({error}); messages stay queued: {hint}"
