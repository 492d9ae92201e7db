"""The honour board: on the 1st, last month's commendations go to the council groups."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.clock import Clock
from handlers.config import Settings, parse_hhmm
from handlers.councils import own
from handlers.honour_board import board_text, previous_month
from handlers.jobs import job
from models.honour import commendations, month_span
from models.outbox import enqueue
from models.tables import Group


def _on_the_first(settings: Settings) -> dict[str, Any]:
    at = parse_hhmm(settings.digest.time)
    return {"trigger": "cron", "day": 1, "hour": at.hour, "minute": at.minute}


@job("honour_board", _on_the_first, "bảng vinh danh gương người tốt, việc tốt (ngày 1 hằng tháng)")
async def honour_board(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
) -> int:
    """Last month's board, once per council group; a month with no commendation sends nothing."""
    now, tz = clock.now(), settings.tz
    month = previous_month(now.astimezone(tz).date())
    start, end = month_span(month, tz)
    queued = 0
    async with sessions() as session, session.begin():
        lines = await commendations(session, start, end, tz)  # the session's council's
        if not lines:
            return 0
        text = board_text(month, lines, tz)
        chats = (
            await session.execute(
                select(Group.chat_id)
                .where(Group.kind == "council", *own(Group, settings))
                .order_by(Group.id)
            )
        ).scalars()
        for chat in chats:
            out = await enqueue(
                session,
                chat_id=chat,
                text=text,
                kind="digest",
                now=now,
                key=f"honour-board:{month:%Y-%m}:{chat}",
            )
            queued += out is not None
    return queued
