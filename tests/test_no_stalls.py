"""Readers never stall intake on SQLite: an export held open, deliveries still answer 200."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, text

from bot import keys
from bot.app import create_app
from bot.writeturn import WriteTurn
from handlers.clock import FixedClock
from handlers.digest_chart import render_png
from handlers.jobs import digest as digest_job
from models import exports
from models.db import make_engine, make_sessionmaker, read_session
from models.tables import InboundEvent, Message, Outbox
from tests.conftest import SECRET, T0, text_event
from tests.digest_factory import HCM, scenario

# The busy wait comes from the URL: with the old locking reads, intake would answer 503
# after one second instead of thirty.
BUSY_WAIT = "?timeout=1"


async def test_an_export_held_open_does_not_stop_deliveries(
    make_bot: Any, make_settings: Any, tmp_path: Path
) -> None:
    db = tmp_path / "antt.db"
    bot = await make_bot(make_settings(db=f"sqlite+aiosqlite:///{db}{BUSY_WAIT}"))
    for i in range(3):
        assert (await bot.deliver(text_event(f"có mặt {i}", sender=f"u{i}")))[0] == 200
    await bot.drain()

    async with read_session(bot.sessions) as reader:
        rows = exports.rows(reader, "messages")
        first = await anext(rows)  # the export is mid-way: its transaction is open
        for i in range(3, 8):
            status, _ = await bot.deliver(text_event(f"có mặt {i}", sender=f"u{i}"))
            assert status == 200
        await bot.drain()  # the workers write while the reader is still open
        rest = [row async for row in rows]
    # The reader saw its own snapshot; everything delivered meanwhile was stored and handled.
    assert first["text"] == "có mặt 0"
    assert len(rest) == 2
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InboundEvent)) == 8
        assert await session.scalar(select(func.count()).select_from(Message)) == 8


async def test_a_reader_takes_no_lock_a_writer_does(tmp_path: Path) -> None:
    """Another process (a second CLI, a backup) can write while we read, not while we write."""
    db = tmp_path / "antt.db"
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await session.execute(text("CREATE TABLE t (x INTEGER)"))
    other = sqlite3.connect(db, isolation_level=None, timeout=0)
    try:
        async with read_session(sessions) as reader:
            assert await reader.scalar(text("SELECT count(*) FROM t")) == 0
            other.execute("INSERT INTO t VALUES (1)")  # not refused: no lock is held
            # ... and the reader keeps its snapshot until it ends.
            assert await reader.scalar(text("SELECT count(*) FROM t")) == 0
        async with sessions() as session, session.begin():
            await session.execute(text("SELECT 1"))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("INSERT INTO t VALUES (2)")
    finally:
        other.close()
        await engine.dispose()


async def test_a_delivery_is_stored_while_a_backlog_is_being_handled(
    make_bot: Any, make_settings: Any, tmp_path: Path
) -> None:
    """Sixty check-ins wait to be handled when one more arrives: it is stored and answered
    200 between two of them (the processor's slice gives way to it), not after all sixty."""
    bot = await make_bot(make_settings(db=f"sqlite+aiosqlite:///{tmp_path / 'antt.db'}"))
    for i in range(60):
        assert (await bot.deliver(text_event("có mặt", sender=f"u{i}", chat="g1")))[0] == 200
    handled_when_answered: list[int] = []

    async def late_delivery() -> None:
        while True:  # until the processor is well into the backlog
            async with read_session(bot.sessions) as session:
                if await handled(session) >= 5:
                    break
            await asyncio.sleep(0)
        status, _ = await bot.deliver(text_event("có mặt", sender="late", chat="g1"))
        assert status == 200
        async with read_session(bot.sessions) as session:
            handled_when_answered.append(await handled(session))

    await asyncio.gather(bot.drain(), late_delivery())
    assert handled_when_answered and handled_when_answered[0] < 60
    async with read_session(bot.sessions) as session:
        assert await handled(session) == 61  # and nothing was lost on the way


async def handled(session: Any) -> int:
    stmt = select(func.count()).select_from(InboundEvent).where(InboundEvent.status == "done")
    return int(await session.scalar(stmt))


def test_only_deliveries_cut_a_slice_short() -> None:
    """The sender asking for the write turn does not end a processor slice; intake does."""

    async def scenario() -> list[bool]:
        turn = WriteTurn(enabled=True)
        seen: list[bool] = []
        async with turn():
            sender = asyncio.create_task(_take(turn, urgent=False))
            await asyncio.sleep(0)
            seen.append(turn.wanted)
            intake = asyncio.create_task(_take(turn, urgent=True))
            await asyncio.sleep(0)
            seen.append(turn.wanted)
        await asyncio.gather(sender, intake)
        seen.append(turn.wanted)
        return seen

    assert asyncio.run(scenario()) == [False, True, False]


async def _take(turn: WriteTurn, urgent: bool) -> None:
    async with turn(urgent=urgent):
        await asyncio.sleep(0)


async def test_the_parser_is_ready_before_the_first_delivery(
    make_settings: Any, tmp_path: Path
) -> None:
    """The lexicon and the learned model load at start-up (~80 ms on the loop), not inside
    the first slice of a flood, where every delivery would wait behind them."""
    from handlers.parse import learned
    from handlers.parse.vocabulary import _lexicon

    _lexicon.cache_clear()
    learned._model.cache_clear()
    app = create_app(make_settings(db=f"sqlite+aiosqlite:///{tmp_path / 'antt.db'}"))
    server = TestServer(app, port=0)
    await server.start_server()
    try:
        assert _lexicon.cache_info().currsize == 1
        assert learned._model.cache_info().currsize == 1
    finally:
        await server.close()


async def test_the_holiday_calendar_is_ready_before_the_first_send(
    make_settings: Any, tmp_path: Path
) -> None:
    """Vietnam's calendar (the package imports every country on first use, ~0.3 s) is built
    at start-up, not at the first polite-time check of a send in the middle of a flood."""
    from handlers import calendar

    calendar._vietnam_year.cache_clear()
    app = create_app(make_settings(db=f"sqlite+aiosqlite:///{tmp_path / 'antt.db'}"))
    year = calendar.local(app[keys.SETTINGS], app[keys.CLOCK].now()).year
    server = TestServer(app, port=0)
    await server.start_server()
    try:
        before = calendar._vietnam_year.cache_info()
        assert before.currsize == 2  # this year and the next (the sends of 31 December)
        assert calendar.holiday_name(app[keys.SETTINGS], date(year, 9, 2)) == "Quốc khánh"
        assert calendar._vietnam_year.cache_info().misses == before.misses
    finally:
        await server.close()


async def test_health_and_metrics_read_while_another_process_writes(
    make_settings: Any, tmp_path: Path
) -> None:
    """A CLI import or a second instance holding the write lock is no outage: /healthz and
    /metrics read their snapshot (they took the write lock: 503 "no answer within 3 s")."""
    db = tmp_path / "antt.db"
    app = create_app(
        make_settings(db=f"sqlite+aiosqlite:///{db}"), clock=FixedClock(T0), workers=False
    )
    client = TestClient(TestServer(app, port=0))
    await client.start_server()
    other = sqlite3.connect(db, isolation_level=None, timeout=0)
    try:
        body = text_event("có mặt", sender="u1", chat="g1", group=True)
        headers = {"Content-Type": "application/json", "X-Bot-Api-Secret-Token": SECRET}
        async with client.post("/webhook/zalo-bot", json=body, headers=headers) as resp:
            assert resp.status == 200  # stored, left pending: no workers here
        other.execute("BEGIN IMMEDIATE")
        async with client.get("/healthz") as resp:
            health = await resp.json()
            assert resp.status == 200, health
        assert health["database"] == "ok"
        async with client.get("/metrics") as resp:
            assert "antt_inbox_pending 1.0" in await resp.text()
    finally:
        other.close()
        await client.close()


async def test_sign_in_and_chart_images_read_while_another_process_writes(
    make_bot: Any, make_settings: Any, tmp_path: Path
) -> None:
    """A CLI import holding the write lock does not stop a coordinator's sign-in or Zalo
    fetching a digest's chart: they only read (they queued for the lock, then failed)."""
    db = tmp_path / "antt.db"
    settings = make_settings(
        db=f"sqlite+aiosqlite:///{db}{BUSY_WAIT}", dashboard={"password": "mật khẩu đủ dài 2026"}
    )
    bot = await make_bot(settings)
    async with bot.http.get("/dashboard/login") as resp:
        html = await resp.text()
    token = html.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    other = sqlite3.connect(db, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        form = {"username": "nobody", "password": "sai", "csrf": token, "next": "/dashboard/"}
        async with bot.http.post("/dashboard/login", data=form) as resp:
            assert resp.status == 401
            assert "Sai tên đăng nhập hoặc mật khẩu." in await resp.text()
        async with bot.http.get(f"/a/{'x' * 40}.png") as resp:
            assert resp.status == 404
    finally:
        other.close()


async def test_the_weekly_digest_draws_its_chart_without_the_write_lock(
    make_bot: Any, make_settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drawing the chart takes 0.2-0.75 s: intake and a second process could not write
    meanwhile (the chart was drawn inside the job's write transaction)."""
    db = tmp_path / "antt.db"
    settings = make_settings(
        db=f"sqlite+aiosqlite:///{db}",
        coordinators=["gcoord"],
        server={"public_url": "https://antt.example.vn"},
    )
    bot = await make_bot(settings, FixedClock(datetime(2026, 11, 30, 8, 5, tzinfo=HCM)))
    async with bot.sessions() as s, s.begin():
        await scenario(s)
    drawn_while_locked: list[bool] = []

    def draw_and_probe(digest: Any) -> bytes:
        other = sqlite3.connect(db, isolation_level=None, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            drawn_while_locked.append(False)
        except sqlite3.OperationalError:
            drawn_while_locked.append(True)
        finally:
            other.close()
        return render_png(digest)

    monkeypatch.setattr(digest_job, "digest_png", draw_and_probe)
    assert (await bot.runtime.run_job("weekly_digest")).queued == 4
    assert drawn_while_locked == [False]
    assert (await bot.runtime.run_job("weekly_digest")).queued == 0  # sent once, as before
    async with bot.sessions() as session:
        photos = await session.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.photo_url.is_not(None))
        )
    assert photos == 2


async def test_the_senders_idle_gauges_read_while_another_process_writes(
    make_bot: Any, make_settings: Any, tmp_path: Path
) -> None:
    """An idle sender refreshes the outbox and budget gauges by reading only: with a CLI
    import holding the write lock it queued for the lock, then failed its round."""
    db = tmp_path / "antt.db"
    bot = await make_bot(make_settings(db=f"sqlite+aiosqlite:///{db}{BUSY_WAIT}"))
    other = sqlite3.connect(db, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        await bot.runtime.sender._update_gauges()
    finally:
        other.close()
