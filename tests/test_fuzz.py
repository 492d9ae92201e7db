"""Fuzzing the real webhook route: whatever arrives, the answer is 200, 400, 401 or 413,
never a 500 or a hang, and nothing is stored for what was refused."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from models.tables import InboundEvent
from tests.conftest import SECRET, Bot, text_event

LIMIT = 8 * 1024
ALLOWED = {200, 400, 401, 413}
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

ODD = [
    "\u200b",
    "\u200c",
    "\u200d",
    "\ufeff",
    "\u202e",
    "\u2066",
    "\u0301",
    "\u00a0",
    "😀",
    "👨‍👩‍👧",
    "🇻🇳",
    "\U0010ffff",
    "\x00",
    "\n",
    "\t",
    "\\",
    '"',
    "\ud800",
    "\udfff",
    "\u05e9\u05dc\u05d5\u05dd",
    "\u0645\u0631\u062d\u0628\u0627",
]


def odd_text() -> st.SearchStrategy[str]:
    """Vietnamese in NFC and NFD, zero-width and RTL marks, emoji, lone surrogates, controls."""
    viet = st.sampled_from(["có mặt", "cháy kho B", "đã nhận", "/huongdan", "#baocao"])
    return st.one_of(
        st.text(max_size=200),
        viet.map(lambda s: unicodedata.normalize("NFD", s)),
        st.lists(st.one_of(st.sampled_from(ODD), viet, st.text(max_size=5)), max_size=30).map(
            "".join
        ),
        st.integers(0, 60_000).map(lambda n: "á" * n),  # near and over the body limit
    )


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    odd_text(),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
an_id = st.one_of(
    st.text(max_size=150),
    st.integers(-(2**80), 2**80),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.just({}),
    st.just([]),
)


@st.composite
def odd_valid(draw: st.DrawFn) -> bytes:
    """A delivery of the right shape whose values are odd."""
    body = text_event(draw(odd_text()), wrapped=draw(st.booleans()))
    msg = body["result"]["message"] if "result" in body else body["message"]
    for path in (
        ("from", "id"),
        ("chat", "id"),
        ("message_id",),
        ("date",),
        ("chat", "chat_type"),
        ("from", "display_name"),
        ("from", "is_bot"),
        ("quote_message_id",),
        ("photo_url",),
        ("event_name",),
    ):
        if draw(st.booleans()):
            target = msg if path[0] != "event_name" else body.get("result", body)
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = draw(st.one_of(an_id, json_value))
    # ensure_ascii escapes lone surrogates as \ud800, as a buggy client would send them
    return json.dumps(body, ensure_ascii=draw(st.booleans()), allow_nan=False).encode(
        "utf-8", "surrogatepass"
    )


def deep(n: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * n + b"]" * n
    inner = '{"a":' * n + "1" + "}" * n
    return ('{"event_name": "message.text.received", "message": ' + inner + "}").encode()


deliveries = st.one_of(
    odd_valid(),
    json_value.map(lambda v: json.dumps(v, allow_nan=False).encode("utf-8", "surrogatepass")),
    st.binary(max_size=3000),
    st.tuples(st.integers(1, 200_000), st.sampled_from(["list", "dict"])).map(lambda t: deep(*t)),
    st.sampled_from(
        [
            b"",
            b" ",
            b"null",
            b"[]",
            b"{}",
            b'"x"',
            b"1e999",
            b"NaN",
            b"\xef\xbb\xbf{}",
            b'{"event_name": 1}',
            b"\xff\xfe{\x00}\x00",
        ]
    ),
)


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any) -> Bot:
    return await make_bot(
        make_settings(
            platform={"kind": "zalo_bot"},
            server={"max_body_bytes": LIMIT, "rate_limit_per_minute": 100_000},
        )
    )


async def stored(bot: Bot) -> int:
    async with bot.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(InboundEvent))).scalar_one())


async def send(bot: Bot, raw: bytes, secret: str | None = SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Bot-Api-Secret-Token"] = secret
    async with bot.http.post("/webhook/zalo-bot", data=raw, headers=headers) as resp:
        await resp.read()
        return resp.status


@FUZZ
@given(raw=deliveries)
async def test_any_body_gets_a_defined_answer_and_refusals_store_nothing(
    bot: Bot, raw: bytes
) -> None:
    before = await stored(bot)
    status = await send(bot, raw)
    after = await stored(bot)
    assert status in ALLOWED, (status, raw[:200])
    if status != 200:
        assert after == before, "a refused delivery was stored"
    else:
        assert after - before in (0, 1)
    if len(raw) > LIMIT:
        assert status == 413


@FUZZ
@given(
    raw=deliveries,
    secret=st.one_of(
        st.none(),
        st.text(max_size=40).filter(lambda s: s != SECRET and s.isprintable() and s.isascii()),
    ),
)
async def test_without_the_right_secret_nothing_is_stored(
    bot: Bot, raw: bytes, secret: str | None
) -> None:
    before = await stored(bot)
    assert await send(bot, raw, secret) == 401
    assert await stored(bot) == before


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raws=st.lists(odd_valid(), min_size=1, max_size=5))
async def test_what_was_stored_is_processed_without_stopping_the_worker(
    bot: Bot, raws: list[bytes]
) -> None:
    for raw in raws:
        assert await send(bot, raw) in ALLOWED
    await bot.drain()
    async with bot.sessions() as s:
        pending = (
            await s.execute(
                select(func.count())
                .select_from(InboundEvent)
                .where(InboundEvent.status == "pending", InboundEvent.claimed_until.is_(None))
            )
        ).scalar_one()
    assert pending == 0
    async with bot.http.get("/healthz") as resp:
        assert resp.status == 200
