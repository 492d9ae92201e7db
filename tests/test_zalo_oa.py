"""Zalo Official Account: deliveries, signatures, tokens and sends against a real fake OA."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keys
from bot.app import create_app
from bot.cli import COMMANDS, build_parser, main
from bot.platforms.base import (
    DeferUntil,
    DeliveryError,
    OutboundMessage,
    PermanentError,
    RetryAfter,
    TransientError,
    Unauthorized,
)
from bot.platforms.zalo_oa import (
    NotFollower,
    NotInGroup,
    OATokenStore,
    OutsideWindow,
    TokenPair,
    TokenRefused,
    ZaloOAClient,
    group_lookup,
    night_ban_until,
    parse_delivery,
    parse_timestamp,
    signature_ok,
)
from handlers.clock import FixedClock
from handlers.config import ConfigError, Settings
from models.db import ensure_schema, make_engine, make_sessionmaker
from models.roster import import_roster_csv
from models.tables import Group, InboundEvent, KeyValue, Member, Membership, Message, Outbox
from tests.conftest import T0, Bot, sample
from tests.fake_zalo_oa import APP_ID, APP_SECRET, FakeOA

OA_ID = "388613280878808645"
OA_SECRET = "oa-secret-key-for-tests"
GROUP = "9007199254740993123"  # above 2^53: a float would make it ...993000
MEMBER = "9246845883529197922"
TZ_OFFSET = timedelta(hours=7)


# --------------------------------------------------------------------------------- helpers


def mac(raw: bytes, first: str = APP_ID, secret: str = OA_SECRET) -> str:
    """The signature computed here, independently of the code under test."""
    ts = str(json.loads(raw).get("timestamp", ""))
    return hashlib.sha256(first.encode() + raw + ts.encode() + secret.encode()).hexdigest()


def group_text(
    text: str,
    *,
    msg_id: str,
    sender: str = MEMBER,
    group: str = GROUP,
    at: datetime = T0,
    quote: str | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"text": text, "msg_id": msg_id}
    if quote:
        message["quote_msg_id"] = quote
    return {
        "app_id": APP_ID,
        "sender": {"id": sender},
        "recipient": {"id": group},
        "event_name": "user_send_group_text",
        "message": message,
        "timestamp": str(int(at.timestamp() * 1000)),
    }


def user_text(
    text: str,
    *,
    msg_id: str,
    sender: str = MEMBER,
    at: datetime = T0,
    event: str = "user_send_text",
) -> dict[str, Any]:
    return {
        "app_id": APP_ID,
        "sender": {"id": sender},
        "recipient": {"id": OA_ID},
        "event_name": event,
        "message": {"text": text, "msg_id": msg_id},
        "timestamp": str(int(at.timestamp() * 1000)),
    }


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


async def post(
    bot: Bot, raw: bytes, signature: str | None = "auto", method: str = "POST"
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if signature == "auto":
        signature = f"mac={mac(raw)}" if raw.strip() else "mac=0"
    if signature is not None:
        headers["X-ZEvent-Signature"] = signature
    async with bot.http.request(method, "/webhook/zalo-oa", data=raw, headers=headers) as resp:
        try:
            return resp.status, await resp.json(content_type=None)
        except ValueError:
            return resp.status, await resp.text()


async def count(sessions: Any, model: Any, *where: Any) -> int:
    async with sessions() as s:
        stmt = select(func.count()).select_from(model).where(*where)
        return int((await s.execute(stmt)).scalar_one())


def parse_one(body: dict[str, Any] | bytes) -> Any:
    raw = body if isinstance(body, bytes) else encode(body)
    events = parse_delivery(raw, T0, oa_id=OA_ID)
    assert len(events) == 1
    return events[0]


# -------------------------------------------------------------------------------- fixtures


@pytest.fixture
async def oa() -> AsyncIterator[FakeOA]:
    fake = await FakeOA().start()
    yield fake
    await fake.close()


def oa_platform(oa: FakeOA, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "zalo_oa",
        "oa_api_base": oa.base,
        "oauth_base": oa.base,
        "app_id": APP_ID,
        "oa_id": OA_ID,
        "oa_secret_key": OA_SECRET,
        "app_secret": APP_SECRET,
        "access_token": "A1",
        "refresh_token": "R1",
        **extra,
    }


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str, oa: FakeOA) -> Bot:
    settings = make_settings(
        db=db_url,
        platform=oa_platform(oa),
        groups=[{"chat_id": GROUP, "name": "Hội đồng ANTT", "kind": "council"}],
    )
    bot: Bot = await make_bot(settings)
    # The member is on the roster (a guest would also get a one-time welcome message).
    async with bot.sessions() as session, session.begin():
        await import_roster_csv(
            session, f"member_id,name,groups\n{MEMBER},Trần Văn An,{GROUP}\n", T0
        )
    return bot


class Env:
    """A token store and client over a migrated database, without the app."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        http: aiohttp.ClientSession,
        clock: FixedClock,
    ) -> None:
        self.sessions, self.settings, self.http, self.clock = sessions, settings, http, clock

    def store(self) -> OATokenStore:
        return OATokenStore(self.sessions, self.settings.platform, self.http, self.clock)

    def client(self, store: OATokenStore | None = None) -> ZaloOAClient:
        return ZaloOAClient(
            self.settings.platform.oa_api_base,
            store or self.store(),
            self.http,
            is_group=group_lookup(self.sessions, self.settings),
            tz=self.settings.tz,
            clock=self.clock,
        )

    async def stored(self) -> dict[str, Any]:
        async with self.sessions() as s:
            row = await s.get(KeyValue, "zalo_oa.tokens")
            assert row is not None
            return dict(row.value)


