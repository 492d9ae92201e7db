"""Several processors on one database: a chat's messages are still handled in order."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot import keys
from bot.processor import Processor
from models.tables import InboundEvent, Message
from tests.conftest import Bot, text_event
from tests.test_intake import _NullClient


def _processor(bot: Bot, name: str, batch: int) -> Processor:
    app = bot.app
    return Processor(
        app[keys.SESSIONS],
        app[keys.SETTINGS],
        app[keys.CLOCK],
        app[keys.METRICS],
        name,
        asyncio.Event(),
        batch=batch,
    )


async def _statuses(bot: Bot) -> dict[str, str]:
    async with bot.sessions() as s:
        rows = await s.execute(select(InboundEvent.message_id, InboundEvent.status))
        return {m: st for m, st in rows.tuples()}


async def test_a_chat_waits_while_another_instance_holds_its_older_message(
    make_bot: Any, make_settings: Any, db_url: str
) -> None:
    bot = await make_bot(
        make_settings(db=db_url, platform={"kind": "zalo_bot"}), client=_NullClient()
    )
    order = [("x", "x1"), ("y", "y1"), ("x", "x2"), ("y", "y2")]
    for chat, mid in order:
        body = text_event("có mặt", sender=f"u{chat}", group=True, chat=chat, message_id=mid)
        assert (await bot.deliver(body))[0] == 200

    first, second = _processor(bot, "instance-a", batch=1), _processor(bot, "instance-b", batch=10)
    held = await first._claim()  # instance A holds x1 and is slow to handle it
    assert len(held) == 1
    assert await second.run_once() == 2  # B takes chat y, but not x2 before x1
    assert await _statuses(bot) == {"x1": "pending", "y1": "done", "x2": "pending", "y2": "done"}

    await first._handle(held[0])
    assert await second.run_once() == 1  # now x2 is next in its chat
    assert set((await _statuses(bot)).values()) == {"done"}
    async with bot.sessions() as s:
        handled = (await s.execute(select(Message.message_id).order_by(Message.id))).scalars()
        assert [m for m in handled if m.startswith("x")] == ["x1", "x2"]


async def test_a_busy_group_takes_no_batch_places_from_other_chats(
    make_bot: Any, make_settings: Any, db_url: str
) -> None:
    bot = await make_bot(
        make_settings(db=db_url, platform={"kind": "zalo_bot"}), client=_NullClient()
    )
    for i in range(110):  # a burst in one group, then five private messages
        body = text_event("có mặt", sender=f"m{i % 7}", group=True, chat="x", message_id=f"x{i}")
        assert (await bot.deliver(body))[0] == 200
    for i in range(5):
        assert (await bot.deliver(text_event("có mặt", sender=f"p{i}", message_id=f"p{i}")))[
            0
        ] == 200
    first, second = _processor(bot, "instance-a", batch=50), _processor(bot, "instance-b", batch=50)
    held = await first._claim()
    assert len(held) == 50  # A is working through the group
    assert await second.run_once() == 5  # B serves the private chats meanwhile
    statuses = await _statuses(bot)
    assert all(statuses[f"p{i}"] == "done" for i in range(5))
    assert all(statuses[f"x{i}"] == "pending" for i in range(110))


async def test_an_event_waiting_out_a_failure_does_not_hold_back_the_rest(
    make_bot: Any, make_settings: Any, sqlite_url: str
) -> None:
    bot = await make_bot(
        make_settings(db=sqlite_url, platform={"kind": "zalo_bot"}), client=_NullClient()
    )
    for i in range(3):
        body = text_event("có mặt", sender="m1", group=True, chat="x", message_id=f"x{i}")
        assert (await bot.deliver(body))[0] == 200
    async with bot.sessions() as s, s.begin():  # x0 failed once: what _record_failure leaves
        row = (
            await s.execute(select(InboundEvent).where(InboundEvent.message_id == "x0"))
        ).scalar_one()
        row.attempts, row.claimed_by = 1, None
        row.claimed_until = bot.clock.now() + timedelta(seconds=60)
    assert await _processor(bot, "only", batch=10).run_once() == 2
    assert await _statuses(bot) == {"x0": "pending", "x1": "done", "x2": "done"}


async def test_one_instance_takes_a_chats_messages_in_one_claim(
    make_bot: Any, make_settings: Any, sqlite_url: str
) -> None:
    bot = await make_bot(
        make_settings(db=sqlite_url, platform={"kind": "zalo_bot"}), client=_NullClient()
    )
    for i in range(5):
        body = text_event("có mặt", sender="u1", group=True, chat="g", message_id=f"g{i}")
        assert (await bot.deliver(body))[0] == 200
    assert await _processor(bot, "only", batch=10).run_once() == 5


async def test_two_instances_storing_the_same_deliveries_at_once_store_each_once(
    db_url: str,
) -> None:
    """Zalo redelivering to both instances at the same moment: no 503, each stored once."""
    from bot.inbox import InboxWriter
    from bot.platforms.zalo_bot import parse_delivery
    from handlers.clock import FixedClock
    from models.db import ensure_schema, make_engine, make_sessionmaker
    from tests.conftest import T0

    engines = [make_engine(db_url), make_engine(db_url)]
    await ensure_schema(engines[0])
    writers = [InboxWriter(make_sessionmaker(e), FixedClock(T0)) for e in engines]
    for writer in writers:
        writer.start()
    try:
        rng = random.Random(7)
        for round_ in range(20):
            events = [
                parse_delivery(
                    json.dumps(text_event("có mặt", message_id=f"r{round_}-{i}")).encode(), T0
                )[0]
                for i in range(40)
            ]
            # Each instance gets most of the events, in its own order, in bursts: their
            # batches overlap partly and commit at different moments.
            plans = [rng.sample(events, 30) for _ in writers]
            plans[0] += [e for e in events if e not in plans[0]]

            async def feed(writer: InboxWriter, plan: list[InboundEvent]) -> list[bool]:
                out = []
                for start in range(0, len(plan), 7):
                    part = plan[start : start + 7]
                    out += await asyncio.gather(*(writer.submit(ev) for ev in part))
                return out

            pairs = zip(writers, plans, strict=True)
            results = await asyncio.gather(*(feed(w, p) for w, p in pairs))
            assert sum(sum(r) for r in results) == len(events)  # new exactly once, never refused
        # Whole batches of the same keys in opposite orders (a deadlock if taken unsorted).
        for round_ in range(4):
            bodies = [text_event("có mặt", message_id=f"big{round_}-{i}") for i in range(200)]
            events = [parse_delivery(json.dumps(b).encode(), T0)[0] for b in bodies]
            results = await asyncio.gather(
                *(writers[0].submit(ev) for ev in events),
                *(writers[1].submit(ev) for ev in reversed(events)),
            )
            assert sum(results) == len(events)
    finally:
        for writer in writers:
            await writer.stop()
        for engine in engines:
            await engine.dispose()
