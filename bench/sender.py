"""The sender alone: a stored outbox sent to a fake Zalo Bot API in another process.

Each flood mix of the e2e bench (bench/e2e_flood.py) is delivered through the real webhook
and handled by the real processor with the workers off, which fills the outbox with the
replies the bot really writes (new members: 2 rows each in their own private chat; the group
mixes: about one row per event, over 100 groups or all in one). Then the Sender's `run_once`
runs until the outbox is empty, against a fake Zalo Bot API served by a second process (so
its cost is not counted). It prints sends/s, the app process's CPU per send, the statements
per send and how many rows a claim took.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import event

from bench import e2e_flood
from bench.common import SECRET, TOKEN, bench_settings, machine, run_as_serve, serve, table
from bench.processor import _kind
from bot import keys
from bot.app import create_app

EVENTS = int(os.environ.get("ANTT_BENCH_SENDER_EVENTS", "3000"))
SENDERS = 16  # connections that store the backlog (not measured)


async def _fake_zalo(conn: Any) -> None:
    """Answer every Bot API call as Zalo does, counting the calls, until told to stop."""
    calls = 0

    async def api(request: web.Request) -> web.Response:
        nonlocal calls
        await request.read()
        calls += 1
        return web.json_response(
            {"ok": True, "result": {"message_id": f"z{calls:019d}", "date": 1789033572455}}
        )

    app = web.Application()
    app.router.add_post("/{bot}/{method}", api)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    conn.send(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, conn.recv)  # "stop"
    await runner.cleanup()
    conn.send(calls)


def _fake_zalo_main(conn: Any) -> None:
    asyncio.run(_fake_zalo(conn))


def _outbox_counts(db: Path) -> Counter[str]:
    """Outbox rows by status, read beside the app."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
        return Counter(dict(c.execute("SELECT status, count(*) FROM outbox GROUP BY status")))


async def _store_backlog(url: str, mix: str, n: int) -> None:
    """Deliver `n` events of `mix` through the webhook (workers off: they wait in the inbox)."""
    make = e2e_flood.MIXES[mix]
    headers = {"Content-Type": "application/json", "X-Bot-Api-Secret-Token": SECRET}
    todo = iter(range(n))
    async with aiohttp.ClientSession() as http:

        async def store() -> None:
            for i in todo:
                async with http.post(f"{url}/webhook/zalo-bot", data=make(i), headers=headers) as r:
                    if r.status != 200:
                        raise RuntimeError(f"delivery {i}: HTTP {r.status}")

        await asyncio.gather(*(store() for _ in range(SENDERS)))
    await asyncio.sleep(0.2)  # the inbox writer's last batch


async def run(mix: str, n: int, tmp: Path) -> dict[str, Any]:
    """Fill the outbox from `n` deliveries of `mix`, then send it all; the sending's figures."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_fake_zalo_main, args=(child,), daemon=True)
    proc.start()
    child.close()
    loop = asyncio.get_running_loop()
    try:
        port = await asyncio.wait_for(loop.run_in_executor(None, parent.recv), 60)
        db = tmp / f"sender-{abs(hash(mix))}.db"
        settings = bench_settings(
            db,
            platform={"api_base": f"http://127.0.0.1:{port}", "token": TOKEN},
            coordinators=[e2e_flood.COORDINATORS],
            log_level="ERROR",
        )
        app = create_app(settings, workers=False)
        served = await serve(app)
        try:
            await _store_backlog(served.url, mix, n)
            runtime = app[keys.RUNTIME]
            while await runtime.processor.run_once() > 0:
                pass
            queued = sum(_outbox_counts(db).values())
            kinds: Counter[str] = Counter()

            def count(_c: Any, _cur: Any, sql: str, *_rest: Any) -> None:
                kinds[_kind(sql)] += 1

            engine = app[keys.ENGINE].sync_engine
            event.listen(engine, "before_cursor_execute", count)
            claims = 0
            wall, cpu = time.perf_counter(), time.process_time()
            while await runtime.sender.run_once() > 0:
                claims += 1
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            event.remove(engine, "before_cursor_execute", count)
        finally:
            await served.close()
        parent.send("stop")
        calls: int = await asyncio.wait_for(loop.run_in_executor(None, parent.recv), 60)
    finally:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()
    status = _outbox_counts(db)
    return {
        "queued": queued,
        "sent": status["sent"],
        "left": queued - status["sent"],
        "calls": calls,
        "claims": claims,
        "wall": wall,
        "cpu": cpu,
        "kinds": kinds,
    }


def main() -> str:
    """The table, on the event loop `antt-bot serve` runs (uvloop where it would be)."""
    return run_as_serve(_main())


async def _main() -> str:
    rows = []
    with tempfile.TemporaryDirectory(prefix="antt-bench-") as d:
        for mix in e2e_flood.MIXES:
            r = await run(mix, EVENTS, Path(d))
            sends = max(1, r["calls"])
            kinds: Counter[str] = r["kinds"]
            top = ", ".join(f"{k} {c / sends:.2f}" for k, c in kinds.most_common(4))
            rows.append(
                [
                    mix,
                    f"{r['queued']:,}",
                    f"{r['sent']:,}",
                    f"{r['calls']:,}",
                    f"{r['calls'] / r['wall']:,.0f}",
                    f"{r['cpu'] / sends * 1000:.3f}",
                    f"{sum(kinds.values()) / sends:.2f}",
                    f"{r['sent'] / max(1, r['claims']):.1f}",
                    top,
                ]
            )
    return table(
        f"the sender alone on a stored outbox (the replies to {EVENTS} deliveries per mix)",
        [
            "mix",
            "rows queued",
            "rows sent",
            "sends",
            "sends/s",
            "CPU ms/send",
            "statements/send",
            "rows/claim",
            "most run, per send",
        ],
        rows,
        notes=[
            "outbox filled by the real processor (workers off); then `Sender.run_once` until "
            "the outbox is empty",
            "sends: calls the fake Zalo Bot API (another process) answered",
            "CPU: the app's whole process while sending (SQLite runs inline, on the loop)",
            f"SQLite; {machine()}",
        ],
    )
