"""Issue 13, intake and processing: what a running `serve` met under attack, replayed
through the webhook (both databases) and the real workers."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import os
import resource
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from bot import keys
from bot import processor as processor_module
from bot.app import create_app
from bot.background import TASK_STATES, add_background_task
from bot.connections import GUARDS, start_server
from bot.worker import LoopWorker
from handlers.clock import FixedClock
from models.db import make_engine, upgrade
from models.tables import InboundEvent, Member, Message, Outbox
from tests.conftest import SECRET, T0, Bot, sample, text_event


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
async def test_a_deeply_nested_delivery_is_400_and_nothing_is_stored(bot: Bot, depth: int) -> None:
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
async def test_an_accepted_event_with_dirty_text_is_always_processed(bot: Bot, case: str) -> None:
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


# ---------------------------------------------------------------- (9) /healthz tells the truth


async def healthz(bot: Bot) -> tuple[int, dict[str, Any]]:
    async with bot.http.get("/healthz") as resp:
        return resp.status, await resp.json()


def failing(body: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["reason"] for c in body["checks"] if not c["ok"]}


async def test_healthz_lists_named_checks(bot: Bot) -> None:
    status, body = await healthz(bot)
    assert status == 200 and body["status"] == "ok" and body["database"] == "ok"
    names = [c["name"] for c in body["checks"]]
    assert names[:2] == ["database", "intake"] and "failed_events" in names
    assert all(c["ok"] for c in body["checks"])


async def test_a_read_only_database_file_makes_healthz_503_with_the_reason(
    make_bot: Any, make_settings: Any, tmp_path: Any
) -> None:
    path = tmp_path / "antt.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    await engine.dispose()
    # As a file the process may read but not write: SELECT 1 still answers.
    url = f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"
    bot = await make_bot(make_settings(db=url, platform={"kind": "zalo_bot"}))
    assert (await bot.deliver(text_event("có mặt")))[0] == 503
    status, body = await healthz(bot)
    assert status == 503 and body["status"] == "unavailable"
    assert "readonly database" in failing(body)["intake"]
    assert body["database"] == "ok"


async def test_a_hung_processor_makes_healthz_503_until_it_moves_again(
    make_bot: Any, make_settings: Any, db_url: str, monkeypatch: Any
) -> None:
    from handlers import registry

    entered, release = asyncio.Event(), asyncio.Event()

    async def hangs(ctx: Any) -> None:
        entered.set()
        await release.wait()

    monkeypatch.setitem(registry.HANDLERS, "command:huongdan", hangs)
    bot = await make_bot(make_settings(db=db_url, platform={"kind": "zalo_bot"}))
    runtime = bot.runtime
    runtime.start_workers()  # as `serve` runs them
    try:
        assert (await bot.deliver(text_event("/huongdan")))[0] == 200
        await asyncio.wait_for(entered.wait(), 10)
        # Busy, not stalled. (On SQLite the hung transaction holds the one write lock, so
        # the database check times out too: rightly, as deliveries would wait as well.)
        assert "processor" not in failing((await healthz(bot))[1])
        bot.clock.advance(timedelta(minutes=3))
        status, body = await healthz(bot)
        assert status == 503
        assert "no round finished since" in failing(body)["processor"]
        release.set()
        await asyncio.wait_for(runtime.processor.idle.wait(), 10)
        status, body = await healthz(bot)
        assert (status, failing(body)) == (200, {})
    finally:
        release.set()
        await runtime.stop_workers()


async def test_failed_events_show_on_healthz_and_metrics_without_failing_it(bot: Bot) -> None:
    await poison(bot, text_event("Cháy kho B", chat="g1", group=True))
    await bot.deliver(text_event("có mặt", sender="u2"))
    async with bot.http.get("/metrics") as resp:
        assert "antt_inbox_pending 2.0" in await resp.text()
    for _ in range(5):
        await bot.drain()
        bot.clock.advance(timedelta(minutes=31))
    status, body = await healthz(bot)
    assert (status, body["status"]) == (200, "degraded")
    assert "1 event(s) failed" in failing(body)["failed_events"]
    async with bot.http.get("/metrics") as resp:
        metrics = await resp.text()
    assert "antt_inbox_failed 1.0" in metrics
    assert "antt_inbox_pending 0.0" in metrics


# ---------------------------------------------------------------- issue 17 item 5: supervision


def fragile_task(calls: list[int], crashed: asyncio.Event, again: asyncio.Event) -> Any:
    """A background task that crashes on its first run and runs for ever on the next."""

    async def fragile(app: web.Application) -> None:
        calls.append(1)
        if len(calls) == 1:
            crashed.set()
            raise ValueError("bad state")
        again.set()
        await asyncio.Event().wait()

    return fragile


async def start_with_fragile(make_settings: Any, url: str, *events: Any) -> Any:
    app = create_app(make_settings(db=url), clock=FixedClock(T0), workers=False)
    add_background_task(app, "fragile", fragile_task(*events))
    return app


async def test_a_crashed_background_task_shows_on_healthz_while_it_is_down(
    make_settings: Any, sqlite_url: str, monkeypatch: Any
) -> None:
    monkeypatch.setattr("bot.background.FIRST_RESTART_SECONDS", 3600)
    calls: list[int] = []
    crashed = asyncio.Event()
    app = await start_with_fragile(make_settings, sqlite_url, calls, crashed, asyncio.Event())
    async with TestClient(TestServer(app, port=0)) as client:
        await asyncio.wait_for(crashed.wait(), 10)
        state = app[TASK_STATES]["fragile"]
        for _ in range(100):  # the supervisor records the crash on its next turn
            if not state.running:
                break
            await asyncio.sleep(0)
        async with client.get("/healthz") as resp:
            assert resp.status == 503
            reason = failing(await resp.json())["background"]
    assert "fragile crashed (ValueError: bad state), restarting" in reason


async def test_a_crashed_background_task_is_logged_with_its_traceback_and_started_again(
    make_settings: Any, sqlite_url: str, monkeypatch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("bot.background.FIRST_RESTART_SECONDS", 0)
    calls: list[int] = []
    again = asyncio.Event()
    app = await start_with_fragile(make_settings, sqlite_url, calls, asyncio.Event(), again)
    async with TestClient(TestServer(app, port=0)) as client:
        await asyncio.wait_for(again.wait(), 10)
        async with client.get("/healthz") as resp:
            assert resp.status == 200
    assert len(calls) == 2
    crash = [r for r in caplog.records if "fragile crashed" in r.getMessage()]
    assert crash and crash[0].exc_info is not None


# ---------------------------------------------------------------- (7) the failed-events commands


def cli(*args: str, cwd: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )


async def test_events_failed_lists_them_and_events_retry_queues_one_again(
    make_bot: Any, make_settings: Any, tmp_path: Path
) -> None:
    (tmp_path / "config.yaml").write_text(
        "database:\n  url: sqlite+aiosqlite:///antt.db\nengagement:\n  holidays: []\n",
        encoding="utf-8",
    )
    bot = await make_bot(make_settings(db=f"sqlite+aiosqlite:///{tmp_path / 'antt.db'}"))
    bad = await poison(bot, text_event("có mặt", chat="g1", group=True))
    assert (await bot.deliver(text_event("Cháy kho xưởng B", message_id="fire1")))[0] == 200
    async with bot.sessions() as s, s.begin():  # a fire report that failed 5 times
        fire = (await s.execute(select(InboundEvent).where(InboundEvent.id > bad))).scalar_one()
        fire.status, fire.attempts, fire.error = "failed", 5, "RuntimeError: handler bug"
        fire_id = fire.id
    for _ in range(5):
        await bot.drain()
        bot.clock.advance(timedelta(minutes=31))

    listing = await asyncio.to_thread(cli, "events", "failed", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    assert "RecursionError" in listing.stdout and "Cháy kho xưởng B" in listing.stdout
    assert "2 failed" in listing.stdout
    rows = [
        json.loads(line)
        for line in (
            await asyncio.to_thread(cli, "events", "failed", "--format", "jsonl", cwd=tmp_path)
        ).stdout.splitlines()
    ]
    assert [(r["id"], r["attempts"]) for r in rows] == [(bad, 5), (fire_id, 5)]
    assert rows[0]["text"] is None and rows[1]["text"] == "Cháy kho xưởng B"

    retry = await asyncio.to_thread(cli, "events", "retry", str(fire_id), cwd=tmp_path)
    assert retry.returncode == 0, retry.stderr
    again = await asyncio.to_thread(cli, "events", "retry", str(fire_id), cwd=tmp_path)
    assert again.returncode == 2 and "pending, not failed" in again.stderr
    missing = await asyncio.to_thread(cli, "events", "retry", "999", cwd=tmp_path)
    assert missing.returncode == 2 and "no event with id 999" in missing.stderr
    await bot.drain()
    rows_now = await inbox_state(bot)
    assert (rows_now[fire_id].status, rows_now[fire_id].attempts) == ("done", 1)
    assert rows_now[bad].status == "failed"


# ---------------------------------------------------------------- (8) slow and idle clients


@contextlib.asynccontextmanager
async def guarded_server(
    make_settings: Any, db: str, **server: Any
) -> AsyncIterator[tuple[web.Application, int]]:
    """The app as `serve` runs it (bot/connections.py), on a free port."""
    settings = make_settings(db=db, platform={"kind": "zalo_bot"}, server=server)
    app = create_app(settings, clock=FixedClock(T0), workers=False)
    runner, port = await start_server(app, "127.0.0.1", 0)
    try:
        yield app, port
    finally:
        await runner.cleanup()


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    """What the server sent before closing; fails the test if it never closes."""
    return await asyncio.wait_for(reader.read(), timeout=15)


async def test_a_client_slow_with_its_headers_is_cut_off(
    make_settings: Any, sqlite_url: str
) -> None:
    async with guarded_server(make_settings, sqlite_url, header_timeout_seconds=0.2) as (_, port):
        silent = await asyncio.open_connection("127.0.0.1", port)
        partial = await asyncio.open_connection("127.0.0.1", port)
        partial[1].write(b"POST /webhook/zalo-bot HTTP/1.1\r\nHost: x\r\nContent-Ty")
        for reader, writer in (silent, partial):
            assert (await read_until_closed(reader)).startswith(b"HTTP/1.1 408")
            writer.close()
        metrics, scrapes_cut = await scrape_metrics(port)
    cut = 2 + scrapes_cut  # the two slow clients, and any scrape of ours cut off too
    assert f'antt_connections_cut_total{{reason="header_timeout"}} {cut}.0' in metrics


async def scrape_metrics(port: int) -> tuple[str, int]:
    """/metrics and how many tries were cut off first: with a 0.2 s header timeout, a
    machine busy enough can keep the test's own client from sending its headers in time."""
    async with aiohttp.ClientSession() as http:
        for cut in range(3):
            async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                if resp.status != 408:
                    assert resp.status == 200
                    return await resp.text(), cut
    raise AssertionError("every scrape of /metrics was cut off")


