"""Readers never stall intake on SQLite: an export held open, deliveries still answer 200."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from models import exports
from models.db import make_engine, make_sessionmaker, read_session
from models.tables import InboundEvent, Message
from tests.conftest import text_event

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
