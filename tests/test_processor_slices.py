"""Optimistic slices: a slice's events run with no savepoint each; when one fails, the slice
is rolled back and handled again the careful way (each event in its own savepoint)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, OperationalError

import bot.processor as processor_module
from bot import keys
from handlers import registry
from models.tables import CheckIn, InboundEvent, Member, Message, Outbox, Report
from tests.conftest import Bot, text_event
from tests.test_intake import _NullClient

# (sender, name, chat, text): two check-ins and a fire report, in two groups.
HEALTHY = [
    ("tuan", "Trần Văn Tuấn", "g1", "có mặt"),
    ("hoa", "Phạm Thị Hoa", "g2", "Cháy kho B khu công nghiệp, cần hỗ trợ gấp"),
    ("minh", "Đỗ Văn Minh", "g1", "co mat"),
]
POISON = ("lan", "Lê Thị Lan", "g1", "/huongdan")  # its handler is replaced by a broken one


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str, monkeypatch: Any) -> Bot:
    monkeypatch.setattr(processor_module, "SLICE_SECONDS", 60.0)  # a loaded machine is slow
    return await make_bot(
        make_settings(db=db_url, platform={"kind": "zalo_bot"}), client=_NullClient()
    )


async def deliver(bot: Bot, events: list[tuple[str, str, str, str]]) -> None:
    for sender, name, chat, text in events:
        body = text_event(text, sender=sender, name=name, chat=chat, group=True, message_id=sender)
        assert (await bot.deliver(body))[0] == 200


@contextmanager
def statements(bot: Bot) -> Iterator[Counter[str]]:
    """Counts the SQL run meanwhile by its first word (SAVEPOINT, INSERT, ...) and commits."""
    seen: Counter[str] = Counter()
    engine = bot.app[keys.SESSIONS].kw["bind"].sync_engine

    def on_statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen[statement.split(None, 1)[0].upper()] += 1

    def on_commit(conn: Any) -> None:
        seen["commit"] += 1

    sa_event.listen(engine, "before_cursor_execute", on_statement)
    sa_event.listen(engine, "commit", on_commit)
    try:
        yield seen
    finally:
        sa_event.remove(engine, "before_cursor_execute", on_statement)
        sa_event.remove(engine, "commit", on_commit)


async def outcome(bot: Bot, leave_out: str = "") -> dict[str, Any]:
    """What handling left behind (the `leave_out` sender's inbox row aside)."""
    async with bot.sessions() as s:
        inbox = (
            await s.execute(
                select(InboundEvent.message_id, InboundEvent.status, InboundEvent.attempts)
                .where(InboundEvent.message_id != leave_out)
                .order_by(InboundEvent.id)
            )
        ).all()
        messages = (await s.execute(select(Message.message_id).order_by(Message.id))).scalars()
        replies = (await s.execute(select(Outbox.chat_id, Outbox.text).order_by(Outbox.id))).all()
        members = (await s.execute(select(Member.member_id).order_by(Member.id))).scalars()
        counts = [
            (await s.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (CheckIn, Report)
        ]
    return {
        "inbox": [tuple(r) for r in inbox],
        "messages": list(messages),
        "replies": [tuple(r) for r in replies],
        "members": list(members),
        "checkins and reports": counts,
    }


def sample_count(bot: Bot, name: str, **labels: str) -> float:
    value = bot.app[keys.METRICS].registry.get_sample_value(name, labels)
    return float(value or 0.0)


async def test_a_slice_of_healthy_events_runs_no_savepoint(bot: Bot) -> None:
    await deliver(bot, HEALTHY)
    with statements(bot) as seen:
        assert await bot.runtime.processor.run_once() == 3
    assert seen["SAVEPOINT"] == 0 and seen["RELEASE"] == 0
    assert seen["commit"] == 2  # the claim, then the slice
    result = await outcome(bot)
    assert result["inbox"] == [(sender, "done", 1) for sender, *_ in HEALTHY]
    assert result["checkins and reports"] == [2, 1]
    assert sample_count(bot, "antt_processing_lag_seconds_count") == 3
    assert sample_count(bot, "antt_events_processed_total", status="done") == 3


async def writes_then_raises(ctx: Any) -> None:
    await ctx.reply("không được gửi")
    raise ValueError("a bug after a write")


async def writes_then_breaks_a_unique_key(ctx: Any) -> None:
    await ctx.reply("không được gửi")
    now = ctx.now
    ctx.session.add(Member(member_id=ctx.member.member_id, created_at=now, expected_since=now))
    await ctx.session.flush()  # IntegrityError: the sender's member row exists


@pytest.mark.parametrize(
    ("broken", "error"),
    [(writes_then_raises, "ValueError"), (writes_then_breaks_a_unique_key, "IntegrityError")],
)
async def test_a_failing_event_in_the_middle_leaves_the_others_handled_exactly_once(
    bot: Bot,
    make_bot: Any,
    make_settings: Any,
    tmp_path: Any,
    monkeypatch: Any,
    broken: Any,
    error: str,
) -> None:
    """Tuấn, Hoa and Minh around Lan's broken message, in one slice: the slice is rolled
    back and run again carefully; what is left is what the three alone would leave."""
    control = await make_bot(
        make_settings(
            db=f"sqlite+aiosqlite:///{tmp_path / 'control.db'}", platform={"kind": "zalo_bot"}
        ),
        client=_NullClient(),
    )
    await deliver(control, HEALTHY)
    await control.drain()
    expected = await outcome(control)

    monkeypatch.setitem(registry.HANDLERS, "command:huongdan", broken)
    await deliver(bot, [HEALTHY[0], POISON, *HEALTHY[1:]])
    with statements(bot) as seen:
        assert await bot.runtime.processor.run_once() == 4
    assert seen["SAVEPOINT"] == 4  # the careful run only: one per event
    assert seen["commit"] == 2  # the claim, then the careful slice (the first rolled back)
    assert await outcome(bot, leave_out="lan") == expected
    assert "không được gửi" not in [text for _, text in expected["replies"]]
    async with bot.sessions() as s:
        row = (
            await s.execute(select(InboundEvent).where(InboundEvent.message_id == "lan"))
        ).scalar_one()
    assert (row.status, row.attempts, row.claimed_by) == ("pending", 1, None)
    assert (row.error or "").startswith(error)
    assert sample_count(bot, "antt_events_processed_total", status="done") == 3
    assert sample_count(bot, "antt_processing_lag_seconds_count") == 4  # once per event


async def test_a_database_error_in_the_middle_commits_the_events_before_it_and_hands_back_the_rest(
    bot: Bot, monkeypatch: Any
) -> None:
    async def disk_error(ctx: Any) -> None:
        await ctx.reply("không được gửi")
        raise OperationalError("INSERT ...", {}, Exception("disk I/O error"))

    monkeypatch.setitem(registry.HANDLERS, "command:huongdan", disk_error)
    await deliver(bot, [HEALTHY[0], POISON, *HEALTHY[1:]])
    assert await bot.runtime.processor.run_once() == 4
    result = await outcome(bot)
    assert result["inbox"] == [
        ("tuan", "done", 1),
        ("lan", "pending", 1),
        ("hoa", "pending", 0),
        ("minh", "pending", 0),
    ]
    assert result["messages"] == ["tuan"]
    assert len(result["replies"]) == 1 and "không được gửi" not in result["replies"][0][1]
    assert sample_count(bot, "antt_processing_lag_seconds_count") == 2  # tuan, then lan
    await bot.drain()  # the rest, next round
    result = await outcome(bot, leave_out="lan")
    assert result["messages"] == ["tuan", "hoa", "minh"]
    assert sample_count(bot, "antt_events_processed_total", status="done") == 3


async def test_a_connection_lost_mid_slice_spends_no_attempt_and_keeps_nothing(
    bot: Bot, monkeypatch: Any
) -> None:
    async def connection_lost(ctx: Any) -> None:
        raise DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)

    monkeypatch.setitem(registry.HANDLERS, "command:huongdan", connection_lost)
    await deliver(bot, [HEALTHY[0], POISON, *HEALTHY[1:]])
    with statements(bot) as seen, pytest.raises(DBAPIError):
        await bot.runtime.processor.run_once()
    assert seen["SAVEPOINT"] == 0  # not run again the careful way: not the event's fault
    async with bot.sessions() as s:
        rows = (
            await s.execute(
                select(InboundEvent.status, InboundEvent.attempts, InboundEvent.claimed_by)
            )
        ).all()
        assert (await s.execute(select(func.count()).select_from(Message))).scalar_one() == 0
    assert [tuple(r) for r in rows] == [("pending", 0, None)] * 4
    assert sample_count(bot, "antt_processing_lag_seconds_count") == 0
