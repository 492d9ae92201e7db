"""A transaction's fixed cost on SQLite: BEGIN straight on the connection, no reset statement
on check-in, and the same locking, waiting, errors and rollbacks as before."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from models.db import durable_sessions, ensure_schema, make_engine, make_sessionmaker, read_session
from models.sqlite_inline import raw_connection, run_at_once


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'txn.db'}?timeout=1")
    await ensure_schema(engine)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (x INTEGER)"))
    yield engine
    await engine.dispose()


def _other(engine: AsyncEngine) -> sqlite3.Connection:
    """Another connection to the same file, as another process would hold it."""
    return sqlite3.connect(engine.url.database or "", timeout=0, isolation_level=None)


async def test_a_write_transaction_holds_the_write_lock_from_its_begin(
    engine: AsyncEngine,
) -> None:
    other = _other(engine)
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(text("SELECT 1"))  # begun: IMMEDIATE, before any write
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")  # released with the commit
    other.rollback()
    other.close()


async def test_a_reader_takes_no_lock(engine: AsyncEngine) -> None:
    other = _other(engine)
    async with read_session(make_sessionmaker(engine)) as reader:
        await reader.execute(text("SELECT count(*) FROM t"))
        other.execute("INSERT INTO t VALUES (1)")  # a writer goes on meanwhile
        assert (await reader.execute(text("SELECT count(*) FROM t"))).scalar() == 0
    other.close()


async def test_the_statements_the_listeners_see_are_the_same_but_begin(
    engine: AsyncEngine,
) -> None:
    said: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        said.append(statement)

    sessions = make_sessionmaker(engine)
    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with durable_sessions(sessions)() as session, session.begin():
            await session.execute(text("INSERT INTO t VALUES (1)"))
        async with sessions() as session, session.begin():
            await session.execute(text("INSERT INTO t VALUES (2)"))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    # The safety level still changes in sight (tests/test_attack_platform.py counts on it).
    assert said == [
        "PRAGMA synchronous=FULL",
        "INSERT INTO t VALUES (1)",
        "PRAGMA synchronous=NORMAL",
        "INSERT INTO t VALUES (2)",
    ]


async def test_the_statement_log_shows_each_begin(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`database.echo: true` (an operator reading the statements): every transaction's
    BEGIN is in the log, a writer's IMMEDIATE one too."""
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'echo.db'}", echo=True)
    try:
        await ensure_schema(engine)
        sessions = make_sessionmaker(engine)
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine.Engine"):
            async with sessions() as session, session.begin():
                await session.execute(text("CREATE TABLE t (x INTEGER)"))
            async with read_session(sessions) as session, session.begin():
                await session.execute(text("SELECT count(*) FROM t"))
    finally:
        await engine.dispose()
    said = [r.getMessage() for r in caplog.records]
    assert said.index("BEGIN IMMEDIATE") < said.index("CREATE TABLE t (x INTEGER)")
    assert said.index("BEGIN") < said.index("SELECT count(*) FROM t")


async def test_a_busy_begin_waits_for_the_lock_then_runs(engine: AsyncEngine) -> None:
    other = _other(engine)
    other.execute("BEGIN IMMEDIATE")

    async def release_later() -> None:
        await asyncio.sleep(0.1)
        other.commit()

    releaser = asyncio.create_task(release_later())
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(text("INSERT INTO t VALUES (3)"))
    await releaser
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT x FROM t"))).scalars().all() == [3]
    other.close()


async def test_a_lock_never_released_raises_sqlalchemys_error(engine: AsyncEngine) -> None:
    other = _other(engine)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError, match="locked"):
        async with make_sessionmaker(engine)() as session, session.begin():
            await session.execute(text("INSERT INTO t VALUES (4)"))
    other.rollback()
    other.close()


async def test_no_rollback_on_check_in_after_a_commit_or_a_rollback(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = AsyncAdapt_aiosqlite_connection.rollback

    def rollback(self: AsyncAdapt_aiosqlite_connection) -> None:
        calls.append("rollback")
        original(self)

    monkeypatch.setattr(AsyncAdapt_aiosqlite_connection, "rollback", rollback)
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (5)"))
    assert calls == []  # committed: nothing to reset
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO t VALUES (6)"))
        await conn.rollback()
    assert calls == ["rollback"]  # the rollback asked for, none on check-in


async def test_a_transaction_left_open_is_rolled_back_on_check_in(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        sqlite = raw_connection(raw.dbapi_connection)
        assert sqlite is not None
        # Behind SQLAlchemy's back: it does not know this transaction is open.
        sqlite.execute("BEGIN IMMEDIATE")
        sqlite.execute("INSERT INTO t VALUES (7)")
        assert sqlite.in_transaction
    assert not sqlite.in_transaction  # rolled back when it went back to the pool
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0


def test_run_at_once_refuses_what_it_cannot_run(tmp_path: Path) -> None:
    assert not run_at_once(object(), "BEGIN")  # not an inline connection
    assert raw_connection(object()) is None
