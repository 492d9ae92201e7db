"""The platform-neutral interface: what every platform turns deliveries into and sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from handlers.events import ChatType, ContentKind, InboundEvent

__all__ = ["ChatType", "ContentKind", "InboundEvent"]


MAX_ID_LEN = 128


def platform_id(value: Any) -> str:
    """Ids are strings; a JSON number (Python keeps every digit) is converted with str()."""
    if isinstance(value, bool) or value is None:
        raise ValueError("must be a string id")
    if isinstance(value, int):
        value = str(value)
    elif isinstance(value, float) and value.is_integer():
        value = str(int(value))  # digits beyond 2^53 were lost by the sender, not by us
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LEN:
        raise ValueError(f"must be a string id of 1-{MAX_ID_LEN} characters")
    return value


class DeliveryError(Exception):
    """A delivery body that is not an event: answered 400 with this message."""


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One thing the bot says: text, or a photo with an optional caption."""

    chat_id: str
    text: str = ""
    photo_url: str | None = None
    chat_type: ChatType | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the platform answered for one send (one chunk list for long texts)."""

    message_ids: tuple[str, ...]


class PlatformError(Exception):
    """A send failed; subclasses say whether to retry."""

    retryable: bool = False

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientError(PlatformError):
    """Network trouble, 5xx: retry with backoff."""

    retryable = True


class Unreachable(TransientError):
    """The platform was not reached at all (refused, unknown host, no answer)."""

    def __init__(self, message: str, *, address: str) -> None:
        super().__init__(message)
        self.address = address


class RetryAfter(TransientError):
    """429 or a rate limit: retry no sooner than `seconds`."""

    def __init__(self, message: str, *, seconds: float, code: int | None = None) -> None:
        super().__init__(message, code=code)
        self.seconds = seconds


class Forbidden(TransientError):
    """403: Zalo answers some transient failures with it (ZALO.md 1); retried a few times."""


class DeferUntil(TransientError):
    """The platform refuses now but will accept later at a known time (OA night ban)."""

    def __init__(self, message: str, *, until: datetime, code: int | None = None) -> None:
        super().__init__(message, code=code)
        self.until = until


class PermanentError(PlatformError):
    """A 4xx that will not change on retry: recorded as failed with the reason."""


class Unauthorized(PermanentError):
    """The token is wrong or revoked: an outage of the whole platform, never one message's
    failure (the sender pauses and retries, bot/platforms/outage.py)."""


class PlatformClient(Protocol):
    """Sends to a platform; one long-lived instance per process."""

    name: str

    async def send(self, message: OutboundMessage) -> SendResult: ...

    async def close(self) -> None: ...