async def test_a_client_slow_with_its_body_is_cut_off_and_nothing_is_stored(
    make_settings: Any, sqlite_url: str
) -> None:
    async with guarded_server(make_settings, sqlite_url, body_timeout_seconds=0.2) as (app, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /webhook/zalo-bot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"X-Bot-Api-Secret-Token: {SECRET}\r\nContent-Length: 400\r\n\r\n".encode()
            + b'{"event_name": "message.text.received", '
        )
        answer = await read_until_closed(reader)
        writer.close()
        assert not answer.startswith(b"HTTP/1.1 200")
        async with app[keys.SESSIONS]() as s:
            stored = (await s.execute(select(func.count()).select_from(InboundEvent))).scalar()
    assert stored == 0


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_corrupt_compressed_body_is_400_with_its_reason(
    make_settings: Any, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A body that says gzip but is not is the sender's fault: 400 (a 503 would have Zalo
    redeliver it for ever) and no traceback; a real gzip body is read as usual."""
    headers = {"Content-Encoding": "gzip", "X-Bot-Api-Secret-Token": SECRET}
    url = "/webhook/zalo-bot"
    good = gzip.compress(json.dumps(text_event("có mặt")).encode())
    async with (
        guarded_server(make_settings, sqlite_url) as (app, port),
        aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http,
    ):
        async with http.post(url, data=b"not gzip", headers=headers) as resp:
            assert resp.status == 400
            answer = await resp.json()
        assert answer["ok"] is False and "gzip" in answer["error"]
        async with http.post(url, data=good, headers=headers) as resp:
            assert resp.status == 200
        async with app[keys.SESSIONS]() as s:
            stored = (await s.execute(select(func.count()).select_from(InboundEvent))).scalar()
    assert stored == 1
    assert errors_logged(caplog) == []


async def test_a_client_hanging_up_mid_body_is_not_logged_as_a_bug(
    make_settings: Any, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A body cut off by the client (or by the guard) is the network's doing, not the
    code's: nothing stored, and no traceback that would page someone."""
    async with guarded_server(make_settings, sqlite_url) as (app, port):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /webhook/zalo-bot HTTP/1.1\r\nHost: x\r\n"
            + f"X-Bot-Api-Secret-Token: {SECRET}\r\nContent-Length: 400\r\n\r\n".encode()
            + b'{"event_name": "message.text.received", '
        )
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.close()
        await asyncio.sleep(0.3)
        async with app[keys.SESSIONS]() as s:
            stored = (await s.execute(select(func.count()).select_from(InboundEvent))).scalar()
    assert stored == 0
    assert errors_logged(caplog) == []


