"""Issue 13, intake and processing: what a running `serve` met under attack, replayed
through the webhook (both databases) and the real workers."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from bot.worker import LoopWorker

from models.tables import InboundEvent, Member, Message
from tests.conftest import Bot, sample, text_event


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    return await make_bot(make_settings(db=db_url, platform={"kind": "zalo_bot"}))


async def count(bot: Bot, model: Any, *where: Any) -> int:
    async with bot.sessions() as s:
        return int(
            (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
        )


async def deliver_ascii(bot: Bot, body: Any) -> tuple[int, Any]:
    """As Zalo's JSON encoder would send it: non-ASCII (lone surrogates too) as \\u escapes."""
    return await bot.deliver(None, raw=json.dumps(body).encode())


def nested(depth: int) -> bytes:
    """A text delivery whose `extra` field nests `depth` arrays."""
    body = json.dumps(text_event("có mặt", sender="deep", message_id="deep1"))
    return body[:-1].encode() + b', "extra": ' + b"[" * depth + b"]" * depth + b"}"


# ---------------------------------------------------------------- (2) nesting


@pytest.mark.parametrize("depth", [40, 968, 990, 2_000, 30_000])
async def test_a_deeply_nested_delivery_is_400_and_nothing_is_stored(
    bot: Bot, depth: int
) -> None:
    status, body = await bot.deliver(None, raw=nested(depth))
    assert status == 400
    assert "nested more than 32 levels" in body["error"]
    assert await count(bot, InboundEvent) == 0
    assert await bot.deliver(text_event("có mặt")) == (200, {"ok": True})
    await bot.drain()
    assert await count(bot, InboundEvent, InboundEvent.status == "done") == 1


async def test_nesting_within_the_limit_and_brackets_inside_strings_are_fine(bot: Bot) -> None:
    assert (await bot.deliver(None, raw=nested(20)))[0] == 200
    body = text_event("[" * 500 + "{" * 500)
    assert (await bot.deliver(body))[0] == 200


async def test_a_number_over_4300_digits_is_400_not_503(bot: Bot) -> None:
    raw = json.dumps(text_event("có mặt"))[:-1] + ', "n": ' + "9" * 5000 + "}"
    status, body = await bot.deliver(None, raw=raw.encode())
    assert status == 400
    assert "4300 digits" in body["error"]
    assert await count(bot, InboundEvent) == 0


# ---------------------------------------------------------------- (6) bad ids and names


def with_chat(chat: str) -> dict[str, Any]:
    return text_event("có mặt", chat=chat, group=True)


BAD_IDS = {
    "chat id with a lone surrogate": (with_chat("g\ud800"), "message.chat.id"),
    "sender id with a NUL": (text_event("có mặt", sender="u\x00", chat="c1"), "message.from.id"),
    "message id with a lone surrogate": (text_event("a", message_id="m\udfff"), "message_id"),
    "event name with a lone surrogate": (
        {**text_event("a"), "event_name": "message.text.received\ud83d"},
        "event_name",
    ),
    "event name with a NUL": ({**text_event("a"), "event_name": "x\x00"}, "event_name"),
}


@pytest.mark.parametrize("case", list(BAD_IDS))
async def test_a_bad_id_is_400_for_that_delivery_only_and_its_batch_is_stored(
    bot: Bot, case: str
) -> None:
    bad, where = BAD_IDS[case]
    goods = [text_event(f"có mặt {i}", sender=f"u{i}") for i in range(5)]
    answers = await asyncio.gather(
        *(deliver_ascii(bot, body) for body in [*goods[:2], bad, *goods[2:]])
    )
    statuses = [status for status, _ in answers]
    assert statuses == [200, 200, 400, 200, 200, 200]
    assert where in answers[2][1]["error"]
    assert await count(bot, InboundEvent) == 5
    await bot.drain()
    assert await count(bot, InboundEvent, InboundEvent.status == "done") == 5