@pytest.fixture
async def env(make_settings: Any, db_url: str, oa: FakeOA) -> AsyncIterator[Env]:
    settings = make_settings(
        db=db_url,
        platform=oa_platform(oa),
        groups=[{"chat_id": GROUP, "name": "Hội đồng", "kind": "council"}],
    )
    engine = make_engine(db_url)
    await ensure_schema(engine)
    try:
        async with aiohttp.ClientSession() as http:
            yield Env(make_sessionmaker(engine), settings, http, FixedClock(T0))
    finally:
        await engine.dispose()


# ------------------------------------------------------------------ parsing (pure functions)


def test_one_to_one_text_sample_is_a_private_chat_named_after_the_user() -> None:
    ev = parse_one(sample("oa_user_send_text"))
    assert (ev.platform, ev.chat_type, ev.kind) == ("zalo_oa", "private", "text")
    assert ev.chat_id == ev.sender_id == "246845883529197922"
    assert ev.text == "message" and ev.message_id == "96d3cdf3af150460909"
    assert not ev.sender_is_bot
    # The sample's 12-digit timestamp is not a plausible time: the receive time stands in.
    assert ev.sent_at == T0


def test_group_text_sample_recipient_is_the_group_sender_the_member() -> None:
    ev = parse_one(sample("oa_user_send_group_text"))
    assert (ev.chat_type, ev.chat_id, ev.sender_id) == ("group", GROUP, MEMBER)
    assert ev.event_key == "user_send_group_text:grp0000000000000001"
    assert ev.sent_at == datetime.fromtimestamp(1789033572.455, tz=UTC)


def test_ids_beyond_2_53_sent_as_json_numbers_keep_every_digit() -> None:
    raw = (
        b'{"app_id": 360846524940903967, "sender": {"id": 9246845883529197922},'
        b' "recipient": {"id": 9007199254740993123}, "event_name": "user_send_group_text",'
        b' "message": {"text": "hi", "msg_id": 123456789012345678901234},'
        b' "timestamp": 1795744800000}'
    )
    ev = parse_one(raw)
    assert ev.chat_id == "9007199254740993123"
    assert ev.sender_id == "9246845883529197922"
    assert ev.message_id == "123456789012345678901234"
    assert ev.sent_at == datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("att", "kind", "media"),
    [
        (
            {"type": "image", "payload": {"url": "https://x.invalid/a.jpg", "thumbnail": "t"}},
            "image",
            "https://x.invalid/a.jpg",
        ),
        (
            {"type": "file", "payload": {"url": "https://x.invalid/r.pdf", "name": "r.pdf"}},
            "file",
            "https://x.invalid/r.pdf",
        ),
        (
            {
                "type": "location",
                "payload": {"coordinates": {"latitude": "10.8", "longitude": "106.7"}},
            },
            "location",
            "geo:10.8,106.7",
        ),
        (
            {"type": "sticker", "payload": {"id": "s1", "url": "https://x.invalid/s.png"}},
            "sticker",
            "https://x.invalid/s.png",
        ),
        (
            {"type": "gif", "payload": {"url": "https://x.invalid/g.gif"}},
            "image",
            "https://x.invalid/g.gif",
        ),
    ],
)
@pytest.mark.parametrize("group", [False, True])
def test_attachments_become_kind_and_media_url(
    att: dict[str, Any], kind: str, media: str, group: bool
) -> None:
    name = f"user_send_{'group_' if group else ''}{att['type']}"
    body = {
        "app_id": APP_ID,
        "sender": {"id": MEMBER},
        "recipient": {"id": GROUP},
        "event_name": name,
        "message": {"msg_id": "m1", "attachments": [att]},
        "timestamp": "1795744800000",
    }
    ev = parse_one(body)
    assert (ev.kind, ev.media_url) == (kind, media)
    assert ev.chat_type == ("group" if group else "private")


