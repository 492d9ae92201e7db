"""The outbox sender against a real local HTTP server playing Zalo: retries, order, no doubles."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from models.outbox import enqueue
from models.tables import Outbox
from tests.conftest import T0, Bot
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


async def queue(
    bot: Bot, text: str, kind: str = "reply", key: str | None = None, chat: str = "c1"
) -> int:
    async with bot.sessions() as s, s.begin():
        out = await enqueue(
            s,
            chat_id=chat,
            text=text,
            kind=kind,
            key=key or f"k:{text}:{kind}",
            now=bot.clock.now(),
        )
    assert out is not None
    return out


async def rows(bot: Bot) -> list[Outbox]:
    async with bot.sessions() as s:
        return list((await s.execute(select(Outbox).order_by(Outbox.id))).scalars())


async def test_sends_in_priority_order(bot: Bot, zalo: FakeZalo) -> None:
    await queue(bot, "nhắc", kind="nudge")
    await queue(bot, "tổng hợp", kind="digest")
    await queue(bot, "CHÁY", kind="alert")
    await queue(bot, "trả lời", kind="reply")
    await bot.drain()
    assert [b["text"] for b in zalo.sent()] == ["CHÁY", "trả lời", "tổng hợp", "nhắc"]
    assert all(r.status == "sent" and r.sent_at == T0 for r in await rows(bot))


async def test_idempotency_key_is_unique(bot: Bot, zalo: FakeZalo) -> None:
    await queue(bot, "một lần", key="same")
    async with bot.sessions() as s, s.begin():
        again = await enqueue(s, chat_id="c1", text="một lần", kind="reply", key="same", now=T0)
    assert again is None
    await bot.drain()
    assert len(zalo.sent()) == 1


async def test_429_waits_for_retry_after_then_sends_once(bot: Bot, zalo: FakeZalo) -> None:
    zalo.script.append(
        (429, {"ok": False, "error_code": 429, "description": "quota"}, {"Retry-After": "120"})
    )
    await queue(bot, "xin chào")
    await bot.drain()
    (row,) = await rows(bot)
    assert row.status == "pending" and row.next_attempt_at == T0 + timedelta(seconds=120)
    bot.clock.advance(timedelta(seconds=119))
    await bot.drain()
    assert len(zalo.calls) == 1
    bot.clock.advance(timedelta(seconds=2))
    await bot.drain()
    (row,) = await rows(bot)
    assert row.status == "sent" and row.attempts == 2
    assert [b["text"] for b in zalo.sent()] == [
        "xin chào",
        "xin chào",
    ]  # the 429 try + the real one


async def test_500_then_success_with_backoff(bot: Bot, zalo: FakeZalo) -> None:
    for _ in range(3):
        zalo.script.append((500, {"ok": False, "error_code": 500, "description": "down"}, {}))
    await queue(bot, "thử lại")
    waits = []
    for _ in range(4):
        await bot.drain()
        (row,) = await rows(bot)
        if row.status == "sent":
            break
        waits.append((row.next_attempt_at - bot.clock.now()).total_seconds())
        bot.clock.set(row.next_attempt_at)
    assert row.status == "sent" and row.attempts == 4
    assert waits[0] < waits[1] < waits[2]  # exponential


async def test_permanent_error_is_failed_with_the_reason(bot: Bot, zalo: FakeZalo) -> None:
    zalo.script.append((400, {"ok": False, "error_code": 400, "description": "chat not found"}, {}))
    await queue(bot, "x")
    await bot.drain()
    (row,) = await rows(bot)
    assert row.status == "failed" and "chat not found" in (row.last_error or "")
    assert TOKEN not in (row.last_error or "")


async def test_long_text_goes_in_chunks_and_resumes_after_a_failure(
    bot: Bot, zalo: FakeZalo
) -> None:
    text = "\n\n".join(f"Mục {i}: " + "nội dung báo cáo tuần " * 40 for i in range(8))
    await queue(bot, text)
    zalo.script.extend(
        [
            (200, {"ok": True, "result": {"message_id": "a1"}}, {}),
            (500, {"ok": False, "error_code": 500}, {}),
        ]
    )
    await bot.drain()
    (row,) = await rows(bot)
    assert row.chunks_sent == 1 and row.status == "pending"
    bot.clock.set(row.next_attempt_at)
    await bot.drain()
    (row,) = await rows(bot)
    assert row.status == "sent"
    texts = [b["text"] for b in zalo.sent()]
    # chunk 1, the failed chunk 2, then chunk 2 again and the rest: chunk 1 never twice
    assert texts.count(texts[0]) == 1
    assert all(len(t) <= 2000 for t in texts)


async def test_interrupted_send_is_not_repeated_except_alerts(bot: Bot, zalo: FakeZalo) -> None:
    await queue(bot, "trả lời", kind="reply")
    await queue(bot, "CHÁY", kind="alert")
    async with bot.sessions() as s, s.begin():
        # As if the process died after recording the attempt but before the answer.
        await s.execute(
            update(Outbox).values(
                status="sending", attempts=1, claimed_until=T0 - timedelta(seconds=1)
            )
        )
    recovered = await bot.runtime.sender.recover_interrupted()
    assert recovered == 1
    await bot.drain()
    by_kind = {r.kind: r for r in await rows(bot)}
    assert by_kind["reply"].status == "failed" and "not repeated" in (
        by_kind["reply"].last_error or ""
    )
    assert by_kind["alert"].status == "sent"
    assert [b["text"] for b in zalo.sent()] == ["CHÁY"]


async def test_budget_withdraws_nudges_but_never_alerts(
    make_bot: Any, make_settings: Any, sqlite_url: str, zalo: FakeZalo
) -> None:
    settings = make_settings(
        db=sqlite_url,
        platform={"kind": "zalo_bot", "api_base": zalo.api_base, "token": TOKEN},
        engagement={"monthly_message_budget": 3, "holidays": []},
    )
    bot = await make_bot(settings)
    for i in range(3):
        await queue(bot, f"trả lời {i}")
    await bot.drain()
    await queue(bot, "nhắc", kind="nudge")
    await queue(bot, "CHÁY", kind="alert")
    await bot.drain()
    sent = [b["text"] for b in zalo.sent()]
    assert "CHÁY" in sent and "nhắc" not in sent
    # Not held for next month, when "7 days quiet" would be untrue (issue 17).
    nudge = next(r for r in await rows(bot) if r.kind == "nudge")
    assert (nudge.status, nudge.last_error) == (
        "cancelled",
        "withdrawn: monthly message budget low",
    )
    async with bot.http.get("/metrics") as resp:
        assert "antt_budget_left -1.0" in await resp.text()


async def test_a_nudge_held_back_more_than_three_days_is_withdrawn(
    bot: Bot, zalo: FakeZalo
) -> None:
    await queue(bot, "nhắc cũ", kind="nudge")
    await queue(bot, "trả lời cũ", kind="reply")
    bot.clock.advance(timedelta(days=3, minutes=1))  # e.g. Zalo out of reach since then
    await queue(bot, "nhắc mới", kind="nudge")
    await bot.drain()
    assert sorted(b["text"] for b in zalo.sent()) == ["nhắc mới", "trả lời cũ"]
    old = next(r for r in await rows(bot) if r.text == "nhắc cũ")
    assert old.status == "cancelled" and "3 days" in (old.last_error or "")


async def test_a_message_held_back_for_days_survives_its_first_429(
    bot: Bot, zalo: FakeZalo
) -> None:
    await queue(bot, "nhắc việc", kind="reply")
    bot.clock.advance(timedelta(days=3))  # e.g. held by the budget until the new month
    zalo.script.append((429, {"ok": False, "error_code": 429}, {"Retry-After": "5"}))
    await bot.drain()
    (row,) = await rows(bot)
    assert row.status == "pending"
    bot.clock.advance(timedelta(seconds=6))
    await bot.drain()
    assert (await rows(bot))[0].status == "sent"


async def test_nudges_and_reminders_wait_for_the_morning_but_replies_do_not(
    bot: Bot, zalo: FakeZalo
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    night = datetime(2026, 11, 27, 23, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    bot.clock.set(night)
    await queue(bot, "nhắc nhẹ", kind="nudge")
    await queue(bot, "trả lời", kind="reply")
    await bot.drain()
    assert [b["text"] for b in zalo.sent()] == ["trả lời"]
    nudge = next(r for r in await rows(bot) if r.kind == "nudge")
    assert nudge.next_attempt_at == datetime(
        2026, 11, 28, 7, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")
    )
    bot.clock.set(nudge.next_attempt_at)
    await bot.drain()
    assert [b["text"] for b in zalo.sent()] == ["trả lời", "nhắc nhẹ"]


@dataclass
class HeldZalo(FakeZalo):
    """Holds each send until a second one is in flight (or 2 s pass): shows concurrency."""

    in_flight = 0
    peak = 0

    async def handle(self, request: Any) -> Any:
        HeldZalo.in_flight += 1
        HeldZalo.peak = max(HeldZalo.peak, HeldZalo.in_flight)
        if HeldZalo.in_flight >= 2:
            self.together.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.together.wait(), 2)
        try:
            return await super().handle(request)
        finally:
            HeldZalo.in_flight -= 1

    together: asyncio.Event = field(default_factory=asyncio.Event)


async def test_two_groups_are_sent_to_at_once_and_each_keeps_its_order(
    make_bot: Any, make_settings: Any, db_url: str
) -> None:
    """Replies in the council group and the Hansol group go out together; within a group,
    the first report's answer always comes before the second's."""
    zalo = await HeldZalo().start()
    HeldZalo.peak = 0
    try:
        settings = make_settings(
            db=db_url, platform={"kind": "zalo_bot", "api_base": zalo.api_base, "token": TOKEN}
        )
        bot = await make_bot(settings)
        texts = {
            "gcouncil": ["Đã ghi nhận anh Tuấn có mặt", "Đã ghi nhận chị Lan có mặt", "Báo cáo 1"],
            "ghansol": ["Đã ghi nhận anh Hùng có mặt", "Báo cáo 2"],
        }
        for i in range(3):
            for chat, said in texts.items():
                if i < len(said):
                    await queue(bot, said[i], chat=chat)
        await bot.drain()
        for chat, said in texts.items():
            assert [b["text"] for b in zalo.sent() if b["chat_id"] == chat] == said
        assert HeldZalo.peak >= 2  # the two groups were in flight at the same moment
        assert {r.status for r in await rows(bot)} == {"sent"}
    finally:
        await zalo.close()


async def test_one_groups_replies_go_out_in_one_claim_and_a_failure_hands_back_the_rest(
    bot: Bot, zalo: FakeZalo
) -> None:
    """A busy group's three answers leave in one claim, one after the other. When the second
    meets a 500 the third is handed back untried (a struggling platform is not sent more of
    the same chat at once); it goes out at the next claim, the second after its backoff (a
    failed send never holds its chat back: docs/delivery.md)."""
    said = ["Đã ghi nhận anh Tuấn có mặt", "Đã ghi nhận chị Lan có mặt", "Đã ghi nhận anh Hùng"]
    for text in said:
        await queue(bot, text, chat="gcouncil")
    zalo.script.extend(
        [
            (200, {"ok": True, "result": {"message_id": "m1"}}, {}),
            (500, {"ok": False, "error_code": 500, "description": "down"}, {}),
        ]
    )
    claimed = await bot.runtime.sender.run_once()
    assert claimed == 3  # one claim took the group's three answers
    first, second, third = await rows(bot)
    assert (first.status, second.status, third.status) == ("sent", "pending", "pending")
    assert (third.attempts, third.claimed_by) == (0, None)  # untried, not a failed try
    assert [b["text"] for b in zalo.sent()] == said[:2]  # the third never reached Zalo
    await bot.drain()
    bot.clock.set(second.next_attempt_at)
    await bot.drain()
    assert [b["text"] for b in zalo.sent()] == [said[0], said[1], said[2], said[1]]
    assert {r.status for r in await rows(bot)} == {"sent"}