# ---------------------------------------------------------------- (7) accepted, then processed


def photo(url: str, name: str = "Nguyễn Văn A", caption: str = "ảnh hiện trường") -> Any:
    body = sample("bot_image_photo_url")
    body["message"]["photo_url"] = url
    body["message"]["from"]["display_name"] = name
    body["message"]["caption"] = caption
    body["message"]["message_id"] = f"p{abs(hash((url, name, caption))):x}"
    return body


DIRTY = {
    "fire report with a lone surrogate": text_event("Cháy kho xưởng B \ud800 cần hỗ trợ"),
    "display name with a lone surrogate": text_event("có mặt", name="Lan \udc00"),
    "display name of 300 characters": text_event("có mặt", name="Trần " * 60),
    "display name with a NUL": text_event("có mặt", name="Lan\x00"),
    "photo_url with a lone surrogate": photo("https://photo-stal-1.zdn.vn/a\ud800.jpg"),
    "photo_url with a NUL": photo("https://photo-stal-1.zdn.vn/a\x00.jpg"),
    "caption with a NUL": photo("https://photo-stal-1.zdn.vn/b.jpg", caption="cháy\x00 kho"),
}


@pytest.mark.parametrize("case", list(DIRTY))
async def test_an_accepted_event_with_dirty_text_is_always_processed(
    bot: Bot, case: str
) -> None:
    assert (await deliver_ascii(bot, DIRTY[case]))[0] == 200
    await bot.drain()
    async with bot.sessions() as s:
        row = (await s.execute(select(InboundEvent))).scalar_one()
        assert (row.status, row.error) == ("done", None)
        message = (await s.execute(select(Message))).scalar_one()
        member = (await s.execute(select(Member))).scalar_one()
    for value in (message.text, message.media_url or "", member.display_name):
        assert "\x00" not in value
        value.encode("utf-8")  # raises if a lone surrogate is left
    assert len(member.display_name) <= 200


async def test_the_fire_report_keeps_its_words_around_the_replaced_character(bot: Bot) -> None:
    assert (await deliver_ascii(bot, DIRTY["fire report with a lone surrogate"]))[0] == 200
    await bot.drain()
    async with bot.sessions() as s:
        message = (await s.execute(select(Message))).scalar_one()
    assert message.text == "Cháy kho xưởng B \ufffd cần hỗ trợ"
    assert message.type == "incident"


# ---------------------------------------------------------------- (2) a poison row


async def poison(bot: Bot, body: dict[str, Any]) -> int:
    """Store `body`, then make its payload one that no JSON decoder can load (as the old
    intake stored a body nested ~970 deep on SQLite)."""
    assert (await bot.deliver(body))[0] == 200
    deep = "[" * 5000 + "]" * 5000
    async with bot.sessions() as s, s.begin():
        row = (await s.execute(select(InboundEvent).order_by(InboundEvent.id.desc()))).scalar()
        assert row is not None
        cast = "CAST(:p AS JSON)" if s.bind.dialect.name == "postgresql" else ":p"
        await s.execute(
            text(f"UPDATE inbound_events SET payload = {cast} WHERE id = :id"),
            {"p": '{"event": ' + deep + "}", "id": row.id},
        )
        return int(row.id)


async def test_a_row_that_cannot_be_loaded_is_counted_and_never_stalls_the_others(
    bot: Bot,
) -> None:
    bad = await poison(bot, text_event("có mặt", sender="u1", chat="g1", group=True))
    for i in range(3):
        await bot.deliver(text_event(f"có mặt {i}", sender=f"u{i + 2}", chat="g1", group=True))
    await bot.deliver(text_event("có mặt", sender="u9"))
    await bot.drain()
    rows = await inbox_state(bot)
    assert [r.status for i, r in sorted(rows.items()) if i != bad] == ["done"] * 4
    assert (rows[bad].status, rows[bad].attempts) == ("pending", 1)
    assert rows[bad].claimed_by is None
    assert "RecursionError" in (rows[bad].error or "")
    for _ in range(4):  # each later try, after its backoff, fails the same way
        bot.clock.advance(timedelta(minutes=31))
        await bot.drain()
    rows = await inbox_state(bot)
    assert (rows[bad].status, rows[bad].attempts) == ("failed", 5)