def test_image_sample_and_quote() -> None:
    ev = parse_one(sample("oa_user_send_image"))
    assert (ev.kind, ev.media_url, ev.chat_id) == (
        "image",
        "https://example.invalid/a.jpg",
        "user_id_123456",
    )
    quoted = parse_one(group_text("đã nhận", msg_id="m2", quote="botmsg00000000000001"))
    assert quoted.quote_message_id == "botmsg00000000000001"


@pytest.mark.parametrize(
    ("body", "expect"),
    [
        (
            user_text("hi", msg_id="e1", sender=OA_ID, event="oa_send_text")
            | {"recipient": {"id": MEMBER}},
            {"kind": "text", "chat_id": MEMBER, "sender_is_bot": True, "chat_type": "private"},
        ),
        (
            {
                "app_id": APP_ID,
                "event_name": "oa_send_group_text",
                "sender": {"id": OA_ID},
                "recipient": {"id": GROUP},
                "message": {"msg_id": "e2", "text": "x"},
                "timestamp": "1795744800000",
            },
            {"kind": "text", "chat_id": GROUP, "sender_is_bot": True, "chat_type": "group"},
        ),
        (
            {
                "app_id": APP_ID,
                "event_name": "user_seen_message",
                "sender": {"id": OA_ID},
                "recipient": {"id": MEMBER},
                "message": {"msg_ids": ["a", "b"]},
                "timestamp": "1795744800000",
            },
            {"kind": "receipt", "chat_id": MEMBER, "sender_id": MEMBER, "sender_is_bot": False},
        ),
        (
            {
                "app_id": APP_ID,
                "event_name": "user_received_message",
                "sender": {"id": MEMBER},
                "recipient": {"id": OA_ID},
                "message": {"msg_ids": ["a"]},
                "timestamp": "1795744800000",
            },
            {"kind": "receipt", "chat_id": MEMBER, "sender_id": MEMBER},
        ),
        (
            sample("oa_follow"),
            {"kind": "follow", "chat_id": "24684588352919792", "sender_id": "24684588352919792"},
        ),
        (sample("oa_follow") | {"event_name": "unfollow"}, {"kind": "unfollow"}),
        (
            {
                "app_id": APP_ID,
                "event_name": "user_join_group",
                "sender": {"id": MEMBER},
                "recipient": {"id": GROUP},
                "timestamp": "1795744800000",
            },
            {"kind": "join", "chat_id": GROUP, "sender_id": MEMBER, "chat_type": "group"},
        ),
        (
            {
                "app_id": APP_ID,
                "event_name": "user_leave_group",
                "user": {"id": MEMBER},
                "group_id": GROUP,
                "timestamp": "1795744800000",
            },
            {"kind": "leave", "chat_id": GROUP, "sender_id": MEMBER, "chat_type": "group"},
        ),
        (
            {
                "app_id": APP_ID,
                "event_name": "shop_has_order",
                "sender": {"id": MEMBER},
                "recipient": {"id": OA_ID},
                "timestamp": "1795744800000",
            },
            {"kind": "other", "chat_id": MEMBER},
        ),
    ],
)
def test_event_mapping(body: dict[str, Any], expect: dict[str, Any]) -> None:
    ev = parse_one(body)
    for key, value in expect.items():
        assert getattr(ev, key) == value, key
    again = parse_one(body)
    assert again.event_key == ev.event_key  # a redelivery dedupes even without msg_id


def test_timestamps_are_milliseconds_and_garbage_falls_back() -> None:
    assert parse_timestamp("1795744800000", T0 + timedelta(days=9)) == T0
    assert parse_timestamp("1795744800", T0) == T0  # seconds tolerated
    for bad in ("", "abc", "154397978274", "99999999999999999999999", "1e400"):
        assert parse_timestamp(bad, T0) == T0, bad


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        b'"text"',
        b"{}",
        b'{"event_name": ""}',
        b'{"event_name": "user_send_text", "sender": {"id": "u"}}',
        b'{"event_name": "user_send_text", "sender": {"id": true}, "recipient": {"id": "o"}}',
        b'{"event_name": "user_send_text", "sender": {"id": "'
        + b"x" * 200
        + b'"}, "recipient": {}}',
        b'{"event_name": 5}',
        b"\xff\xfe\x00",
        b"[" * 100000,
        b'{"event_name": "x", "sender": 1}',
        b'{"event_name": "user_send_text", "sender": {"id": 1' + b"0" * 5000 + b"}}",
    ],
)
def test_bad_bodies_are_delivery_errors(raw: bytes) -> None:
    with pytest.raises(DeliveryError):
        parse_delivery(raw, T0)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "event_name",
                    "sender",
                    "recipient",
                    "id",
                    "message",
                    "msg_id",
                    "attachments",
                    "type",
                    "payload",
                    "url",
                    "timestamp",
                    "text",
                    "follower",
                    "group_id",
                    "quote_msg_id",
                    "msg_ids",
                    "coordinates",
                ]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.dictionaries(
        st.sampled_from(
            [
                "event_name",
                "sender",
                "recipient",
                "message",
                "timestamp",
                "follower",
                "user",
                "group_id",
            ]
        ),
        _json,
        max_size=6,
    ),
    name=st.sampled_from(
        [
            "user_send_text",
            "user_send_group_image",
            "oa_send_text",
            "follow",
            "user_seen_message",
            "user_join_group",
            "other",
        ]
    ),
)
def test_any_json_is_an_event_or_a_delivery_error(body: dict[str, Any], name: str) -> None:
    body.setdefault("event_name", name)
    try:
        events = parse_delivery(json.dumps(body).encode(), T0)
    except DeliveryError:
        return
    assert events[0].platform == "zalo_oa"
    json.dumps(events[0].raw)


