"""Rows a slice read but did not reach are read again by the next slice: their payload is
decoded once (bot/processor.py `_unreached`), and they are handled as before."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

import bot.processor as processor_module
from models.tables import CheckIn, InboundEvent
from tests.conftest import Bot, text_event
from tests.test_intake import _NullClient

EVENTS = [
    ("tuan", "Trần Văn Tuấn", "g1", "có mặt"),
    ("hoa", "Phạm Thị Hoa", "g2", "có mặt"),
    ("minh", "Đỗ Văn Minh", "g1", "co mat"),
]


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str, monkeypatch: Any) -> Bot:
    # Every slice ends after its first event: the rows it read after it are not reached.
    monkeypatch.setattr(processor_module, "SLICE_SECONDS", -1.0)
    return await make_bot(
        make_settings(db=db_url, platform={"kind": "zalo_bot"}), client=_NullClient()
    )


async def test_rows_not_reached_are_decoded_once_and_handled(bot: Bot, monkeypatch: Any) -> None:
    for sender, name, chat, text in EVENTS:
        body = text_event(text, sender=sender, name=name, chat=chat, group=True, message_id=sender)
        assert (await bot.deliver(body))[0] == 200
    decoded: list[str] = []
    real = processor_module.event_from_stored

    def counting(data: dict[str, Any], raw: Any) -> Any:
        decoded.append(data["message_id"])
        return real(data, raw)

    monkeypatch.setattr(processor_module, "event_from_stored", counting)
    assert await bot.runtime.processor.run_once() == 3
    assert sorted(decoded) == ["hoa", "minh", "tuan"]  # one slice each, one decoding each
    async with bot.sessions() as s:
        statuses = (await s.execute(select(InboundEvent.status))).scalars().all()
        checkins = (await s.execute(select(CheckIn.id))).scalars().all()
    assert statuses == ["done"] * 3
    assert len(checkins) == 3
    assert bot.runtime.processor._unreached == {}  # nothing left over once all are reached


async def test_a_changed_payload_is_decoded_again(bot: Bot) -> None:
    """A kept row whose stored payload is not the one read again is not taken from before."""
    processor = bot.runtime.processor
    stale = processor_module._Stored(1, '{"event": {}}', processor._clock.now())
    processor._unreached = {1: stale}
    body = text_event("có mặt", sender="tuan", name="Trần Văn Tuấn", chat="g1", group=True)
    assert (await bot.deliver(body))[0] == 200
    assert await processor.run_once() == 1
    async with bot.sessions() as s:
        statuses = (await s.execute(select(InboundEvent.status))).scalars().all()
    assert statuses == ["done"]
