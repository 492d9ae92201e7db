"""What a delivery must look like before it is stored, so that a stored event can always
be processed (issue 13): bounded nesting, ids without invisible characters, clean text."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from bot.platforms.base import DeliveryError
from handlers.events import InboundEvent

MAX_NESTING = 32  # Zalo's bodies nest 4 deep; far deeper ones are attacks (RecursionError)
MAX_NAME_CHARS = 200  # members.display_name / name are VARCHAR(200)

# A JSON string (skipped whole, brackets inside do not count) or a bracket.
_TOKENS = re.compile(rb'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')
_SURROGATE = re.compile("[\ud800-\udfff]")
_BAD_IN_ID = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")

# Neutral field -> where it came from in the delivery, for the 400 answer.
_ID_FIELDS = {
    "event_name": "event_name",
    "message_id": "message.message_id",
    "chat_id": "message.chat.id",
    "sender_id": "message.from.id",
    "quote_message_id": "message.quote_message_id",
}


class EventRejected(DeliveryError):
    """This one event cannot be stored as it is: answered 400, the rest of its batch is kept."""


def nested_too_deep(body: bytes, limit: int = MAX_NESTING) -> bool:
    """True if the JSON body opens more than `limit` arrays/objects inside each other.

    Checked before json.loads, so a deep body never reaches a recursive decoder or encoder.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # cannot be deeper than the number of brackets
    depth = 0
    for match in _TOKENS.finditer(body):
        first = match.group()[0]
        if first in b"[{":
            depth += 1
            if depth > limit:
                return True
        elif first in b"]}":
            depth -= 1
    return False


def clean_text(value: str) -> str:
    """Lone surrogates become U+FFFD and NULs go: any database stores the result."""
    if value.isascii():
        return value.replace("\x00", "")
    return _SURROGATE.sub("\ufffd", value).replace("\x00", "")


def clean_event(event: InboundEvent) -> InboundEvent:
    """The event as it will be stored; EventRejected if an id or the event name is unusable.

    Ids and names are refused rather than repaired: a changed id would not match the
    member or message it names (and would merge distinct ids).
    """
    for name, where in _ID_FIELDS.items():
        value = getattr(event, name)
        if value and _BAD_IN_ID.search(value):
            raise EventRejected(f"{where}: control characters or lone surrogates are not allowed")
    deep, dirty = _inspect(event.raw, MAX_NESTING)
    if deep:
        raise EventRejected(f"nested more than {MAX_NESTING} levels deep")
    text = clean_text(event.text)
    name = clean_text(event.sender_name)[:MAX_NAME_CHARS]
    media = clean_text(event.media_url) if event.media_url is not None else None
    if not dirty and (text, name, media) == (event.text, event.sender_name, event.media_url):
        return event  # the usual case: nothing to copy
    raw = _clean_json(event.raw) if dirty else event.raw
    return dataclasses.replace(event, text=text, sender_name=name, media_url=media, raw=raw)


def _is_clean(value: str) -> bool:
    if value.isascii():
        return "\x00" not in value
    return "\x00" not in value and _SURROGATE.search(value) is None


def _inspect(value: Any, limit: int) -> tuple[bool, bool]:
    """(nested deeper than `limit`, has a string to clean), without recursion: polling
    hands over bodies decoded elsewhere."""
    dirty = False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True, dirty
        if isinstance(item, dict):
            for key, child in item.items():
                dirty = dirty or not _is_clean(key)
                if isinstance(child, str):
                    dirty = dirty or not _is_clean(child)
                elif isinstance(child, dict | list):
                    stack.append((child, depth + 1))
        elif isinstance(item, list):
            for child in item:
                if isinstance(child, str):
                    dirty = dirty or not _is_clean(child)
                elif isinstance(child, dict | list):
                    stack.append((child, depth + 1))
    return False, dirty


def _clean_json(value: Any) -> Any:
    """A copy of the JSON with every string (keys too) cleaned (its depth is bounded)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    return value