# ------------------------------------------------------------------------------ signatures


def test_signature_known_vector() -> None:
    raw = b'{"event_name":"user_send_text","timestamp":"1795744800000"}'
    # sha256("app" + raw + "1795744800000" + "key"), computed once with sha256sum.
    computed = "e353e72438616e8d19ca29cc7a36e90e3cfe7700ed05f19c8b2023bfa6852895"
    assert signature_ok(f"mac={computed}", "app", raw, "1795744800000", "key")
    assert signature_ok(computed.upper(), "app", raw, "1795744800000", "key")
    assert not signature_ok(computed, "app", raw + b" ", "1795744800000", "key")
    assert not signature_ok(computed, "", raw, "1795744800000", "key")
    assert not signature_ok(computed, "app", raw, "1795744800000", "")
    assert not signature_ok("mac=\udcff\u00e9", "app", raw, "1795744800000", "key")


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("mac={good}", 200),
        ("{good}", 200),
        ("MAC={good}", 200),
        ("mac={bad}", 401),
        ("mac=", 401),
        ("garbage", 401),
        (None, 401),
        ("mac={oa_first}", 401),  # the OA id as first term when app_id is configured
        ("mac={app_secret}", 401),  # the app secret when oa_secret_key is configured
    ],
)
async def test_signature_answers_and_nothing_stored_when_wrong(
    bot: Bot, header: str | None, status: int
) -> None:
    raw = encode(group_text("chào cả nhà", msg_id="s1"))
    values = {
        "good": mac(raw),
        "bad": mac(raw, secret="nope"),
        "oa_first": mac(raw, OA_ID),
        "app_secret": mac(raw, secret=APP_SECRET),
    }
    got, body = await post(bot, raw, header.format(**values) if header else None)
    assert got == status, body
    assert await count(bot.sessions, InboundEvent) == (1 if status == 200 else 0)


@pytest.mark.parametrize(
    ("first_term", "secret_key"),
    [("oa_id", "oa_secret_key"), ("app_id", "app_secret"), ("oa_id", "app_secret")],
)
async def test_signature_terms_are_configurable(
    make_bot: Any, make_settings: Any, oa: FakeOA, first_term: str, secret_key: str
) -> None:
    settings = make_settings(
        platform=oa_platform(oa, signature_first_term=first_term, signature_secret=secret_key)
    )
    bot = await make_bot(settings)
    raw = encode(user_text("xin chào", msg_id="c1"))
    first = OA_ID if first_term == "oa_id" else APP_ID
    secret = OA_SECRET if secret_key == "oa_secret_key" else APP_SECRET
    assert (await post(bot, raw, f"mac={mac(raw)}"))[0] == (
        200 if (first, secret) == (APP_ID, OA_SECRET) else 401
    )
    assert (await post(bot, raw, f"mac={mac(raw, first, secret)}"))[0] == 200


async def test_numeric_timestamp_is_signed_as_its_digits(bot: Bot) -> None:
    body = group_text("x", msg_id="n1")
    body["timestamp"] = int(body["timestamp"])
    raw = encode(body)
    assert (await post(bot, raw))[0] == 200


# ---------------------------------------------------------------- the webhook end to end


async def test_http_answers_like_the_bot_webhook(bot: Bot) -> None:
    assert (await post(bot, b"", signature="mac=00"))[0] == 200
    assert (await post(bot, b"not json", signature="mac=00"))[0] == 400
    raw = encode({"event_name": "user_send_text", "timestamp": "1"})
    assert (await post(bot, raw))[0] == 400  # signed, but not an event
    huge = encode(group_text("x" * 70_000, msg_id="big"))
    assert (await post(bot, huge))[0] == 413
    assert (await post(bot, b"{}", signature="mac=00", method="GET"))[0] == 405
    assert (await post(bot, b"{}", signature="mac=00", method="PUT"))[0] == 405
    assert await count(bot.sessions, InboundEvent) == 0


async def test_storage_down_is_503_then_redelivery_is_stored(bot: Bot) -> None:
    raw = encode(group_text("a", msg_id="d1"))
    await bot.app[keys.INBOX].stop()
    assert (await post(bot, raw))[0] == 503
    bot.app[keys.INBOX].start()
    assert await post(bot, raw) == (200, {"ok": True})
    assert await post(bot, raw) == (200, {"ok": True, "duplicate": True})


