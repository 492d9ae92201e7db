"""Peak memory, time and loop stalls of a 200,000-row dashboard download, CSV or XLSX
(docs/performance.md, No stalls).

From the repository: `PYTHONPATH=. python scripts/measure_csv_download.py seed /tmp/big.db`,
then `... measure /tmp/big.db` (peak RSS) and `... measure /tmp/big.db traced` (tracemalloc);
add `xlsx` after the database for the Excel file (`... measure /tmp/big.db xlsx traced`).
"""

from __future__ import annotations

import asyncio
import re
import resource
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert

from bot.app import create_app
from handlers.clock import FixedClock
from handlers.config import Settings, load_settings
from models.db import ensure_schema, make_engine, make_sessionmaker
from models.tables import Message
from tests.digest_factory import Factory

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
PASSWORD = "mật khẩu đủ dài 2026"
N = 200_000


def settings(db: str) -> Settings:
    return load_settings(
        None,
        environ={},
        overrides={
            "database": {"url": f"sqlite+aiosqlite:///{db}"},
            "platform": {"kind": "local", "webhook_secret": "s" * 16, "token": "123:abc"},
            "dashboard": {"password": PASSWORD},
        },
    )


async def seed(db: str) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    await ensure_schema(engine)
    sessions = make_sessionmaker(engine)
    async with sessions() as s, s.begin():
        await Factory(s).member("uDung", "Trần Thị Dung", role="coordinator", phone="0912345678")
    for start in range(0, N, 10_000):
        rows = [
            {
                "platform": "zalo_bot",
                "chat_id": "g1",
                "chat_type": "group",
                "member_id": "5487214563987412365",
                "message_id": f"m{i}",
                "sent_at": T0 - timedelta(minutes=i),
                "created_at": T0,
                "text": f"tuần tra khu B lần {i}, cổng 3 bình thường, đã kiểm tra bình chữa cháy",
            }
            for i in range(start, start + 10_000)
        ]
        async with sessions() as s, s.begin():
            await s.execute(insert(Message), rows)
    await engine.dispose()


async def ticking(late: list[float]) -> None:
    """The loop's worst lateness waking from a 10 ms sleep: what a delivery would wait."""
    while True:
        t = time.perf_counter()
        await asyncio.sleep(0.01)
        late[0] = max(late[0], time.perf_counter() - t - 0.01)


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        lines = status.readlines()
    for line in lines:
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


async def measure(db: str) -> None:
    app = create_app(settings(db), clock=FixedClock(T0), workers=False)
    client: TestClient[Any, Any] = TestClient(TestServer(app, port=0))
    await client.start_server()
    async with client.get("/dashboard/login") as resp:
        found = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
    assert found is not None
    token = found[1]
    form = {"username": "0912345678", "password": PASSWORD, "csrf": token, "next": "/"}
    async with client.post("/dashboard/login", data=form, allow_redirects=False) as resp:
        assert resp.status == 303
    before = rss_mb()
    options = sys.argv[3:]
    traced, fmt = "traced" in options, "xlsx" if "xlsx" in options else "csv"
    if traced:
        tracemalloc.start()
    late = [0.0]
    ticker = asyncio.create_task(ticking(late))
    t = time.perf_counter()
    size = 0
    async with client.get(f"/dashboard/downloads/messages.{fmt}") as resp:
        assert resp.status == 200, resp.status
        async for chunk in resp.content.iter_chunked(65536):
            size += len(chunk)
    took = time.perf_counter() - t
    ticker.cancel()
    _now, peak = tracemalloc.get_traced_memory() if traced else (0, 0)
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{fmt} bytes={size} seconds={took:.1f} tracemalloc_peak_MB={peak / 2**20:.1f} "
        f"rss_before_MB={before:.0f} peak_rss_MB={maxrss:.0f} growth_MB={maxrss - before:.0f} "
        f"worst_loop_stall_ms={late[0] * 1000:.0f}"
    )
    await client.close()


asyncio.run({"seed": seed, "measure": measure}[sys.argv[1]](sys.argv[2]))
