"""The processor alone: a stored backlog handled with nothing else running, per flood mix.

The e2e bench's mixes (bench/e2e_flood.py) are delivered through the real webhook with the
workers off, then the processor's `run_once` runs until the inbox is empty. It prints events
handled per second, the process's CPU per event, and the statements per event (by kind), so
that a change to the handlers can be weighed without the sender and intake around it.
ANTT_BENCH_ORDINARY_PATH=1 runs every statement through SQLAlchemy's ordinary execution
(models/fastlane.py off): the same code, with and without the SQLite fast path.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from collections import Counter
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import event

from bench import e2e_flood
from bench.common import SECRET, bench_settings, machine, serve, table
from bot import keys
from bot.app import create_app
from models import fastlane

EVENTS = int(os.environ.get("ANTT_BENCH_PROCESSOR_EVENTS", "3000"))
ORDINARY_PATH = os.environ.get("ANTT_BENCH_ORDINARY_PATH", "") == "1"
WARM_UP = int(os.environ.get("ANTT_BENCH_PROCESSOR_WARM_UP", "300"))
WARM_FIRST = 10_000_000  # the warm-up's senders, chats and texts are not the run's
SENDERS = 16  # connections that store the backlog (not measured)


@lru_cache(maxsize=4096)
def _kind(sql: str) -> str:
    """SAVEPOINT, SELECT, INSERT <table>, UPDATE <table>... (what a statement is). Kept
    per text: the same statements come again and again, and a regex each time was 7-8 %
    of the CPU this bench measures (none of it the app's)."""
    words = re.sub(r"\s+", " ", sql).strip().split(" ")
    verb = words[0].upper()
    if verb in ("INSERT", "UPDATE") and len(words) > 2:
        return f"{verb} {words[2] if verb == 'INSERT' else words[1]}"
    return verb


async def run(mix: str, n: int, tmp: Path, first: int = 0) -> dict[str, Any]:
    """Store `n` deliveries of `mix` (numbered from `first`), then handle them; the figures
    of the handling."""
    settings = bench_settings(
        tmp / f"processor-{abs(hash(mix))}-{first}.db",
        coordinators=[e2e_flood.COORDINATORS],
        log_level="ERROR",
    )
    app = create_app(settings, workers=False)
    served = await serve(app)
    try:
        make = e2e_flood.MIXES[mix]
        headers = {"Content-Type": "application/json", "X-Bot-Api-Secret-Token": SECRET}
        todo = iter(range(first, first + n))
        async with aiohttp.ClientSession() as http:

            async def store() -> None:
                for i in todo:
                    async with http.post(
                        f"{served.url}/webhook/zalo-bot", data=make(i), headers=headers
                    ) as resp:
                        if resp.status != 200:
                            raise RuntimeError(f"delivery {i}: HTTP {resp.status}")

            await asyncio.gather(*(store() for _ in range(SENDERS)))
        await asyncio.sleep(0.2)  # the inbox writer's last batch
        processor = app[keys.RUNTIME].processor
        kinds: Counter[str] = Counter()

        def count(_c: Any, _cur: Any, sql: str, *_rest: Any) -> None:
            kinds[_kind(sql)] += 1

        engine = app[keys.ENGINE].sync_engine
        event.listen(engine, "before_cursor_execute", count)
        handled = 0
        wall, cpu = time.perf_counter(), time.process_time()
        with fastlane.ordinary_path() if ORDINARY_PATH else nullcontext():
            while (claimed := await processor.run_once()) > 0:
                handled += claimed
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        event.remove(engine, "before_cursor_execute", count)
    finally:
        await served.close()
    return {"handled": handled, "wall": wall, "cpu": cpu, "kinds": kinds}


async def main() -> str:
    rows = []
    with tempfile.TemporaryDirectory(prefix="antt-bench-") as d:
        for mix in e2e_flood.MIXES:
            if WARM_UP:  # the process's one-time costs (plans, caches) out of the figures
                await run(mix, WARM_UP, Path(d), first=WARM_FIRST)
            r = await run(mix, EVENTS, Path(d))
            n = max(1, r["handled"])
            kinds: Counter[str] = r["kinds"]
            top = ", ".join(f"{k} {c / n:.2f}" for k, c in kinds.most_common(6))
            rows.append(
                [
                    mix,
                    r["handled"],
                    f"{r['handled'] / r['wall']:,.0f}",
                    f"{r['cpu'] / n * 1000:.2f}",
                    f"{sum(kinds.values()) / n:.1f}",
                    f"{kinds['SAVEPOINT'] / n:.2f}",
                    top,
                ]
            )
    return table(
        f"the processor alone on a stored backlog ({EVENTS} deliveries per mix)",
        [
            "mix",
            "events",
            "events/s",
            "CPU ms/event",
            "statements/event",
            "savepoints/event",
            "most run, per event",
        ],
        rows,
        notes=[
            "workers off while the backlog is stored; then `run_once` until the inbox is empty",
            f"each mix after an unmeasured run of {WARM_UP} other deliveries (a warm process)",
            "CPU: the whole process while handling (SQLite runs inline, on the loop)",
            "SQLAlchemy's ordinary execution for every statement (ANTT_BENCH_ORDINARY_PATH=1)"
            if ORDINARY_PATH
            else "prebuilt statements by the SQLite fast path (models/fastlane.py)",
            f"SQLite; {machine()}",
        ],
    )