async def test_group_chatter_counts_as_activity_and_the_bot_stays_silent(bot: Bot) -> None:
    raw = encode(group_text("Sáng nay trời mưa to quá mọi người ạ", msg_id="chat1"))
    assert await post(bot, raw) == (200, {"ok": True})
    await bot.drain()
    async with bot.sessions() as s:
        msg = (await s.execute(select(Message))).scalar_one()
        member = (await s.execute(select(Member))).scalar_one()
        group = (await s.execute(select(Group).where(Group.chat_id == GROUP))).scalar_one()
        ms = (await s.execute(select(Membership))).scalar_one()
    assert (msg.platform, msg.chat_type, msg.chat_id, msg.member_id) == (
        "zalo_oa",
        "group",
        GROUP,
        MEMBER,
    )
    assert group.name == "Hội đồng ANTT" and ms.group_pk == group.id
    assert member.last_active_at == T0 and ms.last_active_at == T0
    assert await count(bot.sessions, Outbox) == 0


async def test_group_incident_is_stored_with_its_parse(bot: Bot) -> None:
    text = "Phát hiện 2 thanh niên lạ mặt đang trèo rào ở lô B3, nghi trộm"
    assert (await post(bot, encode(group_text(text, msg_id="inc1"))))[0] == 200
    await bot.drain()
    async with bot.sessions() as s:
        msg = (await s.execute(select(Message))).scalar_one()
    assert msg.text == text and msg.parse is not None
    pytest.importorskip("handlers.parse", reason="the Vietnamese parser has not landed yet")
    assert msg.type == "incident"


async def test_private_and_group_replies_go_to_their_endpoints(bot: Bot, oa: FakeOA) -> None:
    assert (await post(bot, encode(user_text("/huongdan", msg_id="p1"))))[0] == 200
    assert (await post(bot, encode(group_text("/huongdan", msg_id="g1"))))[0] == 200
    await bot.drain()
    private, group = oa.sent(), oa.sent("/v3.0/oa/group/message")
    assert len(private) == 1 and len(group) == 1
    assert private[0]["recipient"] == {"user_id": MEMBER}
    assert group[0]["recipient"] == {"group_id": GROUP}
    assert private[0]["message"]["text"]
    assert all(c.headers["access_token"] == "A1" for c in oa.calls)
    async with bot.sessions() as s:
        rows = list((await s.execute(select(Outbox))).scalars())
    assert {r.status for r in rows} == {"sent"}
    assert all(len(r.platform_message_ids or []) == 1 for r in rows)


async def test_echoes_receipts_and_lifecycle_are_stored_and_never_answered(
    bot: Bot, oa: FakeOA
) -> None:
    bodies = [
        user_text("tin của OA", msg_id="e1", sender=OA_ID, event="oa_send_text")
        | {"recipient": {"id": MEMBER}},
        {
            "app_id": APP_ID,
            "event_name": "user_seen_message",
            "sender": {"id": MEMBER},
            "recipient": {"id": OA_ID},
            "message": {"msg_ids": ["e1"]},
            "timestamp": "1795744800000",
        },
        sample("oa_follow"),
        {
            "app_id": APP_ID,
            "event_name": "user_join_group",
            "sender": {"id": MEMBER},
            "recipient": {"id": GROUP},
            "timestamp": "1795744800000",
        },
    ]
    for body in bodies:
        assert (await post(bot, encode(body)))[0] == 200
    await bot.drain()
    async with bot.sessions() as s:
        rows = await s.execute(select(InboundEvent.event_name, InboundEvent.status))
        statuses = dict(rows.all())
    assert statuses == {
        "oa_send_text": "ignored",
        "user_seen_message": "done",
        "follow": "done",
        "user_join_group": "done",
    }
    assert await count(bot.sessions, Outbox) == 0 and oa.calls == []


async def test_big_ids_survive_http_and_storage(bot: Bot) -> None:
    raw = (
        b'{"app_id": "' + APP_ID.encode() + b'", "sender": {"id": 9246845883529197922},'
        b' "recipient": {"id": 9007199254740993123}, "event_name": "user_send_group_text",'
        b' "message": {"text": "ok", "msg_id": "big1"}, "timestamp": "1795744800000"}'
    )
    assert (await post(bot, raw))[0] == 200
    await bot.drain()
    async with bot.sessions() as s:
        msg = (await s.execute(select(Message))).scalar_one()
    assert (msg.chat_id, msg.member_id) == (GROUP, MEMBER)


# ------------------------------------------------------------------------------------ tokens