async def test_many_idle_connections_do_not_stop_a_signed_delivery(
    make_settings: Any, sqlite_url: str
) -> None:
    async with guarded_server(
        make_settings, sqlite_url, max_waiting_connections=20, header_timeout_seconds=600
    ) as (app, port):
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(200)]
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"http://127.0.0.1:{port}/webhook/zalo-bot",
                data=json.dumps(text_event("có mặt")).encode(),
                headers={"X-Bot-Api-Secret-Token": SECRET},
            ) as resp,
        ):
            assert resp.status == 200
        assert app[GUARDS][0].waiting <= 20
        closed = 0
        for reader, writer in idle:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reader.read(), timeout=0.001 if closed >= 180 else 15)
                closed += 1
            writer.close()
    assert closed >= 180  # the longest-waiting were closed as newcomers came


async def test_serve_with_1024_descriptors_survives_1100_idle_connections(
    tmp_path: Path,
) -> None:
    from tests.test_faults import free_port

    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"database:\n  url: sqlite+aiosqlite:///{tmp_path / 'antt.db'}\n"
        "platform:\n  kind: zalo_bot\n  api_base: http://127.0.0.1:9\n"
        "engagement:\n  holidays: []\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "ANTT_PLATFORM__TOKEN": "123:abc",
        "ANTT_PLATFORM__WEBHOOK_SECRET": SECRET,
        "PYTHONPATH": str(Path(__file__).parents[1]),
    }
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(  # noqa: ASYNC220 (a quick fork; the test then talks HTTP)
        [sys.executable, "-m", "bot", "serve", "-c", str(config), "--port", str(port)],
        env=env,
        stdout=log,
        stderr=log,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024)),
    )
    base = f"http://127.0.0.1:{port}"
    idle: list[Any] = []
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):  # until it answers (bounded: 300 tries)
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{base}/healthz") as resp:
                        if resp.status == 200:
                            break
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                await asyncio.sleep(0.1)
        for _ in range(1100):
            with contextlib.suppress(OSError):
                idle.append(await asyncio.open_connection("127.0.0.1", port))
        # A new session: the one above keeps a connection open from before the flood.
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{base}/webhook/zalo-bot",
                data=json.dumps(text_event("có mặt")).encode(),
                headers={"X-Bot-Api-Secret-Token": SECRET},
                timeout=aiohttp.ClientTimeout(total=15),
            ) as resp,
        ):
            assert resp.status == 200
    finally:
        for _, writer in idle:
            writer.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
    assert proc.returncode == 0


