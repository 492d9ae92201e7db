"""The fast path tells cursor listeners of its statements whichever of the two events is
listened to alone, on the engine or on every Engine, and runs with none listening."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from models.db import ensure_schema, make_engine, make_sessionmaker
from models.inserts import write_row
from models.tables import CheckIn, Member

NOW = datetime(2026, 12, 5, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
async def engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(sqlite_url)
    await ensure_schema(engine)
    yield engine
    await engine.dispose()


async def _write_two(engine: AsyncEngine) -> list[int]:
    """A member and its check-in, in one transaction; their ids."""
    sessions = make_sessionmaker(engine)
    async with sessions() as s, s.begin():
        member = await write_row(s, Member(member_id="z1", created_at=NOW, expected_since=NOW))
        checkin = await write_row(s, CheckIn(member_pk=member.id, chat_id="g1", kind="in", at=NOW))
        return [member.id, checkin.id]


@pytest.mark.parametrize("name", ["before_cursor_execute", "after_cursor_execute"])
@pytest.mark.parametrize("on_class", [False, True])
async def test_one_event_listened_to_alone_sees_every_insert(
    engine: AsyncEngine, name: str, on_class: bool
) -> None:
    seen: list[str] = []

    def listener(_c: Any, _cur: Any, sql: str, params: Any, *_rest: Any) -> Any:
        if sql.startswith("INSERT"):
            seen.append(sql.split()[2])
        return (sql, params) if name == "before_cursor_execute" else None

    target: Any = Engine if on_class else engine.sync_engine
    event.listen(target, name, listener, retval=name == "before_cursor_execute")
    try:
        assert await _write_two(engine) == [1, 1]
    finally:
        event.remove(target, name, listener)
    assert seen == ["members", "checkins"]


async def test_no_cursor_listener_writes_the_rows(engine: AsyncEngine) -> None:
    assert await _write_two(engine) == [1, 1]
    sessions = make_sessionmaker(engine)
    async with sessions() as s:
        kept = (await s.execute(select(CheckIn.member_pk, CheckIn.at))).all()
    assert kept == [(1, NOW)]