async def test_tokens_are_seeded_from_config_only_when_the_database_has_none(env: Env) -> None:
    assert await env.store().access_token() == "A1"
    assert (await env.stored())["source"] == "config"
    other = env.settings.model_copy(
        update={
            "platform": env.settings.platform.model_copy(
                update={"access_token": SecretStr("CONFIG2")}
            )
        }
    )
    store = OATokenStore(env.sessions, other.platform, env.http, env.clock)
    assert await store.access_token() == "A1"  # the database's pair wins


async def test_no_token_anywhere_asks_for_authorization(env: Env) -> None:
    platform = env.settings.platform.model_copy(
        update={"access_token": SecretStr(""), "refresh_token": SecretStr("")}
    )
    store = OATokenStore(env.sessions, platform, env.http, env.clock)
    with pytest.raises(TokenRefused, match="oa-authorize"):
        await store.access_token()


@pytest.mark.parametrize("instances", [1, 2])
async def test_refresh_race_spends_the_refresh_token_once(
    env: Env, oa: FakeOA, instances: int
) -> None:
    oa.refresh_delay = 0.2
    stores = [env.store() for _ in range(instances)]
    await stores[0].refresh("A1")  # a first refresh records an expiry ...
    env.clock.advance(timedelta(hours=25))  # ... which has now passed
    before = oa.refresh_calls
    tokens = await asyncio.gather(*(stores[i % instances].access_token() for i in range(6)))
    assert oa.refresh_calls - before == 1
    assert len(set(tokens)) == 1 and tokens[0] in oa.access_tokens
    assert all("error" not in c for c in oa.token_calls)
    stored = await env.stored()
    assert stored["refresh_token"] in oa.refresh_tokens and "lease_holder" not in stored


async def test_new_refresh_token_is_persisted_and_used_next_time(env: Env, oa: FakeOA) -> None:
    store = env.store()
    await store.refresh("A1")
    stored = await env.stored()
    assert (stored["access_token"], stored["refresh_token"]) == ("A2", "R2")
    assert datetime.fromisoformat(stored["expires_at"]) == T0 + timedelta(seconds=90000)
    # A fresh process (new store) refreshes with R2, the token R1 was spent.
    env.clock.advance(timedelta(hours=25))
    assert await env.store().access_token() == "A3"
    assert [c["refresh_token"] for c in oa.token_calls] == ["R1", "R2"]
    assert (await env.stored())["refresh_token"] == "R3"


async def test_refused_refresh_token_says_authorize_and_frees_the_lease(
    env: Env, oa: FakeOA
) -> None:
    oa.refresh_tokens.clear()
    with pytest.raises(TokenRefused, match="oa-authorize"):
        await env.store().refresh("A1")
    assert "lease_holder" not in await env.stored()
    oa.refresh_tokens.add("R1")
    assert await env.store().refresh("A1") == "A2"  # another instance is not kept waiting


async def test_serving_refreshes_ahead_of_expiry_without_any_send(
    make_settings: Any, db_url: str, env: Env, oa: FakeOA
) -> None:
    await env.store().save(TokenPair("A1", "R1", T0 + timedelta(minutes=5)), source="test")
    app = create_app(env.settings, clock=env.clock, workers=True)
    async with TestServer(app, port=0):
        for _ in range(200):  # the keep-alive runs in the background: wait for its write
            if (await env.stored())["access_token"] == "A2":
                break
            await asyncio.sleep(0.02)
    assert oa.refresh_calls == 1 and (await env.stored())["refresh_token"] == "R2"


async def test_missing_signature_secret_or_polling_fails_at_start(
    make_settings: Any, oa: FakeOA
) -> None:
    with pytest.raises(ConfigError, match="oa_secret_key"):
        create_app(make_settings(platform=oa_platform(oa, oa_secret_key="")))
    with pytest.raises(ConfigError, match="app_secret"):
        create_app(
            make_settings(platform=oa_platform(oa, app_secret="", signature_secret="app_secret"))
        )
    with pytest.raises(ConfigError, match="webhook only"):
        create_app(make_settings(platform=oa_platform(oa, mode="polling")))


# ------------------------------------------------------------------------- sends and errors


async def test_expired_token_is_refreshed_once_and_the_send_retried(env: Env, oa: FakeOA) -> None:
    oa.expire_access()
    result = await env.client().send(OutboundMessage(chat_id=MEMBER, text="chào"))
    assert result.message_ids and oa.refresh_calls == 1
    assert [c.headers["access_token"] for c in oa.calls] == ["A1", "A2"]


async def test_minus_220_also_refreshes(env: Env, oa: FakeOA) -> None:
    oa.script.append((200, {"error": -220, "message": "Access token has expired"}))
    await env.client().send(OutboundMessage(chat_id=GROUP, text="chào"))
    assert oa.refresh_calls == 1 and len(oa.sent("/v3.0/oa/group/message")) == 2


async def test_token_refused_after_refresh_is_unauthorized_without_a_loop(
    env: Env, oa: FakeOA
) -> None:
    oa.expire_access()
    oa.script.append((200, {"error": -216, "message": "Access token is invalid"}))
    with pytest.raises(Unauthorized):
        await env.client().send(OutboundMessage(chat_id=MEMBER, text="chào"))
    assert oa.refresh_calls == 1 and len(oa.calls) == 2


