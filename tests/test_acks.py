"""Issue 15, acknowledgements counted against the right people: a directive's day and after.

May Việt's group gets a directive from the coordinator (Quân, who owes no ack himself).
Everything goes through the real webhook, processor, jobs and sender; the `acks` export is
read with the export's own query.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from handlers.clock import FixedClock
from models.engagement import expected_ackers
from models.exports import rows
from models.tables import Ack, Outbox
from tests.conftest import Bot, member_says
from tests.engagement_helpers import MAY, NAMES, council_settings, import_roster

# 09:00 Tuesday 1 Dec 2026 in Hanoi.
MORNING = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    b: Bot = await make_bot(council_settings(make_settings, db_url), clock=FixedClock(MORNING))
    await import_roster(b, MORNING)
    return b


async def say(bot: Bot, who: str, text: str, group: str | None = None, quote: str = "") -> None:
    await member_says(bot, who, NAMES[who], text, group, quote)


def said(bot: Bot, chat: str) -> list[str]:
    return [line.text for line in bot.store.bot_lines(chat)]


async def acks(bot: Bot) -> dict[str, bool]:
    """member id -> late, from the acks export."""
    async with bot.sessions() as s:
        return {r["member_id"]: r["late"] async for r in rows(s, "acks")}


async def test_a_directive_is_owed_by_the_members_and_late_acks_still_count(bot: Bot) -> None:
    # Quân (coordinator, in every group) posts a directive to May Việt's group.
    await say(bot, "u1", "/thongbao Tối nay kiểm tra khóa kho trước 22h", group=MAY)
    async with bot.sessions() as s:
        owed = {m.member_id for m in await expected_ackers(s, 1)}
    assert owed == {"u2", "u3", "u4"}  # not Quân: the author and a coordinator
    directive_msg = bot.store.bot_lines(MAY)[0].message_id

    # "cảm ơn" under the directive acknowledges nothing; "đã nhận" (unaccented) does.
    await say(bot, "u3", "cảm ơn anh", group=MAY, quote=directive_msg)
    await say(bot, "u2", "da nhan a", group=MAY, quote=directive_msg)
    assert await acks(bot) == {"u2": False}
    # The coordinator's own "ok" in private is conversation, not an ack.
    await say(bot, "u1", "ok")
    assert await acks(bot) == {"u2": False}

    # A Hansol guard asks to acknowledge it: it was not sent to his group.
    await say(bot, "u5", "/danhan 1")
    assert said(bot, "u5")[-1] == (
        "Thông báo TB1 không gửi tới nhóm của anh/chị nên anh/chị không cần xác nhận. Cảm ơn!"
    )

    # The deadline passes (24 h): the directive closes with Cường and Dung missing.
    bot.clock.advance(timedelta(hours=24, minutes=1))
    await bot.runtime.run_job("ack_reminders")
    await bot.drain()

    # Dung answers late in private: recorded, late, thanked (never "nothing to acknowledge").
    await say(bot, "u4", "đã nhận")
    assert said(bot, "u4")[-1] == (
        "👍 Cảm ơn anh/chị Dung! Bot đã ghi nhận xác nhận thông báo TB1 (sau hạn)."
    )
    # Cường names it: /danhan on a closed directive is a late ack of that one.
    await say(bot, "u3", "/danhan TB1")
    assert "(sau hạn)" in said(bot, "u3")[-1]
    assert await acks(bot) == {"u2": False, "u4": True, "u3": True}

    # Nothing more is owed: no reminder is waiting for anyone.
    async with bot.sessions() as s:
        waiting = (
            (
                await s.execute(
                    select(Outbox).where(Outbox.kind == "reminder", Outbox.status == "pending")
                )
            )
            .scalars()
            .all()
        )
        assert waiting == []
        assert len((await s.execute(select(Ack))).scalars().all()) == 3


async def test_a_late_ack_withdraws_the_reminder_waiting_for_the_morning(bot: Bot) -> None:
    # Posted at 17:00; the 4-hour reminder falls in the quiet hours and waits for 07:00.
    bot.clock.set(MORNING + timedelta(hours=8))
    await say(bot, "u1", "/thongbao Mai họp giao ban 8h", group=MAY)
    for who in ("u2", "u3", "u4"):
        await say(bot, who, "xin chào")  # each has a private chat with the bot
    bot.clock.advance(timedelta(hours=5))
    await bot.runtime.run_job("ack_reminders")
    async with bot.sessions() as s:
        pending = (
            (
                await s.execute(
                    select(Outbox.member_pk).where(
                        Outbox.kind == "reminder", Outbox.status == "pending"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert len(pending) == 3
    await say(bot, "u3", "đã nhận")
    async with bot.sessions() as s:
        still = (
            (
                await s.execute(
                    select(Outbox).where(Outbox.kind == "reminder", Outbox.status == "pending")
                )
            )
            .scalars()
            .all()
        )
    assert len(still) == 2


async def checkins(bot: Bot) -> list[tuple[str, str]]:
    """(member id, kind) of every check-in recorded."""
    async with bot.sessions() as s:
        return [(r["member_id"], r["kind"]) async for r in rows(s, "checkins")]


async def test_present_and_acknowledging_records_both(bot: Bot) -> None:
    """At 09:00 Quân posts a notice; Bình answers in private "đã có mặt, đã nhận thông báo":
    the notice is acknowledged and her presence is recorded, each receipt sent once."""
    await say(bot, "u1", "/thongbao Tối nay kiểm tra khóa kho trước 22h", group=MAY)
    await say(bot, "u2", "đã có mặt, đã nhận thông báo")
    assert await acks(bot) == {"u2": False}
    assert await checkins(bot) == [("u2", "attendance")]
    lines = said(bot, "u2")
    assert any("xác nhận thông báo TB1" in line for line in lines), lines
    assert any(line.startswith("✅ Đã ghi nhận") and "có mặt" in line for line in lines), lines


async def test_present_and_acknowledging_with_no_notice_open_is_a_check_in(bot: Bot) -> None:
    """With no notice to acknowledge, "da co mat, da nhan thong bao" still says she is here:
    a check-in, not "no notice to acknowledge" and nothing recorded."""
    await say(bot, "u2", "da co mat, da nhan thong bao")
    assert await checkins(bot) == [("u2", "attendance")]
    assert not any("không có thông báo" in line for line in said(bot, "u2")), said(bot, "u2")


async def test_acknowledging_and_coming_at_7_records_no_presence_yet(bot: Bot) -> None:
    """ "đã nhận thông báo, 7h tối em có mặt" at 09:00: acknowledged; presence still to come."""
    await say(bot, "u1", "/thongbao Tối nay kiểm tra khóa kho trước 22h", group=MAY)
    await say(bot, "u3", "đã nhận thông báo, 7h tối em có mặt")
    assert await acks(bot) == {"u3": False}
    assert await checkins(bot) == []
    assert len(said(bot, "u3")) == 1, said(bot, "u3")
