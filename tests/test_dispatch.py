"""Routing rules that no single platform shows: presence events, mentions, guests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot import keys
from handlers.dispatch import handle_event, strip_bot_mention
from handlers.events import InboundEvent
from models.tables import Group, Member, Membership, Message
from tests.conftest import T0, Bot


def event(
    kind: str, *, chat: str = "g1", chat_type: str = "group", key: str = "e1"
) -> InboundEvent:
    return InboundEvent(
        platform="zalo_oa",
        event_name=f"x_{kind}",
        event_key=key,
        message_id=key,
        chat_id=chat,
        chat_type=chat_type,  # type: ignore[arg-type]
        sender_id="m1",
        sender_name="Trần Thị Bình",
        sent_at=T0,
        kind=kind,
    )  # type: ignore[arg-type]


async def test_receipts_and_joins_are_activity_and_leaving_ends_membership(
    make_bot: Any, make_settings: Any, sqlite_url: str
) -> None:
    bot: Bot = await make_bot(make_settings(db=sqlite_url))
    settings, clock = bot.app[keys.SETTINGS], bot.clock
    async with bot.sessions() as s, s.begin():
        assert await handle_event(s, settings, clock, event("join", key="j")) is None
    clock.advance(timedelta(hours=1))
    async with bot.sessions() as s, s.begin():
        await handle_event(s, settings, clock, event("receipt", key="r"))
    async with bot.sessions() as s:
        member = (await s.execute(select(Member))).scalar_one()
        assert member.last_active_at == T0  # the event's own time
        assert (await s.execute(select(func.count()).select_from(Membership))).scalar_one() == 1
        assert (await s.execute(select(func.count()).select_from(Message))).scalar_one() == 0
    async with bot.sessions() as s, s.begin():
        await handle_event(s, settings, clock, event("leave", key="l"))
    async with bot.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(Membership))).scalar_one() == 0
        assert (await s.execute(select(Group.chat_id))).scalar_one() == "g1"


async def test_follow_events_are_not_handled(
    make_bot: Any, make_settings: Any, sqlite_url: str
) -> None:
    bot: Bot = await make_bot(make_settings(db=sqlite_url))
    async with bot.sessions() as s, s.begin():
        assert await handle_event(s, bot.app[keys.SETTINGS], bot.clock, event("follow")) is None
        assert (await s.execute(select(func.count()).select_from(Member))).scalar_one() == 0


def test_bot_mention_is_stripped_with_or_without_diacritics() -> None:
    assert strip_bot_mention("@Bot ANTT đã nhận", "Bot ANTT") == "đã nhận"
    assert strip_bot_mention("  @bot antt, có mặt", "Bot ANTT") == "có mặt"
    assert strip_bot_mention("@Bot ANTT: /diemdanh", "Bot ANTT") == "/diemdanh"
    assert strip_bot_mention("@Trợ lý An ninh có mặt", "Trợ lý An ninh") == "có mặt"
    assert strip_bot_mention("@Tro ly An ninh có mặt", "Trợ lý An ninh") == "có mặt"
    assert strip_bot_mention("@Bình nhớ nhé", "Bot ANTT") == "@Bình nhớ nhé"
    assert strip_bot_mention("email@Bot ANTT", "Bot ANTT") == "email@Bot ANTT"


async def test_unclear_private_messages_get_one_hint_a_day_and_groups_stay_quiet(
    make_bot: Any, make_settings: Any, sqlite_url: str
) -> None:
    from tests.conftest import text_event

    bot: Bot = await make_bot(make_settings(db=sqlite_url))
    for text in ("xin chào", "cảm ơn nhé"):
        await bot.deliver(text_event(text, sender="m9"))
    await bot.deliver(text_event("@Bot ANTT hôm nay trời đẹp", sender="m9", chat="g1", group=True))
    await bot.drain()
    hints = [x.text for x in bot.store.bot_lines("m9") if "gõ /huongdan" in x.text]
    assert len(hints) == 1
    assert bot.store.bot_lines("g1") == []
    bot.clock.advance(timedelta(days=1))
    await bot.deliver(text_event("alo", sender="m9", at=bot.clock.now()))
    await bot.drain()
    assert len([x for x in bot.store.bot_lines("m9") if "gõ /huongdan" in x.text]) == 2
