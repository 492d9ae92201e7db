"""The weekly provincial overview to the province's staff (`province.coordinators`), privately.

Level-triggered like the park digest (handlers/jobs/digest.py): after the installation's
`digest.weekday` + `digest.time`, last week's overview is queued once per recipient under the
keys `province-digest:{chat}:{week}` and `province-digest-photo:{chat}:{week}`. It goes out
as kind `digest`, so the sender holds it in quiet hours and on a low budget like the parks'.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.clock import Clock
from handlers.config import Settings
from handlers.councils import province_ids
from handlers.jobs import every, job
from handlers.jobs.digest import _store_chart, due_week, next_send
from handlers.province import ProvinceDigest, build_province_digest
from handlers.texts import province as texts
from models.db import read_session
from models.outbox import enqueue
from models.people import member_by_platform_id
from models.tables import Outbox

log = logging.getLogger(__name__)


async def province_chats(session: AsyncSession, settings: Settings) -> list[str]:
    """Each province staff member's private chat (or the configured id itself), once."""
    out: list[str] = []
    for ident in province_ids(settings):
        person = await member_by_platform_id(session, ident)
        chat = (person.private_chat_id or ident) if person is not None else ident
        if chat not in out:
            out.append(chat)
    return out


def province_png(digest: ProvinceDigest) -> bytes:
    from handlers.province_chart import render_province_png  # matplotlib only when due

    return render_province_png(digest)


@job(
    "province_digest",
    every(15),
    "gửi tổng hợp toàn tỉnh cho Ban Quản lý (theo digest.weekday, digest.time)",
    next_due=next_send,
    per_council=False,
)
async def province_digest(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
) -> int:
    now = clock.now()
    week = due_week(settings, now)
    if week is None or not province_ids(settings):
        return 0
    # Read and draw without the write lock (as the weekly digest): intake keeps storing.
    async with read_session(sessions) as session:
        chats = await province_chats(session, settings)
        keys = {f"province-digest:{c}:{week}" for c in chats}
        keys |= {f"province-digest-photo:{c}:{week}" for c in chats}
        stmt = select(Outbox.idempotency_key).where(Outbox.idempotency_key.in_(keys))
        done = set((await session.execute(stmt)).scalars())
        todo = [
            c
            for c in chats
            if not {f"province-digest:{c}:{week}", f"province-digest-photo:{c}:{week}"} <= done
        ]
        if not todo:
            return 0
        digest = await build_province_digest(session, settings, week, now)
    text = digest.render_text()
    png = None
    if any(f"province-digest-photo:{c}:{week}" not in done for c in todo):
        try:  # the text goes out even if drawing fails; the next run retries the photo
            png = await asyncio.to_thread(province_png, digest)
        except Exception:
            log.exception("province digest %s: the chart failed", week)
    async with sessions() as session, session.begin():
        url = await _store_chart(session, settings, png, now) if png is not None else None
        queued = 0
        caption = texts.PHOTO_CAPTION.format(num=digest.week_number)
        for chat in todo:
            queued += await _queue(session, chat, f"province-digest:{chat}:{week}", text, now)
            if url is not None:
                key = f"province-digest-photo:{chat}:{week}"
                queued += await _queue(session, chat, key, caption, now, url)
    log.info("province digest %s queued for %d chat(s)", week, len(todo))
    return queued


async def _queue(
    session: AsyncSession,
    chat: str,
    key: str,
    text: str,
    now: datetime,
    photo_url: str | None = None,
) -> int:
    """1 if newly queued, 0 if that key went out before."""
    row = await enqueue(
        session, chat_id=chat, text=text, kind="digest", key=key, now=now, photo_url=photo_url
    )
    return 0 if row is None else 1