async def inbox_state(bot: Bot) -> dict[int, Any]:
    """The inbox without its payloads (a poisoned one cannot be loaded)."""
    t = InboundEvent
    query = select(t.id, t.status, t.attempts, t.claimed_by, t.error).order_by(t.id)
    async with bot.sessions() as s:
        return {row.id: row for row in (await s.execute(query)).all()}


async def test_an_event_that_keeps_meeting_a_database_error_backs_off_and_hands_back_its_batch(
    bot: Bot, monkeypatch: Any
) -> None:
    from handlers import registry

    async def disk_error(ctx: Any) -> None:
        raise OperationalError("INSERT ...", {}, Exception("disk I/O error"))

    monkeypatch.setitem(registry.HANDLERS, "command:huongdan", disk_error)
    await bot.deliver(text_event("/huongdan", sender="u1"))
    for i in range(3):
        await bot.deliver(text_event("có mặt", sender=f"u{i + 2}"))
    processor = bot.runtime.processor
    assert await processor.run_once() == 4  # claimed 4; the round ended at the first
    async with bot.sessions() as s:
        rows = list((await s.execute(select(InboundEvent).order_by(InboundEvent.id))).scalars())
    assert (rows[0].status, rows[0].attempts) == ("pending", 1)
    assert "disk I/O error" in (rows[0].error or "")
    assert rows[0].claimed_until is not None and rows[0].claimed_until > bot.clock.now()
    assert [(r.status, r.claimed_by) for r in rows[1:]] == [("pending", None)] * 3
    await bot.drain()
    assert await count(bot, InboundEvent, InboundEvent.status == "done") == 3
    for _ in range(4):
        bot.clock.advance(timedelta(minutes=31))
        await bot.drain()
    async with bot.sessions() as s:
        first = await s.get(InboundEvent, rows[0].id)
    assert first is not None and (first.status, first.attempts) == ("failed", 5)


# ---------------------------------------------------------------- issue 17 item 5: workers


class _Flaky(LoopWorker):
    name = "flaky"

    def __init__(self, error: Exception) -> None:
        super().__init__(asyncio.Event())
        self.error = error
        self.rounds = 0

    async def run_once(self) -> int:
        self.rounds += 1
        if self.rounds == 1:
            raise self.error
        self.stop()
        return 0


async def test_a_bug_in_a_worker_is_logged_with_its_traceback_and_the_worker_goes_on(
    caplog: pytest.LogCaptureFixture, monkeypatch: Any
) -> None:
    monkeypatch.setattr("bot.worker.IDLE_SECONDS", 0)
    worker = _Flaky(KeyError("chat"))
    with caplog.at_level(logging.WARNING, logger="bot.worker"):
        await asyncio.wait_for(worker.run(), 10)
    assert worker.rounds == 2
    (record,) = caplog.records
    assert record.exc_info is not None and record.exc_info[0] is KeyError
    assert "cannot reach the database" not in record.getMessage()


async def test_an_outage_in_a_worker_is_one_line_without_a_traceback(
    caplog: pytest.LogCaptureFixture, monkeypatch: Any
) -> None:
    monkeypatch.setattr("bot.worker.IDLE_SECONDS", 0)
    worker = _Flaky(OperationalError("SELECT 1", {}, Exception("unable to open database")))
    with caplog.at_level(logging.WARNING, logger="bot.worker"):
        await asyncio.wait_for(worker.run(), 10)
    (record,) = caplog.records
    assert record.exc_info is None
    assert "cannot reach the database" in record.getMessage()