@pytest.mark.parametrize(
    ("status", "answer", "error"),
    [
        (200, {"error": -32, "message": "Exceeded rate limit"}, RetryAfter),
        (429, {"error": -32, "message": "Exceeded rate limit"}, RetryAfter),
        (200, {"error": -230, "message": "User has not interacted in 7 days"}, OutsideWindow),
        (200, {"error": -213, "message": "User has not followed OA"}, NotFollower),
        (200, {"error": -403, "message": "OA is not in group"}, NotInGroup),
        (200, {"error": -201, "message": "Parameters invalid"}, PermanentError),
        (500, {"error": -1, "message": "internal"}, TransientError),
        (502, "<html>bad gateway</html>", TransientError),
    ],
)
async def test_error_codes_map_to_typed_errors(
    env: Env, oa: FakeOA, status: int, answer: Any, error: type[Exception]
) -> None:
    oa.script.append((status, answer))
    with pytest.raises(error) as info:
        await env.client().send(OutboundMessage(chat_id=MEMBER, text="chào"))
    if isinstance(info.value, RetryAfter):
        assert info.value.seconds == 60
    if isinstance(info.value, PermanentError):
        assert not info.value.retryable


@pytest.mark.parametrize(
    ("local", "expect_local"),
    [
        ("2026-11-27T23:30", "2026-11-28T06:00"),
        ("2026-11-28T02:00", "2026-11-28T06:00"),
        ("2026-11-28T22:00", "2026-11-29T06:00"),
    ],
)
async def test_night_ban_defers_until_six_local(
    env: Env, oa: FakeOA, local: str, expect_local: str
) -> None:
    env.clock.set(datetime.fromisoformat(local).replace(tzinfo=env.settings.tz))
    oa.script.append((200, {"error": -234, "message": "Cannot send at night"}))
    with pytest.raises(DeferUntil) as info:
        await env.client().send(OutboundMessage(chat_id=MEMBER, text="chào"))
    assert info.value.until == datetime.fromisoformat(expect_local).replace(tzinfo=env.settings.tz)


def test_night_ban_when_the_clocks_disagree_retries_soon() -> None:
    from zoneinfo import ZoneInfo

    noon = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)  # 12:00 in Hanoi
    assert night_ban_until(noon, ZoneInfo("Asia/Ho_Chi_Minh")) == noon + timedelta(minutes=15)


async def test_network_error_is_transient(env: Env, oa: FakeOA) -> None:
    await oa.close()
    with pytest.raises(TransientError):
        await env.client().send(OutboundMessage(chat_id=MEMBER, text="chào"))


async def test_an_oa_out_of_reach_is_said_in_plain_words(bot: Bot, oa: FakeOA) -> None:
    """The OA's server down (or a firewall): the outbox row and the log said "network error
    (ClientConnectorError)"; now which host could not be reached, and why."""
    address = oa.base.removeprefix("http://")
    await oa.close()
    assert (await post(bot, encode(user_text("/huongdan", msg_id="u1"))))[0] == 200
    await bot.drain()
    async with bot.sessions() as s:
        row = (await s.execute(select(Outbox))).scalars().one()
    why = row.last_error or ""
    assert row.status == "pending" and f"cannot reach {address}: connection refused" in why, why
    assert "Error" not in why, why


async def test_photo_goes_as_a_media_template(env: Env, oa: FakeOA) -> None:
    await env.client().send(
        OutboundMessage(
            chat_id=GROUP, text="Biểu đồ tuần", photo_url="https://antt.invalid/a/x.png"
        )
    )
    message = oa.sent("/v3.0/oa/group/message")[0]["message"]
    assert message["text"] == "Biểu đồ tuần"
    assert message["attachment"]["payload"]["elements"][0]["url"] == "https://antt.invalid/a/x.png"


async def test_sender_defers_night_ban_and_records_the_7_day_window(bot: Bot, oa: FakeOA) -> None:
    assert (await post(bot, encode(user_text("/huongdan", msg_id="w1"))))[0] == 200
    assert (await post(bot, encode(group_text("/huongdan", msg_id="w2"))))[0] == 200
    oa.script_for[MEMBER] = [(200, {"error": -230, "message": "no interaction"})]
    oa.script_for[GROUP] = [(200, {"error": -234, "message": "night"})]
    await bot.drain()
    async with bot.sessions() as s:
        rows = {r.chat_id: r for r in (await s.execute(select(Outbox))).scalars()}
    private, group = rows[MEMBER], rows[GROUP]
    assert private.status == "failed" and "-230 outside_window" in (private.last_error or "")
    assert group.status == "pending" and "-234" in (group.last_error or "")
    # T0 is 09:00 in Hanoi; the ban answer while our clock says daytime: retried in 15 min.
    assert group.next_attempt_at == T0 + timedelta(minutes=15)


