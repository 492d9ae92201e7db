"""What keeping parks apart costs (issue 20): the same reads with and without a council.

Ten parks' incidents and messages on SQLite. A session kept to one council adds its filter
to every ORM query (models/scoping.py); a one-council installation adds nothing. The ratios
compare the same query in the same process, scoped against unscoped."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import bench_settings, machine, table
from models.db import ensure_schema, make_engine, make_sessionmaker
from models.incidents import open_incidents
from models.scoping import council_sessions
from models.tables import Incident, Message

COUNCILS = 10
INCIDENTS_PER_COUNCIL = 200
MESSAGES_PER_COUNCIL = 20_000
ROUNDS = 300
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


async def seed(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        for c in range(COUNCILS):
            council = f"kcn-{c}"
            await s.execute(
                insert(Incident),
                [
                    {
                        "council_id": council,
                        "category": "theft",
                        "severity": "medium",
                        "status": "reported" if i % 4 else "resolved",
                        "place_key": f"cong {i}",
                        "urgent": False,
                        "first_reported_at": NOW - timedelta(minutes=i),
                        "last_reported_at": NOW - timedelta(minutes=i),
                        "escalation_level": 0,
                    }
                    for i in range(INCIDENTS_PER_COUNCIL)
                ],
            )
            await s.execute(
                insert(Message),
                [
                    {
                        "council_id": council,
                        "platform": "zalo_bot",
                        "chat_id": f"g{c}",
                        "chat_type": "group",
                        "member_id": f"u{i % 300}",
                        "message_id": f"m{c}-{i}",
                        "sent_at": NOW - timedelta(seconds=i * 30),
                        "kind": "text",
                        "text": "có mặt",
                        "created_at": NOW,
                    }
                    for i in range(MESSAGES_PER_COUNCIL)
                ],
            )


async def timed(
    sessions: async_sessionmaker[AsyncSession], work: Callable[[AsyncSession], Awaitable[Any]]
) -> tuple[float, Any]:
    """Seconds per round of `work` in one session, and its last result."""
    result: Any = None
    async with sessions() as s:
        await work(s)  # warm the statement cache
        start = time.perf_counter()
        for _ in range(ROUNDS):
            result = await work(s)
    return (time.perf_counter() - start) / ROUNDS, result


async def main() -> str:
    rows = []
    with tempfile.TemporaryDirectory(prefix="antt-bench-") as d:
        settings = bench_settings(Path(d) / "councils.db")
        engine = make_engine(settings.database.url)
        try:
            await ensure_schema(engine)
            everyone = make_sessionmaker(engine)
            await seed(everyone)
            park = f"kcn-{COUNCILS // 2}"
            one = council_sessions(everyone, park)
            week = NOW - timedelta(days=7)

            async def recent_messages(s: AsyncSession) -> int:
                stmt = select(func.count()).select_from(Message).where(Message.sent_at >= week)
                return int((await s.execute(stmt)).scalar_one())

            async def recent_in_council(s: AsyncSession) -> int:
                stmt = (
                    select(func.count())
                    .select_from(Message)
                    .where(Message.sent_at >= week, Message.council_id == park)
                )
                return int((await s.execute(stmt)).scalar_one())

            async def open_list(s: AsyncSession) -> int:
                return len(await open_incidents(s, limit=50))

            for label, work, baseline in (
                ("open incidents (50 newest)", open_list, open_list),
                ("messages of the week", recent_messages, recent_in_council),
            ):
                plain, n_all = await timed(everyone, baseline)
                scoped, n_one = await timed(one, work)
                rows.append(
                    [
                        label,
                        f"{plain * 1000:.2f}",
                        f"{scoped * 1000:.2f}",
                        f"{scoped / plain:.2f}",
                        f"{n_all:,} / {n_one:,}",
                    ]
                )
        finally:
            await engine.dispose()
    return table(
        f"council scoping: {COUNCILS} parks, {COUNCILS * MESSAGES_PER_COUNCIL:,} messages",
        ["query", "unscoped ms", "one council ms", "ratio", "rows unscoped / scoped"],
        rows,
        [
            "open incidents: the same call, every park's vs one park's session (the scoped "
            "one also filters); messages: a hand-written council filter vs the session's",
            f"mean of {ROUNDS} rounds after one warm-up; SQLite; {machine()}",
        ],
    )
