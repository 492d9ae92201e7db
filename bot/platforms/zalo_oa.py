"""Zalo Official Account (ZALO.md 2): deliveries, signatures, the token store and the client."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.platforms.base import (
    ChatType,
    ContentKind,
    DeferUntil,
    DeliveryError,
    InboundEvent,
    OutboundMessage,
    PermanentError,
    RetryAfter,
    SendResult,
    TransientError,
    Unauthorized,
    Unreachable,
    platform_id,
)
from bot.platforms.zalo_bot import network_reason
from handlers.clock import Clock
from handlers.config import PlatformConfig, Settings
from models.db import read_session
from models.outbox import insert_for
from models.tables import Group, KeyValue

log = logging.getLogger(__name__)

PLATFORM = "zalo_oa"
USER_PATH = "/v3.0/oa/message/cs"
GROUP_PATH = "/v3.0/oa/group/message"
TOKEN_PATH = "/v4/oa/access_token"
PERMISSION_PATH = "/v4/oa/permission"

# ---------------------------------------------------------------------------------------------
# Deliveries
# ---------------------------------------------------------------------------------------------

_KIND_BY_TYPE: dict[str, ContentKind] = {
    "text": "text",
    "image": "image",
    "gif": "image",
    "sticker": "sticker",
    "location": "location",
    "file": "file",
    "link": "link",
    "audio": "voice",
    "voice": "voice",
    "video": "video",
}
_RECEIPTS = {"user_seen_message", "user_received_message"}
_EARLIEST = datetime(2015, 1, 1, tzinfo=UTC)  # before the OA API existed: a garbled timestamp


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Party(_Model):
    id: str

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> str:
        return platform_id(value)


class _Attachment(_Model):
    type: str = ""
    payload: Any = None


class _Message(_Model):
    msg_id: str | None = None
    text: str | None = None
    attachments: list[_Attachment] = []
    quote_msg_id: str | None = None
    msg_ids: list[str] = []

    @field_validator("msg_id", "quote_msg_id", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> str | None:
        return None if value is None or value == "" else platform_id(value)

    @field_validator("msg_ids", mode="before")
    @classmethod
    def _id_list(cls, value: Any) -> list[str]:
        return [platform_id(v) for v in value] if isinstance(value, list) else []

    @field_validator("attachments", mode="before")
    @classmethod
    def _attachment_list(cls, value: Any) -> list[Any]:
        return [a for a in value if isinstance(a, dict)] if isinstance(value, list) else []


class _Event(_Model):
    event_name: str
    app_id: str | None = None
    oa_id: str | None = None
    sender: _Party | None = None
    recipient: _Party | None = None
    follower: _Party | None = None
    user: _Party | None = None
    group: _Party | None = None
    group_id: str | None = None
    message: _Message | None = None
    timestamp: str | None = None

    @field_validator("event_name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value or len(value) > 100:
            raise ValueError("event_name must be 1-100 characters")
        return value

    @field_validator("app_id", "oa_id", "group_id", mode="before")
    @classmethod
    def _opt_id(cls, value: Any) -> str | None:
        return None if value is None or value == "" else platform_id(value)

    @field_validator("timestamp", mode="before")
    @classmethod
    def _ts(cls, value: Any) -> str | None:
        return body_timestamp({"timestamp": value}) or None


def decode(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object; integers keep every digit (Python ints are exact)."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # ValueError also covers numbers longer than Python's int-digits limit.
        raise DeliveryError(f"invalid JSON: {type(exc).__name__}") from None
    if not isinstance(body, dict):
        raise DeliveryError("body must be a JSON object with event_name")
    return body


def body_timestamp(body: Mapping[str, Any]) -> str:
    """`timestamp` as the digits Zalo signed: a string as is, a number with str()."""
    value = body.get("timestamp")
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    return value if isinstance(value, str) else ""


def parse_timestamp(value: str | None, fallback: datetime) -> datetime:
    """Milliseconds as a string (seconds accepted); implausible values give `fallback`."""
    if not value:
        return fallback
    try:
        number = float(value.strip())
        ms = number * 1000 if number < 1e11 else number
        when = datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return fallback
    # Samples in the wild carry truncated 12-digit values (1974 as ms, year 6862 as seconds).
    if not _EARLIEST <= when <= fallback + timedelta(days=1):
        return fallback
    return when


def parse_delivery(raw: bytes, received_at: datetime, *, oa_id: str = "") -> list[InboundEvent]:
    """One webhook body -> events. Empty body -> []. Not an event -> DeliveryError."""
    if not raw.strip():
        return []
    return [event_from_json(decode(raw), received_at, oa_id=oa_id)]


def event_from_json(
    body: dict[str, Any], received_at: datetime, *, oa_id: str = ""
) -> InboundEvent:
    """Validate one decoded OA event into an InboundEvent; `oa_id` tells the OA's own side."""
    try:
        ev = _Event.model_validate(body)
    except (ValidationError, RecursionError) as exc:
        raise DeliveryError(_explain(exc)) from None
    name = ev.event_name
    oa = oa_id or ev.oa_id or ""
    m = ev.message
    chat_type: ChatType = "private"
    kind: ContentKind = "other"
    media: str | None = None
    chat_id = sender_id = ""
    if name.startswith(("user_send_group_", "oa_send_group_")):
        sender, recipient = _both(ev)
        chat_type, chat_id, sender_id = "group", recipient.id, sender.id
        kind, media = _content(name.split("_group_", 1)[1], m)
    elif name.startswith(("user_send_", "oa_send_")):
        sender, recipient = _both(ev)
        # A one-to-one chat is named after the user: replies go to recipient.user_id.
        chat_id = recipient.id if name.startswith("oa_") else sender.id
        sender_id = sender.id
        kind, media = _content(name.split("_send_", 1)[1], m)
    elif name in _RECEIPTS:
        user = _user_side(ev, oa)
        chat_id = sender_id = user
        kind = "receipt"
    elif name in ("follow", "unfollow"):
        party = ev.follower or ev.user or ev.sender
        chat_id = sender_id = party.id if party else ""
        kind = "follow" if name == "follow" else "unfollow"
    elif name.endswith(("join_group", "joined_group", "leave_group", "left_group", "out_group")):
        member = ev.sender or ev.user or ev.follower
        group = (
            ev.group_id
            or (ev.group.id if ev.group else None)
            or (ev.recipient.id if ev.recipient else "")
        )
        chat_type, chat_id = "group", group
        sender_id = member.id if member else ""
        kind = "join" if "join" in name else "leave"
    else:
        # A new event name: keep it (stored, never fatal) with whatever ids it has.
        sender_id = ev.sender.id if ev.sender else ""
        chat_id = ev.recipient.id if ev.recipient and ev.recipient.id != oa else sender_id
    message_id = (m.msg_id if m else None) or _synthetic_id(ev, chat_id, sender_id, body)
    from_oa = name.startswith("oa_") or bool(oa and sender_id == oa)
    return InboundEvent(
        platform=PLATFORM,
        event_name=name,
        event_key=f"{name}:{message_id}",
        message_id=message_id,
        chat_id=chat_id,
        chat_type=chat_type,
        sender_id=sender_id,
        sender_name="",  # OA deliveries carry ids only
        sent_at=parse_timestamp(ev.timestamp, received_at),
        kind=kind,
        text=(m.text or "") if m else "",
        media_url=media,
        quote_message_id=m.quote_msg_id if m else None,
        sender_is_bot=from_oa,
        raw=body,
    )


