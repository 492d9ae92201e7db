"""Serving on SQLite, the WAL is copied into the database by a background checkpoint, not by
a commit that holds the write lock (models/checkpoints.py)."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from bot import keys
from bot.app import create_app
from handlers.clock import FixedClock
from models import checkpoints
from models.checkpoints import BACKSTOP_PAGES, WalCheckpointer, run_checkpoints, sqlite_file
from models.db import read_session
from tests.conftest import SECRET, T0, text_event

HEADERS = {"Content-Type": "application/json", "X-Bot-Api-Secret-Token": SECRET}


async def autocheckpoint(app: Any) -> int:
    async with read_session(app[keys.SESSIONS]) as session:
        return int((await session.execute(text("PRAGMA wal_autocheckpoint"))).scalar_one())


def rows_in_database_file(db: Path, copy: Path) -> int:
    """Check-ins in the database file alone: a copy of it without its WAL."""
    shutil.copyfile(db, copy)
    with sqlite3.connect(copy) as conn:
        return int(conn.execute("SELECT count(*) FROM checkins").fetchone()[0])


async def test_serving_copies_the_wal_in_the_background(
    make_settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twelve guards say "có mặt" in their group: their check-ins reach the database file
    through the background checkpoint, and the app's connections leave the WAL alone."""
    monkeypatch.setattr(checkpoints, "INTERVAL_SECONDS", 0.02)
    db = tmp_path / "antt.db"
    app = create_app(make_settings(db=f"sqlite+aiosqlite:///{db}"), clock=FixedClock(T0))
    client = TestClient(TestServer(app, port=0))
    await client.start_server()
    try:
        assert await autocheckpoint(app) == BACKSTOP_PAGES
        for i in range(12):
            body = text_event("co mat", sender=f"bv{i}", name=f"Bảo vệ {i}", chat="g1", group=True)
            async with client.post("/webhook/zalo-bot", json=body, headers=HEADERS) as resp:
                assert resp.status == 200
        checkpointer = app[keys.CHECKPOINTS]
        found = 0
        for _ in range(250):  # up to 5 s: handled, committed, then checkpointed
            await asyncio.sleep(0.02)
            found = rows_in_database_file(db, tmp_path / "copy.db")
            if found == 12:
                break
        assert found == 12
        assert checkpointer.pages_copied > 0
        assert checkpointer.last_error is None
    finally:
        await client.close()
    assert checkpointer._conn is None  # closed with the app


async def test_without_workers_sqlite_checkpoints_as_usual(
    make_bot: Any, make_settings: Any
) -> None:
    """Tests and the command line (no workers): SQLite's own checkpoints, no background task."""
    bot = await make_bot(make_settings())
    assert keys.CHECKPOINTS not in bot.app
    assert await autocheckpoint(bot.app) == 1000


async def test_a_failing_checkpoint_is_logged_once_and_tried_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A database that cannot be opened: one warning, the error kept, and a later success
    clears it (the backstop keeps the WAL bounded meanwhile)."""
    checkpointer = WalCheckpointer(str(tmp_path))  # a directory: cannot be opened
    task = asyncio.create_task(run_checkpoints(checkpointer, interval=0.01))
    with caplog.at_level(logging.WARNING, logger="models.checkpoints"):
        for _ in range(100):
            await asyncio.sleep(0.01)
            if checkpointer.last_error and len(caplog.records) and checkpointer.checkpoints == 0:
                break
        await asyncio.sleep(0.05)  # several more failures
        assert checkpointer.last_error is not None
        assert "unable to open" in checkpointer.last_error
        assert len(caplog.records) == 1
        db = tmp_path / "ok.db"
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
        checkpointer.path = str(db)
        for _ in range(100):
            await asyncio.sleep(0.01)
            if checkpointer.checkpoints:
                break
        assert checkpointer.last_error is None
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert checkpointer._conn is None


class _SlowCheckpointer(WalCheckpointer):
    """A checkpoint that takes a while in its thread (a large WAL copy), noting what ran."""

    def __init__(self, path: str, started: threading.Event) -> None:
        super().__init__(path)
        self.started = started
        self.order: list[str] = []

    def checkpoint(self) -> tuple[int, int, int]:
        self.started.set()
        time.sleep(0.2)
        result = super().checkpoint()
        self.order.append("checkpoint done")
        return result

    def close(self) -> None:
        self.order.append("closed")
        super().close()


async def test_shutdown_during_a_checkpoint_waits_for_it(tmp_path: Path) -> None:
    """`serve` stopping while a checkpoint copies pages: the connection is closed only once
    the thread is done with it (closing it under the thread crashed the process)."""
    db = tmp_path / "antt.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
    started = threading.Event()
    checkpointer = _SlowCheckpointer(str(db), started)
    task = asyncio.create_task(run_checkpoints(checkpointer, interval=0.01))
    assert await asyncio.to_thread(started.wait, 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert checkpointer.order == ["checkpoint done", "closed"]
    assert checkpointer._conn is None


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite+aiosqlite:////srv/antt/antt.db", "/srv/antt/antt.db"),
        ("sqlite+aiosqlite:///data/antt.db", "data/antt.db"),
        ("sqlite+aiosqlite:///:memory:", None),
        ("sqlite+aiosqlite://", None),
        ("postgresql+asyncpg://antt@db/antt", None),
    ],
)
def test_which_databases_get_background_checkpoints(url: str, path: str | None) -> None:
    assert sqlite_file(url) == path


async def test_failing_checkpoints_show_on_healthz(
    make_settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checkpoints that keep failing (a full disk) let the WAL grow until the disk is full:
    /healthz says so, degraded but 200 (restarting would not help), and clears once they
    succeed again."""
    monkeypatch.setattr(checkpoints, "INTERVAL_SECONDS", 0.02)
    db = tmp_path / "antt.db"
    app = create_app(make_settings(db=f"sqlite+aiosqlite:///{db}"), clock=FixedClock(T0))
    client = TestClient(TestServer(app, port=0))
    await client.start_server()

    async def healthz() -> tuple[int, dict[str, Any]]:
        async with client.get("/healthz") as resp:
            body = await resp.json()
        return resp.status, next(c for c in body["checks"] if c["name"] == "checkpoints")

    full = threading.Event()
    real = WalCheckpointer.checkpoint

    def checkpoint(self: WalCheckpointer) -> tuple[int, int, int]:
        if full.is_set():
            raise sqlite3.OperationalError("database or disk is full")
        return real(self)

    monkeypatch.setattr(WalCheckpointer, "checkpoint", checkpoint)
    try:
        checkpointer = app[keys.CHECKPOINTS]
        assert (await healthz())[1]["ok"] is True
        full.set()
        for _ in range(250):
            await asyncio.sleep(0.02)
            if checkpointer.last_error:
                break
        status, check = await healthz()
        assert status == 200 and check["ok"] is False and check["critical"] is False
        assert "WAL checkpoints failing" in check["reason"] and "disk is full" in check["reason"]
        full.clear()
        for _ in range(250):
            await asyncio.sleep(0.02)
            if checkpointer.last_error is None:
                break
        assert (await healthz())[1]["ok"] is True
    finally:
        await client.close()
