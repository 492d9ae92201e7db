"""A nudge run over 10,000 quiet members (SQLite), against reading those members once."""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.common import bench_settings, machine, table
from handlers.clock import FixedClock
from handlers.jobs.engagement import nudges
from models.db import ensure_schema, make_engine, make_sessionmaker
from models.tables import Group, Member, Membership, Outbox

MEMBERS = 10_000
GROUPS = 50
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # Tuesday 10:00 in Hanoi: not quiet hours


async def seed(sessions: object) -> None:
    quiet = NOW - timedelta(days=10)
    async with sessions() as s, s.begin():  # type: ignore[operator]
        await s.execute(
            insert(Group),
            [
                {
                    "chat_id": f"g{g:019d}",
                    "name": f"Tổ {g}",
                    "kind": "enterprise",
                    "enterprise": f"Cty {g}",
                    "created_at": quiet,
                }
                for g in range(GROUPS)
            ],
        )
        await s.execute(
            insert(Member),
            [
                {
                    "member_id": f"u{i:019d}",
                    "name": f"Thành viên {i}",
                    "name_folded": f"thanh vien {i}",
                    "role": "member",
                    "status": "member",
                    "private_chat_id": f"u{i:019d}",
                    "enterprise": f"Cty {i % GROUPS}",
                    "created_at": quiet,
                    "expected_since": quiet,
                    "last_active_at": quiet,
                    "active": True,
                    "is_lead": False,
                    "display_name": "",
                }
                for i in range(MEMBERS)
            ],
        )
        ids = list((await s.execute(select(Member.id).order_by(Member.id))).scalars())
        gids = list((await s.execute(select(Group.id).order_by(Group.id))).scalars())
        await s.execute(
            insert(Membership),
            [
                {
                    "member_pk": m,
                    "group_pk": gids[i % GROUPS],
                    "from_roster": True,
                    "joined_at": quiet,
                    "last_active_at": quiet,
                }
                for i, m in enumerate(ids)
            ],
        )


async def main() -> str:
    rows = []
    with tempfile.TemporaryDirectory(prefix="antt-bench-") as d:
        settings = bench_settings(Path(d) / "nudges.db")
        engine = make_engine(settings.database.url)
        try:
            await ensure_schema(engine)
            sessions = make_sessionmaker(engine)
            await seed(sessions)
            t = time.monotonic()
            async with sessions() as s:
                n = len(
                    (
                        await s.execute(
                            select(Member, Membership).join(
                                Membership, Membership.member_pk == Member.id
                            )
                        )
                    ).all()
                )
            rows.append(
                [
                    f"baseline: read {n:,} members with their groups",
                    f"{time.monotonic() - t:.2f}",
                    "-",
                ]
            )
            clock = FixedClock(NOW)
            for label in ("nudge run (cold)", "nudge run again (idempotent)"):
                t = time.monotonic()
                queued = await nudges(sessions, settings, clock)
                rows.append([label, f"{time.monotonic() - t:.2f}", f"{queued:,}"])
            async with sessions() as s:
                outbox = (await s.execute(select(func.count()).select_from(Outbox))).scalar_one()
        finally:
            await engine.dispose()
    return table(
        f"nudges over {MEMBERS:,} quiet members in {GROUPS} groups",
        ["run", "seconds", "messages queued"],
        rows,
        [f"outbox rows after both runs: {outbox:,}; SQLite; {machine()}"],
    )


if __name__ == "__main__":
    print(asyncio.run(main()))
