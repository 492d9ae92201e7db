"""The Zalo Bot API client against a real local HTTP server playing Zalo."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.platforms.base import (
    OutboundMessage,
    PermanentError,
    RetryAfter,
    TransientError,
    Unauthorized,
)
from bot.platforms.text_split import split_text, utf16_len
from bot.platforms.zalo_bot import ZaloBotClient
from tests.fake_zalo import TOKEN, FakeZalo


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    fake = await FakeZalo().start()
    yield fake
    await fake.close()


@pytest.fixture
async def client(zalo: FakeZalo) -> AsyncIterator[ZaloBotClient]:
    async with aiohttp.ClientSession() as http:
        yield ZaloBotClient(zalo.api_base, TOKEN, http)


async def test_send_message_returns_the_platform_id(zalo: FakeZalo, client: ZaloBotClient) -> None:
    result = await client.send(OutboundMessage(chat_id="c1", text="Xin chào"))
    assert result.message_ids == ("00000000000000000001",)
    assert zalo.sent() == [{"chat_id": "c1", "text": "Xin chào"}]


async def test_429_is_retry_after_with_the_header_value(
    zalo: FakeZalo, client: ZaloBotClient
) -> None:
    zalo.script.append(
        (429, {"ok": False, "error_code": 429, "description": "quota"}, {"Retry-After": "7"})
    )
    with pytest.raises(RetryAfter) as info:
        await client.send(OutboundMessage(chat_id="c1", text="a"))
    assert info.value.seconds == 7
    assert info.value.retryable


async def test_500_is_transient(zalo: FakeZalo, client: ZaloBotClient) -> None:
    zalo.script.append((500, {"ok": False, "error_code": 500, "description": "boom"}, {}))
    with pytest.raises(TransientError):
        await client.send(OutboundMessage(chat_id="c1", text="a"))
    # ... and the next call succeeds.
    assert (await client.send(OutboundMessage(chat_id="c1", text="a"))).message_ids


async def test_401_is_unauthorized_and_not_retryable(zalo: FakeZalo) -> None:
    async with aiohttp.ClientSession() as http:
        bad = ZaloBotClient(zalo.api_base, "999:wrong-secret-value", http)
        with pytest.raises(Unauthorized) as info:
            await bad.send(OutboundMessage(chat_id="c1", text="a"))
    assert not info.value.retryable
    assert "wrong-secret-value" not in str(info.value)


async def test_ok_false_with_http_200_is_an_error(zalo: FakeZalo, client: ZaloBotClient) -> None:
    zalo.script.append((200, {"ok": False, "error_code": 400, "description": "chat not found"}, {}))
    with pytest.raises(PermanentError) as info:
        await client.send(OutboundMessage(chat_id="nope", text="a"))
    assert "chat not found" in str(info.value)


async def test_network_error_is_transient_and_hides_the_token() -> None:
    async with aiohttp.ClientSession() as http:
        dead = ZaloBotClient("http://127.0.0.1:9", TOKEN, http, timeout=2)
        with pytest.raises(TransientError) as info:
            await dead.send(OutboundMessage(chat_id="c1", text="a"))
    assert TOKEN not in str(info.value)


async def test_get_updates_408_means_nothing_new(zalo: FakeZalo, client: ZaloBotClient) -> None:
    assert await client.get_update(1) is None
    zalo.updates.append({"event_name": "message.text.received", "message": {}})
    assert (await client.get_update(1)) == {"event_name": "message.text.received", "message": {}}


async def test_webhook_info_is_none_when_unset(client: ZaloBotClient) -> None:
    assert await client.get_webhook_info() is None
    await client.set_webhook("https://example.invalid/webhook/zalo-bot", "x" * 16)
    assert (await client.get_webhook_info())["url"].endswith("/webhook/zalo-bot")


async def test_long_vietnamese_text_with_emoji_is_split_and_accepted(
    zalo: FakeZalo, client: ZaloBotClient
) -> None:
    para = "Đề nghị các đồng chí tăng cường tuần tra khu vực nhà xưởng 🚒🔥 và báo cáo kịp thời. "
    text = "\n\n".join(para * 5 for _ in range(12))
    assert len(text) >= 5000
    chunks = split_text(text)
    assert len(chunks) >= 3
    assert all(utf16_len(c) <= 2000 for c in chunks)
    # Nothing lost or reordered apart from whitespace at the cuts.
    assert "".join(chunks).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )
    for c in chunks:
        await client.send(OutboundMessage(chat_id="c1", text=c))
    assert [b["text"] for b in zalo.sent()] == chunks


def test_split_prefers_paragraphs_then_lines_then_words() -> None:
    text = ("a" * 1500) + "\n\n" + ("b" * 1000)
    assert split_text(text) == ["a" * 1500, "b" * 1000]
    text = ("a" * 1500) + "\n" + ("b" * 1000)
    assert split_text(text) == ["a" * 1500, "b" * 1000]
    words = " ".join(["từ"] * 1000)
    chunks = split_text(words, limit=100)
    assert all(not c.startswith(" ") and not c.endswith(" ") for c in chunks)
    assert all(len(c) <= 100 for c in chunks)


def test_split_never_cuts_an_emoji_in_half() -> None:
    text = "🔥" * 1500  # 3000 UTF-16 units, no spaces
    chunks = split_text(text)
    assert [utf16_len(c) for c in chunks] == [2000, 1000]
    assert "".join(chunks) == text
