"""One statement of the processor's hot path, three ways: SQLAlchemy's ordinary execution,
the SQLite fast path (models/fastlane.py), and the bare sqlite3 call (the floor).

`python -m bench.fastlane`: microseconds per statement (or per written row), each measured
inside one transaction on a fresh SQLite file, best of a few rounds.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bench.common import machine, table
from models import fastlane, prefetch
from models.db import ensure_schema, make_engine, make_sessionmaker
from models.inserts import insert_new, write_row
from models.sqlite_inline import InlineConnection
from models.tables import CheckIn, Member, Outbox

ROUNDS = 5
CALLS = 400  # statements per round
NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
PKS = list(range(2, 22))  # a slice's senders (none has check-ins: the statement's own cost)

Step = Callable[[AsyncSession, int], Awaitable[Any]]


async def _write_checkin(session: AsyncSession, i: int) -> Any:
    return await write_row(
        session, CheckIn(member_pk=1, chat_id="g1", kind="in", at=NOW + timedelta(seconds=i))
    )


async def _enqueue_reply(session: AsyncSession, i: int) -> Any:
    row = {
        "chat_id": "g1",
        "kind": "reply",
        "priority": 10,
        "text": "Đã ghi nhận",
        "photo_url": None,
        "idempotency_key": f"bench:{i}:{time.perf_counter_ns()}",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": NOW,
        "member_pk": 1,
        "ref_type": "chat",
        "ref_id": None,
        "created_at": NOW,
        "chunks_sent": 0,
        "council_id": "default",
    }
    return await insert_new(session, Outbox, [row], ["idempotency_key"], returning=["id"])


async def _recent_checkins(session: AsyncSession, _i: int) -> Any:
    params = {"pks": PKS, "since": NOW - timedelta(days=2)}
    rows = await fastlane.select_rows(session, prefetch._RECENT_CHECKINS, params)
    if rows is None:
        rows = list((await session.execute(prefetch._RECENT_CHECKINS, params)).tuples())
    return rows


def _raw(sql: str, values: Callable[[int], tuple[Any, ...]], fetch: bool) -> Step:
    """The same statement straight on the driver's sqlite3 connection: the floor."""

    async def step(session: AsyncSession, i: int) -> Any:
        raw = session.info.get("bench_raw")
        if raw is None:  # once per transaction, outside the timing (the first call)
            conn = await session.connection()
            driver = conn.sync_connection.connection.driver_connection  # type: ignore[union-attr]
            assert isinstance(driver, InlineConnection) and driver._connection is not None
            raw = session.info["bench_raw"] = driver._connection
        cursor = raw.execute(sql, values(i))
        return cursor.fetchall() if fetch else cursor.lastrowid

    return step


def _stored(at: datetime) -> str:
    """A time as SQLAlchemy's SQLite dialect stores it."""
    return at.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _checkin_values(i: int) -> tuple[Any, ...]:
    return (1, "g1", "in", _stored(NOW + timedelta(seconds=i)), "", "default")


def _outbox_values(i: int) -> tuple[Any, ...]:
    key = f"raw:{i}:{time.perf_counter_ns()}"
    now = _stored(NOW)
    return ("g1", "reply", 10, "Đã ghi nhận", key, "pending", 0, now, 1, "chat", now, 0)


def _recent_values(_i: int) -> tuple[Any, ...]:
    return (*PKS, _stored(NOW - timedelta(days=2)))


_RAW_CHECKIN = (
    "INSERT INTO checkins (member_pk, chat_id, kind, at, note, council_id)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_RAW_OUTBOX = (
    "INSERT INTO outbox (chat_id, kind, priority, text, idempotency_key, status, attempts,"
    " next_attempt_at, member_pk, ref_type, created_at, chunks_sent)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)
_RAW_RECENT = (
    "SELECT council_id, member_pk, kind, max(at) FROM checkins WHERE member_pk IN ("
    + ", ".join("?" * len(PKS))
    + ") AND at >= ? GROUP BY council_id, member_pk, kind"
)

CASES: list[tuple[str, Step, Step]] = [
    ("write_row(CheckIn)", _write_checkin, _raw(_RAW_CHECKIN, _checkin_values, False)),
    ("insert_new(Outbox) .. RETURNING id", _enqueue_reply, _raw(_RAW_OUTBOX, _outbox_values, True)),
    (
        "prefetch: recent check-ins, 20 pks",
        _recent_checkins,
        _raw(_RAW_RECENT, _recent_values, True),
    ),
]


async def _per_call_us(sessions: Any, step: Step, ordinary: bool) -> float:
    """Best round's microseconds per call, each round one transaction."""
    best = float("inf")
    for _ in range(ROUNDS):
        async with sessions() as session, session.begin():
            with fastlane.ordinary_path() if ordinary else nullcontext():
                await step(session, 0)  # compiled and cached outside the timing
                start = time.perf_counter()
                for i in range(1, CALLS + 1):
                    await step(session, i)
                best = min(best, (time.perf_counter() - start) / CALLS * 1e6)
            session.expunge_all()
    return best


async def main() -> str:
    rows = []
    with tempfile.TemporaryDirectory(prefix="antt-bench-") as d:
        engine = make_engine(f"sqlite+aiosqlite:///{Path(d) / 'fastlane.db'}")
        await ensure_schema(engine)
        sessions = make_sessionmaker(engine)
        async with sessions() as session, session.begin():
            member = Member(member_id="z1", name="Lan", created_at=NOW, expected_since=NOW)
            await write_row(session, member)
        try:
            for name, step, floor in CASES:
                ordinary = await _per_call_us(sessions, step, ordinary=True)
                fast = await _per_call_us(sessions, step, ordinary=False)
                raw = await _per_call_us(sessions, floor, ordinary=False)
                rows.append([name, f"{ordinary:.1f}", f"{fast:.1f}", f"{raw:.1f}"])
        finally:
            await engine.dispose()
    return table(
        f"one hot-path statement on SQLite, us per call (best of {ROUNDS} x {CALLS})",
        ["statement", "SQLAlchemy", "fast path", "bare sqlite3 (floor)"],
        rows,
        notes=[
            "write_row includes making the ORM row persistent; the floor is the INSERT alone",
            "the floor is the same SQL with values already converted (times as text)",
            f"sqlite3 {sqlite3.sqlite_version}; {machine()}",
        ],
    )


if __name__ == "__main__":
    print(asyncio.run(main()))
