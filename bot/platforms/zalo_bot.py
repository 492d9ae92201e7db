"""Zalo Bot Platform (ZALO.md 1): deliveries into InboundEvents, and the HTTP API client."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from bot.platforms.base import (
    ChatType,
    ContentKind,
    DeliveryError,
    Forbidden,
    InboundEvent,
    OutboundMessage,
    PermanentError,
    PlatformError,
    RetryAfter,
    SendResult,
    TransientError,
    Unauthorized,
    Unreachable,
    platform_id,
)

log = logging.getLogger(__name__)

PLATFORM = "zalo_bot"

_KIND_BY_EVENT: dict[str, ContentKind] = {
    "message.text.received": "text",
    "message.image.received": "image",
    "message.sticker.received": "sticker",
    "message.voice.received": "voice",
    "message.unsupported.received": "unsupported",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _From(_Model):
    id: str
    display_name: str | None = None
    first_name: str | None = None
    is_bot: bool = False

    _id = field_validator("id", mode="before")(platform_id)


class _Chat(_Model):
    id: str
    chat_type: str = "PRIVATE"

    _id = field_validator("id", mode="before")(platform_id)


class _Quote(_Model):
    message_id: str

    _id = field_validator("message_id", mode="before")(platform_id)


class _Message(_Model):
    message_id: str | None = None
    from_: _From | None = None
    chat: _Chat | None = None
    date: float | None = None
    text: str | None = None
    caption: str | None = None
    photo_url: str | None = None
    photo: str | None = None
    sticker: str | None = None
    url: str | None = None
    voice_url: str | None = None
    message_type: str | None = None
    # Reply-to is undocumented on the Bot Platform: accept every shape integrators report.
    reply_to_message: _Quote | None = None
    quote: _Quote | None = None
    quote_message_id: str | None = None
    quote_msg_id: str | None = None

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    @field_validator("message_id", "quote_message_id", "quote_msg_id", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> str | None:
        return None if value is None or value == "" else platform_id(value)

    @field_validator("photo", "sticker", mode="before")
    @classmethod
    def _url_or_object(cls, value: Any) -> Any:
        # `photo` is a URL in the docs; be lenient if an object with a url arrives.
        if isinstance(value, dict):
            return value.get("url") or value.get("photo_url")
        return value


class _Event(_Model):
    event_name: str
    message: _Message | None = None

    @field_validator("event_name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value or len(value) > 100:
            raise ValueError("event_name must be 1-100 characters")
        return value


def parse_epoch(value: float | None, fallback: datetime) -> datetime:
    """Zalo sends milliseconds; below 1e12 it is seconds. Out-of-range values fall back."""
    if value is None:
        return fallback
    seconds = value / 1000 if value >= 1e12 else value
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return fallback


def unwrap(body: Any) -> Any:
    """The docs wrap events in {"ok": true, "result": {...}}; real captures are bare."""
    if isinstance(body, dict) and body.get("ok") is True and isinstance(body.get("result"), dict):
        return body["result"]
    return body


def parse_delivery(
    raw: bytes, received_at: datetime, platform: str = PLATFORM
) -> list[InboundEvent]:
    """One webhook body -> events. Empty body -> []. Not an event -> DeliveryError."""
    if not raw.strip():
        return []
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DeliveryError(f"invalid JSON: {type(exc).__name__}") from None
    return [event_from_json(unwrap(body), received_at, platform, raw)]


def event_from_json(
    body: Any, received_at: datetime, platform: str = PLATFORM, raw: bytes | None = None
) -> InboundEvent:
    """Validate one decoded update into an InboundEvent (also used by polling)."""
    if not isinstance(body, dict):
        raise DeliveryError("body must be a JSON object with event_name")
    data = dict(body)
    msg = data.get("message")
    if "event_name" not in data and isinstance(msg, dict):
        # An old documented sample has no event_name: infer it from the content.
        data["event_name"] = _infer_event_name(msg)
    if isinstance(msg, dict) and "from" in msg:
        msg = {**msg, "from_": msg["from"]}
        data["message"] = msg
    try:
        event = _Event.model_validate(data)
    except (ValidationError, RecursionError) as exc:
        raise DeliveryError(_explain(exc)) from None
    m = event.message
    known = event.event_name in _KIND_BY_EVENT
    if known and (m is None or m.from_ is None or m.chat is None):
        raise DeliveryError(f"{event.event_name} needs message.from and message.chat")
    kind: ContentKind = _KIND_BY_EVENT.get(event.event_name, "other")
    message_id = m.message_id if m and m.message_id else None
    if message_id is None:
        # No id to dedupe on: the body's hash still makes an identical redelivery a duplicate.
        message_id = (
            "h" + hashlib.sha256(raw or json.dumps(body, sort_keys=True).encode()).hexdigest()[:40]
        )
    sender = m.from_ if m else None
    chat = m.chat if m else None
    chat_type: ChatType = "group" if chat and chat.chat_type.upper() == "GROUP" else "private"
    quote = None
    if m is not None:
        quote = (
            (m.reply_to_message.message_id if m.reply_to_message else None)
            or (m.quote.message_id if m.quote else None)
            or m.quote_message_id
            or m.quote_msg_id
        )
    text = ""
    media: str | None = None
    if m is not None:
        text = m.text or m.caption or ""
        media = m.photo_url or m.photo or m.voice_url or m.sticker or m.url
    return InboundEvent(
        platform=platform,
        event_name=event.event_name,
        event_key=f"{event.event_name}:{message_id}",
        message_id=message_id,
        chat_id=chat.id if chat else "",
        chat_type=chat_type,
        sender_id=sender.id if sender else "",
        sender_name=(sender.display_name or sender.first_name or "") if sender else "",
        sent_at=parse_epoch(m.date if m else None, received_at),
        kind=kind,
        text=text,
        media_url=media,
        quote_message_id=quote,
        sender_is_bot=bool(sender and sender.is_bot),
        raw=body,
    )


def _infer_event_name(msg: dict[str, Any]) -> str:
    if msg.get("photo_url") or msg.get("photo"):
        return "message.image.received"
    if msg.get("voice_url"):
        return "message.voice.received"
    if msg.get("sticker"):
        return "message.sticker.received"
    if isinstance(msg.get("text"), str):
        return "message.text.received"
    return "message.unsupported.received"


def _explain(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]).replace("from_", "from")
        return f"not a Zalo event: {where}: {first['msg']}"
    return "not a Zalo event: nested too deeply"


_JSON = {"Content-Type": "application/json"}
# Content types whose body is UTF-8 JSON for certain (what the Bot API answers).
_UTF8_JSON = frozenset({"application/json", "application/json; charset=utf-8"})


async def _json_body(resp: aiohttp.ClientResponse) -> Any:
    """The answer's JSON (None when empty), as `resp.json(content_type=None)` decodes it;
    the usual content type is decoded without working out its charset again."""
    if resp.headers.get("Content-Type", "").lower() not in _UTF8_JSON:
        return await resp.json(content_type=None)
    raw = (await resp.read()).strip()
    return json.loads(raw.decode("utf-8")) if raw else None


def network_reason(exc: BaseException) -> str:
    """A failed connection in words; never its text, which may carry the URL (the token)."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "the host name is not known"
    if isinstance(exc, TimeoutError):  # aiohttp's timeouts are TimeoutErrors too
        return "no answer"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return "connection refused"
        return exc.os_error.strerror or "cannot connect"
    return f"network error ({type(exc).__name__})"


