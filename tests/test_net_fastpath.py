"""The sender's claim and the inbox's insert run on SQLite's cursor (models/fastlane.py):
the same rows as SQLAlchemy's ordinary path, and the ordinary path on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from bot import keys
from models import fastlane
from models.outbox import enqueue
from models.tables import BotMessage, InboundEvent, Outbox
from tests.conftest import Bot, text_event
from tests.fake_zalo import TOKEN, FakeZalo

# What may differ between two runs: ids the fake platform hands out in the order the
# concurrent sends reach it, and when the rows were written.
_OUTBOX_SKIPPED = {"platform_message_ids", "claimed_by"}


@pytest.fixture
async def fakes() -> AsyncIterator[Callable[[], Any]]:
    started: list[FakeZalo] = []

    async def start() -> FakeZalo:
        fake = await FakeZalo().start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        await fake.close()


async def _bot(make_bot: Any, make_settings: Any, db_url: str, zalo: FakeZalo) -> Bot:
    settings = make_settings(
        db=db_url,
        platform={"kind": "zalo_bot", "api_base": zalo.api_base, "token": TOKEN},
        engagement={"monthly_message_budget": 10_000},  # the budget's count in the claim
    )
    return await make_bot(settings)


@contextmanager
def cursor_statements(bot: Bot) -> Iterator[list[tuple[str, bool]]]:
    """(SQL, by the fast path) of every statement run meanwhile."""
    seen: list[tuple[str, bool]] = []

    def listen(_c: Any, _cur: Any, sql: str, _p: Any, context: Any, _many: bool) -> None:
        seen.append((" ".join(sql.split()[:3]), context is None))

    engine = bot.app[keys.ENGINE].sync_engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


async def _send_all(bot: Bot) -> None:
    async with bot.sessions() as s, s.begin():
        for n in range(40):
            chat = f"dm{n % 25:03d}"  # some chats with two rows: a claim's second round
            text = f"Chào {n}" if n != 7 else "dài " * 700  # two chunks: a chunk recorded alone
            await enqueue(s, chat_id=chat, text=text, kind="reply", key=str(n), now=bot.clock.now())
    while await bot.runtime.sender.run_once() > 0:
        pass


async def _outbox(bot: Bot) -> tuple[list[dict[str, Any]], dict[int, list[str]]]:
    """The outbox's rows (without what may differ) and the message ids recorded per row."""
    async with bot.sessions() as s:
        rows = [
            {k: v for k, v in vars(r).items() if k[0] != "_" and k not in _OUTBOX_SKIPPED}
            | {"ids": len(r.platform_message_ids or [])}
            for r in (await s.execute(select(Outbox).order_by(Outbox.id))).scalars()
        ]
        known: dict[int, list[str]] = {}
        for pk, mid in await s.execute(select(BotMessage.outbox_pk, BotMessage.message_id)):
            known.setdefault(pk, []).append(mid)
        for r in (await s.execute(select(Outbox))).scalars():
            assert sorted(r.platform_message_ids or []) == sorted(known.get(r.id, [])), r.id
    return rows, {pk: sorted(ids) for pk, ids in known.items()}


async def test_the_senders_claims_give_the_ordinary_paths_rows(
    make_bot: Any, make_settings: Any, db_url: str, fakes: Any, tmp_path: Any
) -> None:
    sqlite = db_url.startswith("sqlite")
    fast = await _bot(make_bot, make_settings, db_url, await fakes())
    with cursor_statements(fast) as seen:
        await _send_all(fast)
    by_path = {sql: quick for sql, quick in seen}
    # The claim's read and the records of what went out: on the cursor on SQLite only.
    for sql in ("SELECT outbox.id, outbox.chat_id,", "INSERT INTO bot_messages"):
        assert by_path[sql] is sqlite, (sql, by_path)
    other_url = f"sqlite+aiosqlite:///{tmp_path / 'ordinary.db'}" if sqlite else None
    if other_url is None:
        return  # PostgreSQL: the ordinary path is the only one
    ordinary = await _bot(make_bot, make_settings, other_url, await fakes())
    with fastlane.ordinary_path(), cursor_statements(ordinary) as seen_ordinary:
        await _send_all(ordinary)
    assert not any(quick for _, quick in seen_ordinary)
    fast_rows, fast_known = await _outbox(fast)
    ordinary_rows, ordinary_known = await _outbox(ordinary)
    assert fast_rows == ordinary_rows
    assert [len(v) for v in fast_known.values()] == [len(v) for v in ordinary_known.values()]
    assert {r["status"] for r in fast_rows} == {"sent"}


async def test_the_inbox_insert_gives_the_ordinary_paths_rows(
    make_bot: Any,
    make_settings: Any,
    db_url: str,
    fakes: Any,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sqlite = db_url.startswith("sqlite")
    bodies = [
        text_event(f"có mặt {n}", sender=f"u{n % 7}", message_id=f"m{n:04d}") for n in range(30)
    ]
    bodies.append(bodies[3])  # a redelivery: a duplicate, the batch written again checked

    async def deliver(bot: Bot, quick: bool) -> list[tuple[Any, ...]]:
        with cursor_statements(bot) as seen:
            answers = [await bot.deliver(b) for b in bodies]
        assert [a[0] for a in answers] == [200] * len(bodies)
        assert answers[-1][1] == {"ok": True, "duplicate": True}
        inserts = {q for sql, q in seen if sql == "INSERT INTO inbound_events"}
        assert inserts == {quick and sqlite}
        async with bot.sessions() as s:
            rows = await s.execute(
                select(
                    InboundEvent.platform,
                    InboundEvent.event_key,
                    InboundEvent.event_name,
                    InboundEvent.message_id,
                    InboundEvent.chat_id,
                    InboundEvent.sender_id,
                    InboundEvent.received_at,
                    InboundEvent.payload,
                    InboundEvent.status,
                    InboundEvent.attempts,
                ).order_by(InboundEvent.id)
            )
            return [tuple(r) for r in rows]

    fast = await _bot(make_bot, make_settings, db_url, await fakes())
    fast_rows = await deliver(fast, quick=True)
    assert len(fast_rows) == 30
    if not sqlite:
        return

    async def not_here(*_args: Any) -> None:
        return None  # the writer's task began before any test could choose its path

    monkeypatch.setattr(fastlane, "on_connection", not_here)
    other_url = f"sqlite+aiosqlite:///{tmp_path / 'ordinary.db'}"
    ordinary = await _bot(make_bot, make_settings, other_url, await fakes())
    assert await deliver(ordinary, quick=False) == fast_rows
