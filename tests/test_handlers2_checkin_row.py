"""A check-in is written by one Core INSERT of the values an ORM row would have had, and
leaves no ORM row in the session (nothing in the event reads it back)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

import bot.processor as processor_module
import handlers.intents.checkins as checkins
from handlers.clock import FixedClock
from models.tables import CheckIn, Message
from tests.conftest import text_event
from tests.test_councils_e2e import NAMES, TUESDAY, two_parks


async def test_a_check_in_row_keeps_its_park_message_and_note(
    make_bot: Any, db_url: str, monkeypatch: Any
) -> None:
    """Chị Lan checks in, then starts her shift, at Bình Xuyên's council: two rows with the
    park's council, their messages, kinds, notes and send time."""
    monkeypatch.setattr(processor_module, "SLICE_SECONDS", 60.0)  # one slice on a slow machine
    in_session: list[int] = []
    real = checkins.chat_reply

    async def spy(ctx: Any, text: str, **extra: Any) -> Any:
        in_session.append(sum(isinstance(o, CheckIn) for o in ctx.session.sync_session))
        return await real(ctx, text, **extra)

    monkeypatch.setattr(checkins, "chat_reply", spy)
    bot = await make_bot(two_parks(db_url), clock=FixedClock(TUESDAY))
    lan, who = "u_bx_lan", NAMES["u_bx_lan"]
    for text in ("có mặt", "đã vào ca sáng"):
        body = text_event(text, sender=lan, name=who, chat="g_bx_council", group=True, at=TUESDAY)
        assert (await bot.deliver(body))[0] == 200
    assert await bot.runtime.processor.run_once() == 2
    assert in_session == [0, 0]
    async with bot.sessions() as s:
        rows = list((await s.execute(select(CheckIn).order_by(CheckIn.id))).scalars())
        messages = list((await s.execute(select(Message).order_by(Message.id))).scalars())
    assert [(r.kind, r.note, r.chat_id, r.council_id, r.at) for r in rows] == [
        ("attendance", "có mặt", "g_bx_council", "binh-xuyen", TUESDAY),
        ("shift", "đã vào ca sáng", "g_bx_council", "binh-xuyen", TUESDAY),
    ]
    assert [r.message_pk for r in rows] == [m.id for m in messages]
    assert len({r.member_pk for r in rows}) == 1
