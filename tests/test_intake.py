"""The webhook end to end through HTTP: answers, what is stored, what is processed once."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from typing import Any

import pytest
from sqlalchemy import func, select

from models.tables import InboundEvent, Member, Message, Outbox
from tests.conftest import SECRET, Bot, sample, text_event


@pytest.fixture
async def bot(make_bot: Any, make_settings: Any, db_url: str) -> Bot:
    return await make_bot(
        make_settings(db=db_url, platform={"kind": "zalo_bot"}), client=_NullClient()
    )


class _NullClient:
    """Records sends; these tests look at storage, the sender has its own tests."""

    name = "null"

    def __init__(self) -> None:
        self.sent: list[Any] = []

    async def send(self, message: Any) -> Any:
        from bot.platforms.base import SendResult

        self.sent.append(message)
        return SendResult(message_ids=(f"out{len(self.sent)}",))

    async def close(self) -> None:
        return None


async def count(bot: Bot, model: Any, *where: Any) -> int:
    async with bot.sessions() as s:
        return int(
            (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
        )


async def test_official_and_real_capture_samples_are_stored_and_processed(bot: Bot) -> None:
    for name in (
        "bot_official_text",
        "bot_bare_text_capture",
        "bot_old_first_name",
        "bot_group_mention",
    ):
        status, body = await bot.deliver(sample(name))
        assert (status, body) == (200, {"ok": True}), name
    assert await count(bot, InboundEvent) == 4
    await bot.drain()
    assert await count(bot, InboundEvent, InboundEvent.status == "done") == 4
    async with bot.sessions() as s:
        msgs = {m.message_id: m for m in (await s.execute(select(Message))).scalars()}
        names = {m.member_id: m.display_name for m in (await s.execute(select(Member))).scalars()}
    assert msgs["m1a2b3c4d5e6f7081920"].text == "có mặt"
    assert msgs["g2a2b3c4d5e6f7081920"].chat_type == "group"
    assert names["e4ea2cd5189df1c3a88c"] == "Nguyen Van A"  # old sample's first_name
    # ids stay strings, date in milliseconds
    assert msgs["2d758cb5e222177a4e35"].sent_at.year == 2025


async def test_image_voice_and_unsupported_events(bot: Bot) -> None:
    for name in ("bot_image_photo_url", "bot_voice", "bot_unsupported"):
        assert (await bot.deliver(sample(name)))[0] == 200
    await bot.drain()
    async with bot.sessions() as s:
        rows = {m.kind: m for m in (await s.execute(select(Message))).scalars()}
    assert rows["image"].media_url == "https://photo-stal-1.zdn.vn/example.jpg"
    assert rows["image"].text == "ảnh hiện trường"
    assert rows["voice"].media_url.endswith(".aac")
    assert "unsupported" in rows


async def test_photo_field_from_the_docs_is_read_too(bot: Bot) -> None:
    body = sample("bot_image_photo_url")
    body["message"]["photo"] = body["message"].pop("photo_url")
    assert (await bot.deliver(body))[0] == 200
    await bot.drain()
    async with bot.sessions() as s:
        msg = (await s.execute(select(Message))).scalar_one()
    assert msg.media_url == "https://photo-stal-1.zdn.vn/example.jpg"


async def test_redelivery_is_answered_200_and_processed_once(bot: Bot) -> None:
    body = text_event("/huongdan", message_id="dup00000000000000001")
    assert await bot.deliver(body) == (200, {"ok": True})
    await bot.drain()
    assert await bot.deliver(body) == (200, {"ok": True, "duplicate": True})
    await bot.drain()
    assert await count(bot, InboundEvent) == 1
    assert await count(bot, Message) == 1
    # The help text, and the one-time note to a sender who is not on the roster.
    assert await count(bot, Outbox) == 2
    assert await count(bot, Outbox, Outbox.idempotency_key.like("welcome-guest:%")) == 1


async def test_three_concurrent_copies_are_stored_once(bot: Bot) -> None:
    body = text_event("có mặt", message_id="dup00000000000000002")
    results = await asyncio.gather(*(bot.deliver(body) for _ in range(3)))
    assert all(status == 200 for status, _ in results)
    assert sum(1 for _, b in results if b.get("duplicate")) == 2
    assert await count(bot, InboundEvent) == 1


async def test_a_batch_mixing_new_deliveries_and_redeliveries_stores_each_once(
    bot: Bot,
) -> None:
    old = [text_event("có mặt", message_id=f"old{i:017d}") for i in range(3)]
    for body in old:
        assert (await bot.deliver(body))[0] == 200
    new = [text_event("có mặt", message_id=f"new{i:017d}") for i in range(5)]
    # Delivered together, so that the inbox writer commits them in one batch.
    results = await asyncio.gather(*(bot.deliver(b) for b in [*new, *old, new[0]]))
    assert all(status == 200 for status, _ in results)
    duplicates = [bool(b.get("duplicate")) for _, b in results]
    assert duplicates[1:5] == [False] * 4 and duplicates[5:8] == [True] * 3
    assert duplicates[0] + duplicates[8] == 1  # two copies of new[0]: one is the duplicate
    assert await count(bot, InboundEvent) == 8


async def test_unknown_event_name_is_stored_and_acknowledged(bot: Bot) -> None:
    body = {
        "event_name": "message.reaction.received",
        "message": {"message_id": "r1", "from": {"id": "u9"}, "chat": {"id": "u9"}},
    }
    assert await bot.deliver(body) == (200, {"ok": True})
    await bot.drain()
    async with bot.sessions() as s:
        row = (await s.execute(select(InboundEvent))).scalar_one()
    assert row.event_name == "message.reaction.received"
    assert row.status == "done"


async def test_bot_senders_are_stored_but_not_processed(bot: Bot) -> None:
    body = text_event("/huongdan")
    body["message"]["from"]["is_bot"] = True
    assert (await bot.deliver(body))[0] == 200
    await bot.drain()
    assert await count(bot, InboundEvent, InboundEvent.status == "ignored") == 1
    assert await count(bot, Message) == 0
    assert await count(bot, Outbox) == 0


@pytest.mark.parametrize("secret", [None, "wrong", "", SECRET + "x", "é"])
async def test_wrong_or_missing_secret_is_401_and_nothing_stored(
    bot: Bot, secret: str | None
) -> None:
    status, body = await bot.deliver(text_event("có mặt"), secret=secret)
    assert status == 401
    assert body["ok"] is False and "X-Bot-Api-Secret-Token" in body["error"]
    assert await count(bot, InboundEvent) == 0


async def test_bodies_over_the_limit_are_413(bot: Bot) -> None:
    status, body = await bot.deliver(None, raw=b'{"event_name": "' + b"x" * 2_000_000 + b'"}')
    assert status == 413
    assert body["ok"] is False
    huge_text = text_event("a" * 70_000)
    assert (await bot.deliver(huge_text))[0] == 413
    assert await count(bot, InboundEvent) == 0


async def test_large_text_under_the_limit_is_kept_whole(bot: Bot) -> None:
    text = "Báo cáo ca trực: " + "bình thường. " * 3000
    assert (await bot.deliver(text_event(text)))[0] == 200
    await bot.drain()
    async with bot.sessions() as s:
        assert (await s.execute(select(Message.text))).scalar_one() == text


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[1, 2, 3]",
        b'"text"',
        b"null",
        b"42",
        b'{"event_name": 5}',
        b'{"message": {}}',
        b"\xff\xfe\x00",
        b'{"event_name": "message.text.received"}',
        b'{"event_name": "message.text.received", "message": {"from": {"id": []}}}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
)
async def test_invalid_bodies_are_400_never_500(bot: Bot, raw: bytes) -> None:
    status, body = await bot.deliver(None, raw=raw[:60_000])
    assert status == 400, body
    assert body["ok"] is False and body["error"]
    assert await count(bot, InboundEvent) == 0


async def test_empty_body_is_200(bot: Bot) -> None:
    async with bot.http.post(
        "/webhook/zalo-bot", data=b"", headers={"X-Bot-Api-Secret-Token": SECRET}
    ) as resp:
        assert resp.status == 200
    assert await count(bot, InboundEvent) == 0


async def test_wrong_method_is_405(bot: Bot) -> None:
    async with bot.http.get("/webhook/zalo-bot") as resp:
        assert resp.status == 405
        assert (await resp.json())["ok"] is False


async def test_nfd_text_is_kept_raw_and_understood_like_nfc(bot: Bot) -> None:
    nfd = unicodedata.normalize("NFD", "Có mặt")
    await bot.deliver(text_event(nfd, message_id="nfd0000000000000001"))
    await bot.deliver(text_event("Có mặt", message_id="nfc0000000000000001"))
    await bot.drain()
    async with bot.sessions() as s:
        rows = {m.message_id: m for m in (await s.execute(select(Message))).scalars()}
    assert rows["nfd0000000000000001"].text == nfd  # raw kept as sent
    assert rows["nfd0000000000000001"].type == rows["nfc0000000000000001"].type


async def test_date_in_seconds_is_accepted(bot: Bot) -> None:
    body = text_event("có mặt")
    body["message"]["date"] = 1789033572
    assert (await bot.deliver(body))[0] == 200
    await bot.drain()
    async with bot.sessions() as s:
        assert (await s.execute(select(Message.sent_at))).scalar_one().year == 2026


async def test_numeric_ids_are_kept_as_strings(bot: Bot) -> None:
    body = text_event("có mặt")
    body["message"]["from"]["id"] = 9007199254740993123
    body["message"]["chat"]["id"] = 9007199254740993123
    assert (await bot.deliver(body))[0] == 200
    await bot.drain()
    async with bot.sessions() as s:
        assert (await s.execute(select(Message.member_id))).scalar_one() == "9007199254740993123"


async def test_help_command_is_answered_in_vietnamese(bot: Bot) -> None:
    await bot.deliver(text_event("/huongdan"))
    await bot.drain()
    async with bot.sessions() as s:
        out = (
            (
                await s.execute(
                    select(Outbox).where(Outbox.kind == "reply").order_by(Outbox.id.desc())
                )
            )
            .scalars()
            .first()
        )
    assert out is not None and out.status == "sent"
    assert "Báo sự việc" in out.text


async def test_healthz_and_metrics(bot: Bot) -> None:
    async with bot.http.get("/healthz") as resp:
        assert resp.status == 200
        assert (await resp.json())["status"] == "ok"
    await bot.deliver(text_event("có mặt"))
    await bot.deliver(text_event("x"), secret="bad")
    async with bot.http.get("/metrics") as resp:
        text = await resp.text()
    assert 'antt_events_received_total{platform="zalo_bot"} 1.0' in text
    assert 'antt_events_rejected_total{platform="zalo_bot",reason="secret"} 1.0' in text


async def test_a_failing_event_is_recorded_and_does_not_stop_the_worker(
    bot: Bot, monkeypatch: Any
) -> None:
    import handlers.intents.basic as basic

    async def boom(ctx: Any) -> None:
        raise RuntimeError("handler bug")

    monkeypatch.setitem(__import__("handlers.registry").registry.HANDLERS, "command:huongdan", boom)
    await bot.deliver(text_event("/huongdan"))
    await bot.deliver(text_event("có mặt"))
    await bot.drain()
    async with bot.sessions() as s:
        rows = list((await s.execute(select(InboundEvent).order_by(InboundEvent.id))).scalars())
    assert rows[0].status == "pending" and "handler bug" in (rows[0].error or "")
    assert rows[1].status == "done"
    assert basic is not None


def test_payload_roundtrip_is_json() -> None:
    assert json.loads(json.dumps(sample("bot_official_text")))


async def test_a_body_arriving_in_pieces_is_read_whole(bot: Bot) -> None:
    """Proxies and slow links split bodies; a partial read would turn a delivery into a 400."""
    body = json.dumps(text_event("Báo cáo: " + "tuần tra bình thường. " * 200)).encode()
    host, port = bot.http.server.host, bot.http.server.port
    reader, writer = await asyncio.open_connection(host, port)
    head = (
        f"POST /webhook/zalo-bot HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"X-Bot-Api-Secret-Token: {SECRET}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    writer.write(head + body[:1000])
    await writer.drain()
    await asyncio.sleep(0.2)
    writer.write(body[1000:])
    await writer.drain()
    answer = await reader.read()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert await count(bot, InboundEvent) == 1


async def test_a_nul_character_does_not_fail_the_event(bot: Bot) -> None:
    assert (await bot.deliver(text_event("có\x00 mặt")))[0] == 200
    await bot.drain()
    async with bot.sessions() as s:
        assert (await s.execute(select(Message.text))).scalar_one() == "có mặt"
        assert (await s.execute(select(InboundEvent.status))).scalar_one() == "done"