def _both(ev: _Event) -> tuple[_Party, _Party]:
    if ev.sender is None or ev.recipient is None:
        raise DeliveryError(f"{ev.event_name} needs sender.id and recipient.id")
    return ev.sender, ev.recipient


def _user_side(ev: _Event, oa_id: str) -> str:
    """Receipts are about the OA's message: the user is whichever side is not the OA."""
    if ev.sender and oa_id and ev.sender.id == oa_id and ev.recipient:
        return ev.recipient.id
    if ev.sender:
        return ev.sender.id
    return ev.recipient.id if ev.recipient else ""


def _content(suffix: str, m: _Message | None) -> tuple[ContentKind, str | None]:
    first = m.attachments[0] if m and m.attachments else None
    kind = (
        _KIND_BY_TYPE.get(suffix)
        or (_KIND_BY_TYPE.get(first.type) if first else None)
        or "unsupported"
    )
    return kind, _media_url(first)


def _media_url(att: _Attachment | None) -> str | None:
    if att is None or not isinstance(att.payload, dict):
        return None
    payload = att.payload
    coords = payload.get("coordinates")
    if isinstance(coords, dict) and coords.get("latitude") is not None:
        # RFC 5870 geo URI: one string a person or a map can open.
        return f"geo:{coords.get('latitude')},{coords.get('longitude')}"[:200]
    for key in ("url", "thumbnail"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value[:2000]
    return None


def _synthetic_id(ev: _Event, chat_id: str, sender_id: str, body: dict[str, Any]) -> str:
    """No msg_id (follow, receipts): the fields Zalo repeats on redelivery make the key."""
    ids = ",".join(ev.message.msg_ids) if ev.message else ""
    basis = f"{ev.event_name}|{chat_id}|{sender_id}|{ev.timestamp or ''}|{ids}"
    if not ev.timestamp and not ids:
        basis += "|" + json.dumps(body, sort_keys=True, default=str)
    return "h" + hashlib.sha256(basis.encode()).hexdigest()[:40]


def _explain(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"not a Zalo OA event: {where}: {first['msg']}"
    return "not a Zalo OA event: nested too deeply"


# ---------------------------------------------------------------------------------------------
# Signature
# ---------------------------------------------------------------------------------------------


def signature_hex(first_term: str, raw: bytes, timestamp: str, secret: str) -> str:
    """sha256(first_term + raw body + timestamp + secret): plain SHA-256, not HMAC."""
    data = first_term.encode() + raw + timestamp.encode() + secret.encode()
    return hashlib.sha256(data).hexdigest()


def signature_ok(
    header: str | None, first_term: str, raw: bytes, timestamp: str, secret: str
) -> bool:
    """Check `X-ZEvent-Signature: mac=<hex>` (the prefix is optional) in constant time."""
    if not header or not first_term or not secret:
        return False
    given = header.strip()
    if given[:4].lower() == "mac=":
        given = given[4:].strip()
    expected = signature_hex(first_term, raw, timestamp, secret)
    return hmac.compare_digest(given.lower().encode("utf-8", "replace"), expected.encode())


def signature_terms(platform: PlatformConfig) -> tuple[str, str]:
    """(first term, secret) chosen by `signature_first_term` and `signature_secret`."""
    first = platform.app_id if platform.signature_first_term == "app_id" else platform.oa_id
    secret = (
        platform.oa_secret_key
        if platform.signature_secret == "oa_secret_key"
        else platform.app_secret
    )
    return first, secret.get_secret_value()


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------

TOKEN_KEY = "zalo_oa.tokens"
REFRESH_AHEAD = timedelta(minutes=30)  # access tokens live ~25 h; refresh well before
LEASE = timedelta(seconds=60)  # longer than the OAuth call's timeout
WAIT_FOR_OTHER_S = 30.0  # real seconds to wait for another instance's refresh


class TokenRefused(Unauthorized):
    """The OA token (or the refresh token) was refused: authorise again."""


@dataclass(frozen=True, slots=True)
class TokenPair:
    """The current access token, its single-use refresh token and when the access ends."""

    access_token: str
    refresh_token: str
    expires_at: datetime | None

    def due(self, now: datetime) -> bool:
        """True when the access token ends within REFRESH_AHEAD (unknown expiry: not due)."""
        return self.expires_at is not None and self.expires_at - now <= REFRESH_AHEAD

    def to_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> TokenPair:
        return cls(
            str(value.get("access_token") or ""),
            str(value.get("refresh_token") or ""),
            _when(value.get("expires_at")),
        )


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def permission_url(oauth_base: str, app_id: str, redirect_uri: str) -> str:
    """The page where the OA's admin grants the app access; Zalo returns `?code=` after."""
    query = urlencode({"app_id": app_id, "redirect_uri": redirect_uri})
    return f"{oauth_base.rstrip('/')}{PERMISSION_PATH}?{query}"


def _unreachable(what: str, base: str, exc: BaseException) -> Unreachable:
    """`what` failed before Zalo answered: "cannot reach HOST: reason", as the Bot API says
    it (the exception's own text is not shown: it may carry a token)."""
    address = urlsplit(base).netloc
    return Unreachable(f"{what}: cannot reach {address}: {network_reason(exc)}", address=address)


async def request_tokens(
    http: aiohttp.ClientSession,
    platform: PlatformConfig,
    form: dict[str, str],
    now: datetime,
    limit_s: float = 20.0,
) -> TokenPair:
    """POST the OAuth v4 token endpoint (refresh or code exchange); secrets never in errors."""
    secret = platform.app_secret.get_secret_value()
    if not secret or not platform.app_id:
        raise TokenRefused(
            "platform.app_id and platform.app_secret are needed for OA tokens "
            "(export ANTT_PLATFORM__APP_SECRET)"
        )
    url = f"{platform.oauth_base.rstrip('/')}{TOKEN_PATH}"
    try:
        async with http.post(
            url,
            data={**form, "app_id": platform.app_id},
            headers={"secret_key": secret},
            timeout=aiohttp.ClientTimeout(total=limit_s),
        ) as resp:
            status = resp.status
            try:
                body = await resp.json(content_type=None)
            except (json.JSONDecodeError, UnicodeDecodeError, aiohttp.ContentTypeError):
                body = None
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise _unreachable("OA token endpoint", platform.oauth_base, exc) from None
    access = body.get("access_token") if isinstance(body, dict) else None
    if isinstance(body, dict) and isinstance(access, str) and access:
        refresh = body.get("refresh_token")
        return TokenPair(
            access,
            refresh if isinstance(refresh, str) and refresh else form.get("refresh_token", ""),
            _expiry(body.get("expires_in"), now),
        )
    if status >= 500 or not isinstance(body, dict):
        raise TransientError(f"OA token endpoint: HTTP {status}")
    code = _int(body.get("error"))
    why = str(
        body.get("error_description")
        or body.get("error_name")
        or body.get("message")
        or f"HTTP {status}"
    )[:200]
    raise TokenRefused(
        f"OA token endpoint refused ({code} {why}): run "
        "`antt-bot platform oa-authorize` to authorise the app again",
        code=code,
    )


def _expiry(value: Any, now: datetime) -> datetime | None:
    seconds = _int(value)  # Zalo sends expires_in as a string of seconds
    return now + timedelta(seconds=seconds) if seconds and seconds > 0 else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


Verdict = Literal["fresh", "wait", "go"]


class OATokenStore:
    """The token pair in the `kv` table, refreshed under a lock that spans instances.

    In-process an asyncio lock; across instances a lease in the same kv row, taken in a short
    transaction (SELECT ... FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite) and re-read
    after taking it, so a single-use refresh token is spent once. No database lock is held
    during the HTTP call: on SQLite that would stall every webhook write behind it.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        platform: PlatformConfig,
        http: aiohttp.ClientSession,
        clock: Clock,
        *,
        oauth_timeout: float = 20.0,
    ) -> None:
        self._sessions = sessions
        self._platform = platform
        self._http = http
        self._clock = clock
        self._timeout = oauth_timeout
        self._lock = asyncio.Lock()
        self._holder = uuid.uuid4().hex
        self._unsaved: TokenPair | None = None
        self.refreshes = 0  # refresh calls this instance made (metrics, tests)

    async def current(self) -> TokenPair:
        """The stored pair; seeded from the config the first time only."""
        pair = await self._read()
        if pair is None:
            await self._seed()
            pair = await self._read()
        if pair is None or not pair.access_token:
            raise TokenRefused("no OA access token yet: run `antt-bot platform oa-authorize`")
        return pair

    async def access_token(self) -> str:
        """A usable access token, refreshed first when it is about to end."""
        if self._unsaved is not None:
            await self._persist(self._unsaved)
            if self._unsaved is not None:
                return self._unsaved.access_token
        pair = await self.current()
        if pair.due(self._clock.now()):
            return await self.refresh(pair.access_token, force=False)
        return pair.access_token

    async def refresh(self, seen: str, *, force: bool = True) -> str:
        """Refresh unless someone already replaced `seen`; `force` when Zalo refused it."""
        if await self._read() is None:
            await self._seed()
        async with self._lock:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT_FOR_OTHER_S
            while True:
                verdict, pair = await self._claim(seen, force)
                if verdict == "fresh":
                    return pair.access_token
                if verdict == "go":
                    break
                if loop.time() > deadline:
                    raise TransientError("OA token refresh in progress on another instance")
                await asyncio.sleep(0.1)
            if not pair.refresh_token:
                await self._release()
                raise TokenRefused(
                    "no OA refresh token stored: run `antt-bot platform oa-authorize`"
                )
            try:
                self.refreshes += 1
                new = await request_tokens(
                    self._http,
                    self._platform,
                    {"grant_type": "refresh_token", "refresh_token": pair.refresh_token},
                    self._clock.now(),
                    self._timeout,
                )
            except BaseException:
                await self._release()
                raise
            await self._persist(new)
            log.info("OA access token refreshed", extra={"expires_at": str(new.expires_at)})
            return new.access_token

    async def save(self, pair: TokenPair, source: str) -> None:
        """Replace the stored pair (after `oa-authorize`), clearing any lease."""
        await self._persist(pair, source=source)
        if self._unsaved is not None:
            raise TransientError("the database did not take the new OA tokens")

    async def _read(self) -> TokenPair | None:
        # Every send reads the pair: without the write lock, or each would queue for it.
        async with read_session(self._sessions) as session:
            row = await session.get(KeyValue, TOKEN_KEY)
            return TokenPair.from_json(row.value) if row is not None else None

    async def _seed(self) -> None:
        access = self._platform.access_token.get_secret_value()
        refresh = self._platform.refresh_token.get_secret_value()
        if not access and not refresh:
            return
        now = self._clock.now()
        value = {**TokenPair(access, refresh, None).to_json(), "source": "config"}
        async with self._sessions() as session, session.begin():
            insert = insert_for(session)
            await session.execute(
                insert(KeyValue)
                .values(key=TOKEN_KEY, value=value, updated_at=now)
                .on_conflict_do_nothing(index_elements=["key"])
            )

    async def _claim(self, seen: str, force: bool) -> tuple[Verdict, TokenPair]:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            row = (
                await session.execute(
                    select(KeyValue).where(KeyValue.key == TOKEN_KEY).with_for_update()
                )
            ).scalar_one_or_none()
            if row is None:
                raise TokenRefused("no OA token stored: run `antt-bot platform oa-authorize`")
            value = dict(row.value)
            pair = TokenPair.from_json(value)
            if pair.access_token != seen or (not force and not pair.due(now)):
                return "fresh", pair  # another task or instance refreshed already
            holder, until = value.get("lease_holder"), _when(value.get("lease_until"))
            if holder and holder != self._holder and until is not None and until > now:
                return "wait", pair
            value.update(lease_holder=self._holder, lease_until=(now + LEASE).isoformat())
            row.value = value  # a new dict: the JSON column sees the change
            row.updated_at = now
            return "go", pair

    async def _release(self) -> None:
        try:
            async with self._sessions() as session, session.begin():
                row = (
                    await session.execute(
                        select(KeyValue).where(KeyValue.key == TOKEN_KEY).with_for_update()
                    )
                ).scalar_one_or_none()
                if row is not None and row.value.get("lease_holder") == self._holder:
                    row.value = {
                        k: v
                        for k, v in row.value.items()
                        if k not in ("lease_holder", "lease_until")
                    }
        except (SQLAlchemyError, OSError) as exc:
            log.warning("could not release the OA token lease (it expires): %s", type(exc).__name__)

    async def _persist(self, pair: TokenPair, source: str = "refresh") -> None:
        """Store the new pair; if the database refuses, keep it in memory and try again later,
        because the old refresh token is already spent."""
        now = self._clock.now()
        value = {**pair.to_json(), "source": source, "stored_at": now.isoformat()}
        for attempt in range(3):
            try:
                async with self._sessions() as session, session.begin():
                    insert = insert_for(session)
                    stmt = insert(KeyValue).values(key=TOKEN_KEY, value=value, updated_at=now)
                    await session.execute(
                        stmt.on_conflict_do_update(
                            index_elements=["key"],
                            set_={
                                "value": stmt.excluded.value,
                                "updated_at": stmt.excluded.updated_at,
                            },
                        )
                    )
                self._unsaved = None
                return
            except (SQLAlchemyError, OSError) as exc:
                log.warning(
                    "storing the OA tokens failed (%s), attempt %d", type(exc).__name__, attempt + 1
                )
                await asyncio.sleep(0.2 * (attempt + 1))
        log.error("the new OA tokens are only in memory: the database refused them")
        self._unsaved = pair


# ---------------------------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------------------------

TOKEN_EXPIRED = {-216, -220}
RATE_LIMIT_SECONDS = 60.0
NIGHT_START, NIGHT_END = time(22, 0), time(6, 0)


class OutsideWindow(PermanentError):
    """-230: the user has not written to the OA in 7 days; Zalo refuses until they do."""


class NotFollower(PermanentError):
    """-213: the user does not follow the OA (or unfollowed it)."""


class NotInGroup(PermanentError):
    """-403: the OA is not a member of the group (removed, or never added)."""


def night_ban_until(now: datetime, tz: ZoneInfo) -> datetime:
    """When the OA may send again after -234: 06:00 local time."""
    local = now.astimezone(tz)
    if local.time() >= NIGHT_START:
        day = local.date() + timedelta(days=1)
    elif local.time() < NIGHT_END:
        day = local.date()
    else:
        # Our clock says daytime yet Zalo refused: the clocks disagree a little; try soon.
        return now + timedelta(minutes=15)
    return datetime.combine(day, NIGHT_END, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    code: int | None
    message: str
    data: dict[str, Any]


GroupLookup = Callable[[str], Awaitable[bool]]


class ZaloOAClient:
    """The OA v3 message API: one-to-one and group sends, typed errors, token refresh once."""

    name = PLATFORM

    def __init__(
        self,
        api_base: str,
        tokens: OATokenStore,
        http: aiohttp.ClientSession,
        *,
        is_group: GroupLookup,
        tz: ZoneInfo,
        clock: Clock,
        timeout: float = 15.0,
    ) -> None:
        self._base = api_base.rstrip("/")
        self._tokens = tokens
        self._http = http
        self._is_group = is_group
        self._tz = tz
        self._clock = clock
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send one chunk to a user or a group; a refused token is refreshed once, then retried."""
        group = (
            message.chat_type == "group"
            if message.chat_type
            else await self._is_group(message.chat_id)
        )
        path = GROUP_PATH if group else USER_PATH
        body = {
            "recipient": {"group_id" if group else "user_id": message.chat_id},
            "message": _content_of(message),
        }
        token = await self._tokens.access_token()
        answer = await self._post(path, body, token)
        if answer.code in TOKEN_EXPIRED:
            token = await self._tokens.refresh(token)
            answer = await self._post(path, body, token)
        return self._result(answer)

    async def _post(self, path: str, body: dict[str, Any], token: str) -> _Answer:
        try:
            async with self._http.post(
                self._base + path, json=body, headers={"access_token": token}, timeout=self._timeout
            ) as resp:
                status = resp.status
                try:
                    payload = await resp.json(content_type=None)
                except (json.JSONDecodeError, UnicodeDecodeError, aiohttp.ContentTypeError):
                    payload = None
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise _unreachable(f"OA {path}", self._base, exc) from None
        if not isinstance(payload, dict):
            return _Answer(status, None, f"HTTP {status}", {})
        data = payload.get("data")
        return _Answer(
            status,
            _int(payload.get("error")),
            str(payload.get("message") or f"HTTP {status}")[:300],
            data if isinstance(data, dict) else {},
        )

    def _result(self, a: _Answer) -> SendResult:
        code, why = a.code, a.message
        if code == 0 and a.status < 400:
            mid = a.data.get("message_id")
            return SendResult(message_ids=(str(mid),) if mid not in (None, "") else ())
        if code == -32 or a.status == 429:
            raise RetryAfter(f"OA -32 rate limited: {why}", seconds=RATE_LIMIT_SECONDS, code=-32)
        if code in TOKEN_EXPIRED:
            raise TokenRefused(f"OA {code} access token refused after a refresh: {why}", code=code)
        if code == -234:
            until = night_ban_until(self._clock.now(), self._tz)
            raise DeferUntil(f"OA -234 night ban (22:00-06:00): {why}", until=until, code=code)
        if code == -230:
            raise OutsideWindow(
                f"OA -230 outside_window: the user has not written to the OA in 7 days: {why}",
                code=code,
            )
        if code == -213:
            raise NotFollower(
                f"OA -213 not_follower: the user does not follow the OA: {why}", code=code
            )
        if code == -403:
            raise NotInGroup(f"OA -403 not_in_group: add the OA to the group: {why}", code=code)
        if a.status >= 500 or (code is None and a.status < 400):
            raise TransientError(f"OA HTTP {a.status}: {why}", code=code)
        raise PermanentError(f"OA {code if code is not None else a.status} {why}", code=code)

    async def close(self) -> None:
        """The HTTP session belongs to the app; nothing to close here."""
        await asyncio.sleep(0)


def _content_of(message: OutboundMessage) -> dict[str, Any]:
    if not message.photo_url:
        return {"text": message.text}
    content: dict[str, Any] = {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "media",
                "elements": [{"media_type": "image", "url": message.photo_url}],
            },
        }
    }
    if message.text:
        content["text"] = message.text
    return content


def group_lookup(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> GroupLookup:
    """Is this chat id a group? Configured or recorded groups are; anything else is a user.

    The outbox stores only a chat id, and OA user and group ids look alike."""
    known: dict[str, bool] = {g.chat_id: True for g in settings.groups}

    async def is_group(chat_id: str) -> bool:
        if chat_id in known:
            return known[chat_id]
        async with read_session(sessions) as session:
            kind = (
                await session.execute(select(Group.kind).where(Group.chat_id == chat_id))
            ).scalar_one_or_none()
        if kind is None:
            return False  # a member id (coordinator, nudge): a one-to-one send; not cached
        known[chat_id] = kind != "private"
        return known[chat_id]

    return is_group
