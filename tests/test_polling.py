"""Polling mode: getUpdates (one update a call, 408 when empty, repeats) feeds the inbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from models.tables import InboundEvent, Message
from tests.conftest import Bot, sample, text_event
from tests.fake_zalo import TOKEN, FakeZalo


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    fake = await FakeZalo().start()
    yield fake
    await fake.close()


async def test_updates_are_stored_once_and_answered(
    make_bot: Any, make_settings: Any, sqlite_url: str, zalo: FakeZalo
) -> None:
    first = text_event("/huongdan", message_id="poll0000000000000001")
    zalo.updates.extend(
        [
            sample("bot_bare_text_capture"),
            first,
            first,  # the same update can come back: no offset on Zalo's getUpdates
            {"message": 5},  # not an event: skipped, the loop goes on
            sample("bot_image_photo_url"),
        ]
    )
    settings = make_settings(
        db=sqlite_url,
        platform={
            "kind": "zalo_bot",
            "mode": "polling",
            "api_base": zalo.api_base,
            "token": TOKEN,
            "poll_timeout_seconds": 1,
        },
    )
    bot: Bot = await make_bot(settings)
    for _ in range(100):  # the poller runs in the background; wait until it drained the fake
        if not zalo.updates and sum(c.method == "getUpdates" for c in zalo.calls) >= 6:
            break
        await asyncio.sleep(0.05)
    await bot.drain()
    async with bot.sessions() as s:
        stored = (await s.execute(select(func.count()).select_from(InboundEvent))).scalar_one()
        messages = (await s.execute(select(func.count()).select_from(Message))).scalar_one()
    assert stored == 3 and messages == 3
    replies = [b["text"] for b in zalo.sent()]
    # check-in, help, photo: each answered once; each new sender also hears it is not on the roster
    assert len(replies) == 5
    assert sum("chưa có trong danh sách" in r for r in replies) == 2
    assert sum(r.startswith("Bot ANTT xin chào!") for r in replies) == 1
