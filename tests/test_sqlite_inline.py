"""SQLite runs on the event loop: a busy database is waited for without stalling the loop."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from models import sqlite_inline
from models.db import ensure_schema, make_engine, make_sessionmaker


async def _ticks_while(coro: object) -> tuple[object, int]:
    """Run `coro` while a ticker counts how often the loop got to run it."""
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(ticker())
    try:
        result = await coro  # type: ignore[misc]
    finally:
        stop.set()
        await task
    return result, ticks


async def test_a_lock_held_elsewhere_is_waited_for_without_blocking_the_loop(
    tmp_path: Path,
) -> None:
    db = tmp_path / "busy.db"
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    await ensure_schema(engine)
    holder = sqlite3.connect(db, isolation_level=None)  # another process, in effect
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE held (x INTEGER)")

    async def write() -> int:
        async with make_sessionmaker(engine)() as session, session.begin():
            await session.execute(text("CREATE TABLE mine (x INTEGER)"))
            return 1

    async def release_later() -> None:
        await asyncio.sleep(0.3)
        holder.commit()

    releaser = asyncio.create_task(release_later())
    result, ticks = await _ticks_while(write())
    await releaser
    assert result == 1
    assert ticks >= 20  # the loop kept running for the whole wait (0.3 s / 5 ms = 60)
    async with engine.connect() as conn:
        names = {r[0] for r in await conn.execute(text("SELECT name FROM sqlite_master"))}
    assert {"held", "mine"} <= names
    holder.close()
    await engine.dispose()


async def test_a_lock_never_released_fails_after_the_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_inline, "BUSY_WAIT_SECONDS", 0.2)
    db = tmp_path / "stuck.db"
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    await ensure_schema(engine)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError, match="locked"):
        async with make_sessionmaker(engine)() as session, session.begin():
            await session.execute(text("SELECT 1"))
    holder.rollback()
    holder.close()
    await engine.dispose()


async def test_interleaved_transactions_in_one_process_all_commit(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'many.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE n (v INTEGER)"))
    sessions = make_sessionmaker(engine)

    async def add(v: int) -> None:
        async with sessions() as session, session.begin():
            await session.execute(text("INSERT INTO n VALUES (:v)"), {"v": v})
            await asyncio.sleep(0.001)  # hold the write lock across a real suspension
            await session.execute(text("INSERT INTO n VALUES (:v)"), {"v": -v})

    await asyncio.gather(*(add(v) for v in range(1, 41)))
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT count(*), sum(v) FROM n"))).one()
    assert tuple(rows) == (80, 0)
    await engine.dispose()


async def test_a_timeout_in_the_url_is_the_busy_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "t.db"
    engine = make_engine(f"sqlite+aiosqlite:///{db}?timeout=0.2")
    await ensure_schema(engine)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError, match="locked"):  # after 0.2 s, not the 30 s default
        await asyncio.wait_for(_begin(engine), timeout=5)
    holder.rollback()
    holder.close()
    await engine.dispose()


async def _begin(engine: object) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():  # type: ignore[arg-type]
        await session.execute(text("SELECT 1"))


def test_only_calls_without_effect_are_repeated_after_busy() -> None:
    conn = sqlite3.connect(":memory:")
    cursor = conn.cursor()
    repeat = sqlite_inline._safe_to_repeat
    assert repeat(cursor.execute, ("BEGIN IMMEDIATE",), False)
    assert repeat(conn.commit, (), True)  # SQLite: a busy COMMIT may be retried
    assert repeat(cursor.execute, ("SELECT 1",), False)  # one atomic statement
    assert not repeat(cursor.execute, ("INSERT INTO t VALUES (1)",), True)  # mid-transaction
    assert not repeat(cursor.executemany, ("INSERT INTO t VALUES (?)", [(1,), (2,)]), False)
    assert not repeat(cursor.fetchall, (), True)
    conn.close()


@pytest.mark.parametrize("background_checkpoints", [True, False])
async def test_commits_that_wait_for_no_disk_run_on_the_loop(
    tmp_path: Path, background_checkpoints: bool
) -> None:
    """Without fsync and without a checkpoint of its own (serve's background checkpoints),
    a commit runs on the loop like a statement; a durable commit (the inbox's), or any
    commit that may checkpoint, goes to a thread so that the disk does not hold the loop."""
    import threading

    from models.db import durable_sessions

    engine = make_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'antt.db'}",
        background_checkpoints=background_checkpoints,
    )
    sessions = make_sessionmaker(engine)
    commits: list[str] = []  # "loop" or "thread", per COMMIT SQLite ran
    loop_thread = threading.get_ident()

    def traced(sql: str) -> None:
        if sql.strip().upper().startswith("COMMIT"):
            commits.append("loop" if threading.get_ident() == loop_thread else "thread")

    try:
        await ensure_schema(engine)
        for maker in (sessions, durable_sessions(sessions), sessions):
            async with maker() as s, s.begin():
                conn = await s.connection()
                raw = sqlite_inline.raw_connection(
                    (await conn.get_raw_connection()).dbapi_connection
                )
                assert raw is not None
                raw.set_trace_callback(traced)
                await s.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
                await s.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        await engine.dispose()
    if background_checkpoints:
        assert commits == ["loop", "thread", "loop"]
    else:
        assert commits == ["thread", "thread", "thread"]