class ZaloBotClient:
    """The Bot API over one aiohttp ClientSession. The token never appears in logs or errors."""

    name = PLATFORM

    def __init__(
        self, api_base: str, token: str, session: aiohttp.ClientSession, timeout: float = 15.0
    ) -> None:
        self._base = api_base.rstrip("/")
        self._token = token
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def call(
        self, method: str, payload: dict[str, Any] | None = None, wait_s: float | None = None
    ) -> Any:
        """POST one method; returns `result` or raises a typed PlatformError."""
        url = f"{self._base}/bot{self._token}/{method}"
        to = aiohttp.ClientTimeout(total=wait_s) if wait_s else self._timeout
        # The bytes aiohttp's `json=` would send, encoded here: its JSON payload object cost
        # more than the encoding (the sender calls this for every message).
        data = json.dumps(payload or {}).encode()
        try:
            async with self._session.post(url, data=data, headers=_JSON, timeout=to) as resp:
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
                try:
                    body = await _json_body(resp)
                except (json.JSONDecodeError, UnicodeDecodeError, aiohttp.ContentTypeError):
                    body = None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            # str(exc) of a connection error may contain the URL, hence the token.
            address = urlsplit(self._base).netloc
            raise Unreachable(f"{method}: {network_reason(exc)}", address=address) from None
        return self._check(method, status, body, retry_after)

    def _check(self, method: str, status: int, body: Any, retry_after: str | None) -> Any:
        if isinstance(body, dict) and body.get("ok") is True:
            return body.get("result")
        code = status
        desc = f"HTTP {status}"
        if isinstance(body, dict):
            if isinstance(body.get("error_code"), int) and body["error_code"]:
                code = body["error_code"]
            desc = str(body.get("description") or desc)[:300]
        desc = desc.replace(self._token, "***") if self._token else desc
        message = f"{method}: {code} {desc}"
        if code == 429 or status == 429:
            return self._raise_retry(message, retry_after, body)
        if code == 401 or status == 401:
            raise Unauthorized(message, code=code)
        if code == 403 or status == 403:
            raise Forbidden(message, code=403)
        if status >= 500 or code >= 500 or not 400 <= code < 500:
            # 5xx, or ok:false with no usable 4xx code: the platform hiccuped; try again.
            raise TransientError(message, code=code)
        raise PermanentError(message, code=code)

    @staticmethod
    def _raise_retry(message: str, header: str | None, body: Any) -> Any:
        seconds = 30.0
        hint = header
        if isinstance(body, dict) and isinstance(body.get("parameters"), dict):
            hint = hint or body["parameters"].get("retry_after")
        try:
            if hint is not None:
                seconds = max(1.0, min(float(hint), 3600.0))
        except (TypeError, ValueError):
            pass
        raise RetryAfter(message, seconds=seconds, code=429)

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send one chunk (text at most 2000 UTF-16 units; the sender splits)."""
        if message.photo_url:
            payload: dict[str, Any] = {"chat_id": message.chat_id, "photo": message.photo_url}
            if message.text:
                payload["caption"] = message.text
            result = await self.call("sendPhoto", payload)
        else:
            result = await self.call(
                "sendMessage", {"chat_id": message.chat_id, "text": message.text}
            )
        mid = str(result.get("message_id", "")) if isinstance(result, dict) else ""
        return SendResult(message_ids=(mid,) if mid else ())

    async def get_me(self) -> Any:
        return await self.call("getMe")

    async def get_webhook_info(self) -> Any:
        try:
            return await self.call("getWebhookInfo")
        except PermanentError as exc:
            if exc.code == 404:
                return None
            raise

    async def set_webhook(self, url: str, secret_token: str) -> Any:
        return await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> Any:
        return await self.call("deleteWebhook")

    async def get_update(self, timeout_s: int) -> dict[str, Any] | None:
        """One long poll: an update, or None when Zalo answers 408 (nothing new)."""
        try:
            result = await self.call("getUpdates", {"timeout": timeout_s}, wait_s=timeout_s + 10)
        except PlatformError as exc:
            if exc.code == 408:
                return None
            raise
        if isinstance(result, list):  # be lenient: some SDKs describe a list
            return result[0] if result else None
        return result if isinstance(result, dict) else None

    async def close(self) -> None:
        """The session belongs to the app; nothing to close here."""
        await asyncio.sleep(0)