# ------------------------------------------------------------------------------------- CLI


def _config(tmp_path: Path, oa: FakeOA, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The OA's settings in a file, its secrets in the environment (a file may not hold them)."""
    platform = oa_platform(oa, access_token="", refresh_token="")
    for key in ("oa_secret_key", "app_secret"):
        monkeypatch.setenv(f"ANTT_PLATFORM__{key.upper()}", platform.pop(key))
    cfg = tmp_path / "oa.yaml"
    cfg.write_text(
        json.dumps({"database": {"url": db_url}, "platform": platform}), encoding="utf-8"
    )
    return cfg


def test_oa_authorize_prints_the_permission_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(json.dumps({"platform": {"kind": "zalo_oa", "app_id": APP_ID}}))
    code = main(
        [
            "platform",
            "oa-authorize",
            "-c",
            str(cfg),
            "--redirect-uri",
            "https://antt.example.vn/oa/callback?x=1",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out.strip()
    assert out == (
        "https://oauth.zaloapp.com/v4/oa/permission?app_id=360846524940903967"
        "&redirect_uri=https%3A%2F%2Fantt.example.vn%2Foa%2Fcallback%3Fx%3D1"
    )
    assert main(["platform", "oa-authorize", "-c", str(cfg)]) == 2  # no redirect URI


async def test_oa_authorize_exchanges_the_code_and_stores_the_pair(
    tmp_path: Path,
    oa: FakeOA,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    oa.codes.add("CODE1")
    cfg = _config(tmp_path, oa, db_url, monkeypatch)
    run: Callable[..., Any] = COMMANDS["platform oa-authorize"]
    bad = build_parser().parse_args(["platform", "oa-authorize", "-c", str(cfg), "--code", "x"])
    assert await run(bad) == 1
    args = build_parser().parse_args(
        ["platform", "oa-authorize", "-c", str(cfg), "--code", "CODE1"]
    )
    assert await run(args) == 0
    assert "stored" in capsys.readouterr().out
    assert oa.token_calls[-1]["grant_type"] == "authorization_code"
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as s:
            row = await s.get(KeyValue, "zalo_oa.tokens")
    finally:
        await engine.dispose()
    assert row is not None and row.value["source"] == "authorize"
    assert row.value["access_token"] in oa.access_tokens
    assert row.value["refresh_token"] in oa.refresh_tokens


async def test_oa_authorize_with_zalo_out_of_reach_names_the_host_and_the_key(
    tmp_path: Path,
    oa: FakeOA,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Was "Zalo refused the code: OA token endpoint: network error (ClientConnectorError)"."""
    cfg = _config(tmp_path, oa, db_url, monkeypatch)
    address = oa.base.removeprefix("http://")
    await oa.close()
    argv = ["platform", "oa-authorize", "-c", str(cfg), "--code", "CODE1"]
    assert await asyncio.to_thread(main, argv) == 1
    said = capsys.readouterr().err.strip()
    assert said.startswith("antt-bot: OA token endpoint: "), said
    assert f"cannot reach {address}: connection refused; check this machine's network" in said
    assert "platform.oauth_base" in said and "refused the code" not in said, said
    assert "Error" not in said and APP_SECRET not in said, said


# ------------------------------------------------------------------------- no write lock


async def test_a_send_reads_its_token_and_the_groups_while_another_process_writes(
    make_settings: Any, tmp_path: Path, oa: FakeOA
) -> None:
    """A roster import in another process holds SQLite's write lock: the OA client still
    reads its token and whether a recorded chat is a group, and the directive goes out.
    Both reads took the write lock: the send waited for it, then failed "database is locked"."""
    db = tmp_path / "antt.db"
    url = f"sqlite+aiosqlite:///{db}?timeout=1"
    settings = make_settings(db=url, platform=oa_platform(oa))  # the group is not configured
    engine = make_engine(url)
    await ensure_schema(engine)
    sessions = make_sessionmaker(engine)
    async with sessions() as s, s.begin():
        s.add(Group(chat_id=GROUP, name="Hội đồng KCN Tân Bình", kind="council", created_at=T0))
    other = sqlite3.connect(db, isolation_level=None, timeout=0)
    try:
        async with aiohttp.ClientSession() as http:
            env = Env(sessions, settings, http, FixedClock(T0))
            store = env.store()
            await store.current()  # the pair from the config, stored once
            other.execute("BEGIN IMMEDIATE")
            await env.client(store).send(
                OutboundMessage(chat_id=GROUP, text="Đề nghị các đồng chí tăng cường tuần tra.")
            )
    finally:
        other.close()
        await engine.dispose()
    sent = oa.sent("/v3.0/oa/group/message")
    assert [m["recipient"] for m in sent] == [{"group_id": GROUP}]
