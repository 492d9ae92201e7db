"""insert_new(..., returning=["id"]) on SQLite's fast path takes the new rows' ids from
the insert itself (changes and rowid, no RETURNING): the same ids and the same skipped
conflicts as the ordinary path's RETURNING."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from models import fastlane
from models.db import ensure_schema, make_engine, make_sessionmaker
from models.inserts import _keyed_by_rowid, insert_new
from models.outbox import enqueue
from models.tables import Outbox

NOW = datetime(2026, 12, 5, 9, 30, 15, 123456, tzinfo=UTC)


def _row(key: str) -> dict[str, Any]:
    return {
        "chat_id": "g1",
        "kind": "reply",
        "priority": 10,
        "text": "Đã ghi nhận",
        "idempotency_key": key,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": NOW,
        "created_at": NOW,
        "chunks_sent": 0,
        "council_id": "default",
    }


async def _queue(engine: AsyncEngine, ordinary: bool) -> tuple[list[Any], list[str]]:
    """Batches with conflicts inside and across them; what came back, and the SQL run."""
    sessions = make_sessionmaker(engine)
    sql: list[str] = []

    def seen(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        if statement.startswith("INSERT"):
            sql.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    got: list[Any] = []
    try:
        with fastlane.ordinary_path() if ordinary else nullcontext():
            async with sessions() as s, s.begin():
                got.append(await insert_new(s, Outbox, [_row("a")], ["idempotency_key"], ["id"]))
                batch = [_row("b"), _row("a"), _row("c"), _row("b")]
                got.append(await insert_new(s, Outbox, batch, ["idempotency_key"], ["id"]))
                got.append(await enqueue(s, chat_id="g2", text="x", kind="nudge", key="d", now=NOW))
                got.append(await enqueue(s, chat_id="g2", text="y", kind="nudge", key="d", now=NOW))
            async with sessions() as s:
                got.append((await s.execute(select(Outbox.id, Outbox.idempotency_key))).all())
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    return got, sql


async def test_ids_and_conflicts_as_returning_gives_them(sqlite_url: str) -> None:
    results = []
    for ordinary in (True, False):
        engine = make_engine(sqlite_url.replace(".db", f"-{ordinary}.db"))
        await ensure_schema(engine)
        try:
            results.append(await _queue(engine, ordinary))
        finally:
            await engine.dispose()
    (ordinary_got, ordinary_sql), (fast_got, fast_sql) = results
    assert fast_got == ordinary_got
    assert fast_got[:4] == [[(1,)], [(2,), (3,)], 4, None]
    assert all("RETURNING" in s for s in ordinary_sql)
    assert not any("RETURNING" in s for s in fast_sql)


def test_only_a_rowid_key_is_taken_for_the_id() -> None:
    meta = MetaData()
    plain = Table("plain", meta, Column("id", Integer, primary_key=True), Column("k", String))
    named = Table("named", meta, Column("id", String, primary_key=True))
    other = Table("other", meta, Column("pk", Integer, primary_key=True))
    pair = Table(
        "pair",
        meta,
        Column("id", Integer, primary_key=True),
        Column("b", Integer, primary_key=True),
    )
    without = Table(
        "without", meta, Column("id", Integer, primary_key=True), sqlite_with_rowid=False
    )
    assert _keyed_by_rowid(plain) and _keyed_by_rowid(Outbox.__table__)  # type: ignore[arg-type]
    assert not any(_keyed_by_rowid(t) for t in (named, other, pair, without))


async def test_other_returning_columns_keep_returning(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions() as s, s.begin():
        new = await insert_new(
            s, Outbox, [_row("a")], ["idempotency_key"], ["id", "idempotency_key"]
        )
        again = await insert_new(s, Outbox, [_row("a")], ["idempotency_key"], ["id"])
    assert new == [(1, "a")] and again == []
