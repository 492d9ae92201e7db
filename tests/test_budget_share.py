"""Issue 15, one member cannot drain the month: check-ins once a shift, chat replies capped
per member per hour, and the month's last share kept for directives and alerts.

Through the real webhook, processor and sender (the local fake platform records each send).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from handlers.clock import FixedClock
from models.tables import CheckIn, Outbox
from tests.conftest import Bot, text_event
from tests.engagement_helpers import COUNCIL, MAY, NAMES, council_settings, import_roster

# 07:10 Tuesday 1 Dec 2026 in Hanoi: the morning shift (06-14) has begun.
SHIFT = datetime(2026, 12, 1, 0, 10, tzinfo=UTC)


async def start(make_bot: Any, make_settings: Any, db_url: str, **engagement: Any) -> Bot:
    settings = council_settings(make_settings, db_url, engagement={"holidays": [], **engagement})
    bot: Bot = await make_bot(settings, clock=FixedClock(SHIFT))
    await import_roster(bot, SHIFT)
    return bot


async def say(bot: Bot, who: str, text: str, group: str | None = None) -> None:
    event = text_event(
        text, sender=who, name=NAMES[who], chat=group, group=group is not None, at=bot.clock.now()
    )
    assert (await bot.deliver(event))[0] == 200
    await bot.drain()


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def count(bot: Bot, model: Any, *where: Any) -> int:
    async with bot.sessions() as s:
        return int(
            (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
        )


async def test_check_ins_once_a_shift_and_chat_replies_capped(
    make_bot: Any, make_settings: Any, db_url: str
) -> None:
    bot = await start(make_bot, make_settings, db_url, max_replies_per_member_per_hour=3)
    # Bình says "có mặt" three times in the morning shift: one record; the repeats are told
    # it was recorded at 07:10 (docs/acks-and-budget.md), within the reply cap.
    for text in ("có mặt", "co mat", "Có mặt ạ"):
        await say(bot, "u2", text, group=MAY)
        bot.clock.advance(timedelta(minutes=5))
    assert await count(bot, CheckIn, CheckIn.kind == "attendance") == 1
    assert (
        said(bot, MAY)[1:]
        == ["Bot đã ghi nhận anh/chị Bình có mặt lúc 07:10 rồi. Cảm ơn anh/chị!"] * 2
    )
    # The afternoon shift (from 14:00) is a new one.
    bot.clock.set(SHIFT + timedelta(hours=7))
    await say(bot, "u2", "có mặt", group=MAY)
    assert await count(bot, CheckIn, CheckIn.kind == "attendance") == 2
    assert len(said(bot, MAY)) == 4

    # Cường reports five patrol rounds in an hour: all recorded, three answered (the cap) ...
    before = len(said(bot, MAY))
    for n in range(5):
        await say(bot, "u3", f"tuần tra vòng {n + 1} khu A bình thường", group=MAY)
        bot.clock.advance(timedelta(minutes=10))
    assert await count(bot, CheckIn, CheckIn.kind == "patrol") == 5
    assert len(said(bot, MAY)) - before == 3
    # ... but his report of a fight is answered whatever the cap says.
    await say(bot, "u3", "Đánh nhau ở cổng số 2", group=MAY)
    assert "SV1" in said(bot, MAY)[-1]


async def test_a_burst_handled_together_counts_the_same(
    make_bot: Any, make_settings: Any, db_url: str
) -> None:
    """The same morning arriving at once (the bot was busy): the events are handled several
    to a slice, whose look-ups are read once (models/prefetch.py), and the rules hold."""
    bot = await start(make_bot, make_settings, db_url, max_replies_per_member_per_hour=3)
    burst = [("u2", "có mặt"), ("u2", "co mat"), ("u2", "Có mặt ạ")]
    burst += [("u3", f"tuần tra vòng {n + 1} khu A bình thường") for n in range(5)]
    for who, text in burst:
        event = text_event(text, sender=who, name=NAMES[who], chat=MAY, group=True, at=SHIFT)
        assert (await bot.deliver(event))[0] == 200
    await bot.drain()
    assert await count(bot, CheckIn, CheckIn.kind == "attendance") == 1
    assert await count(bot, CheckIn, CheckIn.kind == "patrol") == 5
    # Bình's three answers (one record, two "đã ghi nhận … rồi"), and Cường's three (the cap):
    # as when each came alone.
    assert len(said(bot, MAY)) == 3 + 3


async def test_the_months_last_share_is_kept_for_directives_and_alerts(
    make_bot: Any, make_settings: Any, db_url: str
) -> None:
    # 100 a month, 20 reserved: 81 already sent leaves 19, inside the reserved share.
    bot = await start(
        make_bot, make_settings, db_url, monthly_message_budget=100, reserved_budget_fraction=0.2
    )
    async with bot.sessions() as s, s.begin():
        for n in range(81):
            s.add(
                Outbox(
                    chat_id=COUNCIL,
                    kind="reply",
                    priority=10,
                    text="",
                    status="sent",
                    idempotency_key=f"earlier:{n}",
                    attempts=1,
                    next_attempt_at=SHIFT,
                    created_at=SHIFT,
                    sent_at=SHIFT,
                    chunks_sent=1,
                )
            )
    await say(bot, "u2", "có mặt", group=MAY)  # a chat reply: not out of the reserve
    assert said(bot, MAY) == []
    assert await count(bot, CheckIn) == 1  # the check-in itself is recorded
    await say(bot, "u1", "/thongbao Kiểm tra bình chữa cháy trước thứ Sáu", group=MAY)
    assert any("TB1" in t for t in said(bot, MAY))  # the directive goes out
    await say(bot, "u3", "Cháy ở kho vải May Việt", group=MAY)
    assert any("KHẨN" in t for t in said(bot, COUNCIL))  # and the alert
    assert any("SV1" in t for t in said(bot, MAY))  # and the reporter's receipt