async def test_a_bug_in_the_middle_of_a_shared_transaction_undoes_only_its_own_event(
    bot: Bot, monkeypatch: Any
) -> None:
    """Anh Tuấn and chị Lan check in around a message whose handler writes, then breaks: the
    three are handled in one transaction, and only the broken one's writes are undone."""
    from sqlalchemy import event as sa_event

    from handlers import registry

    async def writes_then_breaks(ctx: Any) -> None:
        await ctx.reply("không được gửi")
        raise ValueError("a bug after a write")

    monkeypatch.setitem(registry.HANDLERS, "command:huongdan", writes_then_breaks)
    monkeypatch.setattr(processor_module, "SLICE_SECONDS", 60.0)  # a loaded machine is slow
    await bot.deliver(
        text_event("có mặt", sender="tuan", name="Trần Văn Tuấn", chat="g1", group=True)
    )
    broken = text_event("/huongdan", sender="lan", name="Lê Thị Lan", chat="g1", group=True)
    await bot.deliver(broken)
    await bot.deliver(text_event("co mat", sender="lan", name="Lê Thị Lan", chat="g1", group=True))
    commits = []
    engine = bot.app[keys.SESSIONS].kw["bind"].sync_engine
    listener = lambda conn: commits.append(1)  # noqa: E731
    sa_event.listen(engine, "commit", listener)
    try:
        assert await bot.runtime.processor.run_once() == 3
    finally:
        sa_event.remove(engine, "commit", listener)
    assert len(commits) == 2  # the claim, then one transaction for the three events
    rows = await inbox_state(bot)
    assert [(r.status, r.attempts) for r in rows.values()] == [
        ("done", 1),
        ("pending", 1),
        ("done", 1),
    ]
    async with bot.sessions() as s:
        texts = list((await s.execute(select(Outbox.text).order_by(Outbox.id))).scalars())
    assert "không được gửi" not in texts
    assert len(texts) == 2 and all("có mặt" in t for t in texts)
