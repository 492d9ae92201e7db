"""An optimistic slice flushes after each event only when the event left changes pending:
a clean session's flush is a greenlet hop that writes nothing (bot/processor.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import bot.processor as processor_module
from models.tables import CheckIn, InboundEvent, Member
from tests.conftest import Bot, text_event
from tests.test_intake import _NullClient

EVENTS = [
    ("tuan", "Trần Văn Tuấn", "g1", "có mặt"),
    ("hoa", "Phạm Thị Hoa", "g2", "Cháy kho B khu công nghiệp, cần hỗ trợ gấp"),
    ("minh", "Đỗ Văn Minh", "g1", "co mat"),
]


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str, monkeypatch: Any) -> Bot:
    monkeypatch.setattr(processor_module, "SLICE_SECONDS", 60.0)  # a loaded machine is slow
    return await make_bot(
        make_settings(db=db_url, platform={"kind": "zalo_bot"}), client=_NullClient()
    )


async def test_no_flush_of_a_clean_session_and_every_event_written(
    bot: Bot, monkeypatch: Any
) -> None:
    for sender, name, chat, text in EVENTS:
        body = text_event(text, sender=sender, name=name, chat=chat, group=True, message_id=sender)
        assert (await bot.deliver(body))[0] == 200
    clean_at_flush: list[bool] = []
    real = AsyncSession.flush

    async def watched(self: AsyncSession, objects: Any = None) -> None:
        clean_at_flush.append(self.sync_session._is_clean())
        await real(self, objects)

    monkeypatch.setattr(AsyncSession, "flush", watched)
    assert await bot.runtime.processor.run_once() == 3
    assert True not in clean_at_flush
    async with bot.sessions() as s:
        statuses = (await s.execute(select(InboundEvent.status))).scalars().all()
        checkins = (await s.execute(select(CheckIn.id))).scalars().all()
        members = (await s.execute(select(Member.member_id).order_by(Member.id))).scalars()
        assert list(members) == ["tuan", "hoa", "minh"]
    assert statuses == ["done"] * 3
    assert len(checkins) == 2
