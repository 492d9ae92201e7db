"""The platform-neutral event every platform's delivery becomes (DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

ChatType = Literal["private", "group"]
ContentKind = Literal[
    "text",
    "image",
    "sticker",
    "voice",
    "file",
    "location",
    "link",
    "video",
    "unsupported",
    "receipt",
    "follow",
    "unfollow",
    "join",
    "leave",
    "other",
]


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """One thing a member did, as the bot saw it, independent of the platform."""

    platform: str
    event_name: str
    event_key: str  # unique per platform: the dedupe key
    message_id: str
    chat_id: str
    chat_type: ChatType
    sender_id: str
    sender_name: str
    sent_at: datetime  # timezone-aware UTC
    kind: ContentKind
    text: str = ""
    media_url: str | None = None
    quote_message_id: str | None = None  # the message this one replies to
    sender_is_bot: bool = False
    raw: dict[str, Any] = field(default_factory=dict)


def event_to_json(event: InboundEvent) -> dict[str, Any]:
    """The neutral fields as JSON (stored in the inbox beside the raw body)."""
    # Not dataclasses.asdict: it deep-copies `raw`, which is stored beside this anyway.
    data = {f.name: getattr(event, f.name) for f in fields(event) if f.name != "raw"}
    data["sent_at"] = event.sent_at.isoformat()
    return data


def event_from_stored(data: dict[str, Any], raw: dict[str, Any] | None = None) -> InboundEvent:
    """Inverse of event_to_json."""
    fields = dict(data)
    fields["sent_at"] = datetime.fromisoformat(fields["sent_at"])
    return InboundEvent(**fields, raw=raw or {})
