"""The sender's claims: a claim whose rows all went out is recorded in the next claim's
transaction (one commit a claim), and never left unrecorded when the sender goes idle,
pauses or stops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from bot import keys
from bot.sender import SEND_AT_ONCE
from models.outbox import enqueue
from models.tables import BotMessage, Outbox
from tests.conftest import Bot
from tests.fake_zalo import TOKEN, FakeZalo


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    fake = await FakeZalo().start()
    yield fake
    await fake.close()


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo) -> Bot:
    settings = make_settings(
        db=db_url, platform={"kind": "zalo_bot", "api_base": zalo.api_base, "token": TOKEN}
    )
    return await make_bot(settings)


async def queue_chats(bot: Bot, chats: int) -> None:
    """One reply to each of `chats` private chats."""
    async with bot.sessions() as s, s.begin():
        for n in range(chats):
            chat = f"dm{n:03d}"
            await enqueue(
                s, chat_id=chat, text=f"Chào {chat}", kind="reply", key=chat, now=bot.clock.now()
            )


async def statuses(bot: Bot) -> dict[str, int]:
    async with bot.sessions() as s:
        rows = await s.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
        return {status: n for status, n in rows.all()}


async def known_ids(bot: Bot) -> int:
    async with bot.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(BotMessage))).scalar_one())


async def test_a_claim_is_recorded_with_the_next_one_in_one_commit(
    bot: Bot, zalo: FakeZalo
) -> None:
    await queue_chats(bot, 2 * SEND_AT_ONCE)
    commits = 0

    def count(_conn: Any) -> None:
        nonlocal commits
        commits += 1

    engine = bot.app[keys.ENGINE].sync_engine
    event.listen(engine, "commit", count)
    try:
        sender = bot.runtime.sender
        assert await sender.run_once() == SEND_AT_ONCE
        # Sent, and marked so before the send; recorded as sent with the next claim.
        assert await statuses(bot) == {"sending": SEND_AT_ONCE, "pending": SEND_AT_ONCE}
        assert await sender.run_once() == SEND_AT_ONCE
        assert await statuses(bot) == {"sent": SEND_AT_ONCE, "sending": SEND_AT_ONCE}
        assert await known_ids(bot) == SEND_AT_ONCE
        assert await sender.run_once() == 0  # nothing left: the last claim is recorded
        assert await statuses(bot) == {"sent": 2 * SEND_AT_ONCE}
        assert await known_ids(bot) == 2 * SEND_AT_ONCE
    finally:
        event.remove(engine, "commit", count)
    assert commits == 3  # a commit a claim (and one for the empty claim), not two
    assert len(zalo.sent()) == 2 * SEND_AT_ONCE  # each once


async def test_a_stopping_sender_records_what_its_last_claim_sent(bot: Bot, zalo: FakeZalo) -> None:
    await queue_chats(bot, 3)
    sender = bot.runtime.sender
    assert await sender.run_once() == 3
    assert await statuses(bot) == {"sending": 3}
    sender.stop()
    await sender.run()  # stopped before its first round: records, then returns
    assert await statuses(bot) == {"sent": 3}
    assert await known_ids(bot) == 3
    assert len(zalo.sent()) == 3


async def test_a_paused_sender_records_what_its_last_claim_sent(bot: Bot, zalo: FakeZalo) -> None:
    await queue_chats(bot, 2)
    sender = bot.runtime.sender
    assert await sender.run_once() == 2
    sender.outage.refused(bot.clock.now(), "token refused")  # as a 401 on another send does
    assert await sender.run_once() == 0
    assert await statuses(bot) == {"sent": 2}
    assert await known_ids(bot) == 2


async def test_overlapping_rounds_record_every_delivery(bot: Bot, zalo: FakeZalo) -> None:
    """Two rounds at once (`Runtime.drain` beside the worker): each one's deliveries are
    recorded, whichever claim comes next."""
    await queue_chats(bot, 3 * SEND_AT_ONCE)
    sender = bot.runtime.sender
    # On SQLite the second claim waits for the first's turn, then both send at once; on
    # PostgreSQL it may find the rows locked by the first (SKIP LOCKED) and take none.
    assert sum(await asyncio.gather(sender.run_once(), sender.run_once())) >= SEND_AT_ONCE
    while await sender.run_once():
        pass
    assert await statuses(bot) == {"sent": 3 * SEND_AT_ONCE}
    assert await known_ids(bot) == 3 * SEND_AT_ONCE
    assert len(zalo.sent()) == 3 * SEND_AT_ONCE


async def test_a_sender_stopping_while_the_database_is_away_ends_cleanly(
    bot: Bot, zalo: FakeZalo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last claim's record fails at the stop: the worker ends without an error; the rows
    stay "sending" (recovered later as delivery unknown, never sent twice)."""
    await queue_chats(bot, 2)
    sender = bot.runtime.sender
    assert await sender.run_once() == 2

    async def away(_sent: Any, last: bool = True) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(sender, "_record_sent", away)
    sender.stop()
    await sender.run()
    assert sender.last_error is not None and "disk I/O error" in sender.last_error
    assert await statuses(bot) == {"sending": 2}
    assert len(zalo.sent()) == 2
