"""End to end: from a delivery to the reply reaching the (fake) platform, p50/p99 under load.

The real app with its workers (as `serve` runs them) on a SQLite file; the load generator
and the fake Zalo Bot API share another process, so both ends of the time are taken on one
monotonic clock there. Deliveries are "/huongdan" from distinct users at a fixed rate.
The baseline, in the same run: a bare relay that posts a reply to the fake platform
straight from the webhook handler (no storage, no parsing, no queue): the network floor.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.common import (
    SECRET,
    TOKEN,
    bench_settings,
    delivery,
    machine,
    ms,
    pct,
    run_as_serve,
    serve,
    table,
)
from bot.app import create_app

RATES = (20, 100)  # deliveries per second
SECONDS = 8.0
DRAIN_SECONDS = 60.0  # the most we wait for replies after the load
# Deliveries per flood run (each mix and the relay); ANTT_BENCH_E2E_EVENTS overrides it.
FLOOD_EVENTS = int(os.environ.get("ANTT_BENCH_E2E_EVENTS", "3000"))
# Before each flood, an unmeasured one of this many deliveries on its own database, numbered
# from WARM_FIRST (so no sender, chat or text of the measured run is seen before it).
WARM_UP = int(os.environ.get("ANTT_BENCH_E2E_WARM_UP", "500"))
WARM_FIRST = 10_000_000


async def _child(conn: Any, rate: int, seconds: float, drain: float) -> None:
    replied: dict[str, float] = {}

    async def send(request: web.Request) -> web.Response:
        body = await request.json()
        replied.setdefault(body["chat_id"], time.monotonic())
        return web.json_response(
            {"ok": True, "result": {"message_id": "x" * 20, "date": 1789033572455}}
        )

    app = web.Application()
    app.router.add_post("/{bot}/{method}", send)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    conn.send(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    url = conn.recv()
    sent: dict[str, float] = {}
    statuses: dict[int, int] = {}
    headers = {"Content-Type": "application/json", "X-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as http:

        async def one(i: int) -> None:
            chat = f"e{rate}-{i:07d}"
            t0 = time.monotonic()
            async with http.post(
                url, data=delivery(f"m{chat}", "/huongdan", sender=chat), headers=headers
            ) as resp:
                await resp.read()
                statuses[resp.status] = statuses.get(resp.status, 0) + 1
                if resp.status == 200:
                    sent[chat] = t0

        tasks = []
        start = time.monotonic()
        for i in range(int(rate * seconds)):  # open loop: a fixed schedule, not answer-paced
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        deadline = time.monotonic() + drain
        while len(replied) < len(sent) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    await runner.cleanup()
    lat = [replied[c] - t for c, t in sent.items() if c in replied]
    conn.send({"sent": len(sent), "replied": len(lat), "lat": lat, "statuses": statuses})


def _child_main(conn: Any, rate: int, seconds: float, drain: float) -> None:
    # A spawned child imports this module afresh: the durations come as arguments.
    asyncio.run(_child(conn, rate, seconds, drain))


def relay_app(api_base: str) -> web.Application:
    """The floor: answer each delivery by posting a reply at once, then answer 200."""
    app = web.Application()
    key = web.AppKey("http", aiohttp.ClientSession)

    async def session(app: web.Application) -> Any:
        app[key] = aiohttp.ClientSession()
        yield
        await app[key].close()

    async def handler(request: web.Request) -> web.Response:
        body = await request.json()
        chat = body["message"]["chat"]["id"]
        async with request.app[key].post(
            f"{api_base}/bot{TOKEN}/sendMessage", json={"chat_id": chat, "text": "ok"}
        ) as resp:
            await resp.read()
        return web.json_response({"ok": True})

    app.cleanup_ctx.append(session)
    app.router.add_post("/webhook/zalo-bot", handler)
    return app


async def run(rate: int, tmp: Path, relay: bool = False) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_child_main, args=(child, rate, SECONDS, DRAIN_SECONDS), daemon=True)
    proc.start()
    child.close()  # so that recv raises EOFError if the child dies, instead of waiting forever
    loop = asyncio.get_running_loop()
    port = await loop.run_in_executor(None, parent.recv)
    api_base = f"http://127.0.0.1:{port}"
    if relay:
        app = relay_app(api_base)
    else:
        settings = bench_settings(
            tmp / f"e2e{rate}.db", platform={"api_base": api_base, "token": TOKEN}
        )
        app = create_app(settings)
    served = await serve(app)
    try:
        parent.send(f"{served.url}/webhook/zalo-bot")
        result: dict[str, Any] = await asyncio.wait_for(
            loop.run_in_executor(None, parent.recv), SECONDS + DRAIN_SECONDS + 60
        )
    finally:
        await served.close()
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()
    return result


async def flood_table(n: int) -> str:
    """Throughput per mix, with the bare relay under the same flood as the baseline."""
    from bench import e2e_flood

    rows = []
    with tempfile.TemporaryDirectory(prefix="antt-bench-") as d:
        tmp = Path(d)
        if WARM_UP:
            await e2e_flood.run("mix, 100 chats", WARM_UP, tmp, relay=True, first=WARM_FIRST)
        base = await e2e_flood.run("mix, 100 chats", n, tmp, relay=True)
        base_rate = base["ok"] / base["elapsed"]
        runs = [("bare relay (baseline)", base)]
        # What the app's own pipeline costs before any handler reads a word: what is left
        # for the handlers, whatever this machine's speed that minute.
        floor_mix = "mix, 100 chats"
        if WARM_UP:
            await e2e_flood.run(
                floor_mix, WARM_UP, tmp, first=WARM_FIRST, handler=e2e_flood.one_reply
            )
        floor = await e2e_flood.run(floor_mix, n, tmp, handler=e2e_flood.one_reply)
        runs.append((f"pipeline floor: {floor_mix}", floor))
        for mix in e2e_flood.MIXES:
            # A server that has been up a while: statement plans, SQLAlchemy's compiled
            # cache and the like are built. Other senders, chats and texts than the run's.
            if WARM_UP:
                await e2e_flood.run(mix, WARM_UP, tmp, first=WARM_FIRST)
            runs.append((f"real app: {mix}", await e2e_flood.run(mix, n, tmp)))
    for name, r in runs:
        rate = r["ok"] / r["elapsed"] if r["elapsed"] else 0.0
        rows.append(
            [
                name,
                r["ok"],
                r["sends"],
                f"{rate:,.0f}",
                f"{rate / base_rate:.2f}x",
                f"{r['ok'] / r['handled']:,.0f}",
                ms(pct(r["lat"], 50)),
                ms(pct(r["lat"], 99)),
                f"{r['ok'] / r['flooded']:,.0f}",
                f"{1000 * r['cpu'] / r['ok']:.2f}" if r["ok"] else "-",
            ]
        )
    return table(
        f"end to end under a flood ({e2e_flood.CONNECTIONS} connections, {n} deliveries)",
        [
            "handler",
            "200 answers",
            "sends seen",
            "events/s end to end",
            "vs relay",
            "handled/s",
            "intake p50 ms",
            "intake p99 ms",
            "intake/s",
            "server CPU ms/event",
        ],
        rows,
        [
            "events/s: deliveries over the time from the first one to the last send seen, "
            "once the inbox and the outbox are empty",
            f"each flood after an unmeasured one of {WARM_UP} other deliveries (a warm server)",
            "server CPU ms/event: the app's process (every thread) from the first delivery to "
            "the drain, per delivery: 1,000 events/s on its one event loop needs about 1.0 or less",
            "pipeline floor: the real app with every event answered by one queued reply and no "
            "handler (intake, inbox, claims, a slice, the outbox and the sender alone)",
            f"SQLite, workers on (as serve runs); {machine()}",
        ],
    )


def main() -> str:
    """Both tables, on the event loop `antt-bot serve` runs (uvloop where it would be)."""
    return run_as_serve(_main())


async def _main() -> str:
    flood = await flood_table(FLOOD_EVENTS)
    return flood + "\n\n" + await latency_table()


async def latency_table() -> str:
    rows = []
    notes = []
    with tempfile.TemporaryDirectory(prefix="antt-bench-") as d:
        for rate in RATES:
            results = {}
            for relay in (True, False):
                r = await run(rate, Path(d), relay=relay)
                results[relay] = r
                rows.append(
                    [
                        "bare relay (baseline)" if relay else "real app (serve)",
                        f"{rate}/s for {SECONDS:.0f} s",
                        r["sent"],
                        r["replied"],
                        ms(pct(r["lat"], 50)),
                        ms(pct(r["lat"], 99)),
                        ms(max(r["lat"] or [0])),
                    ]
                )
            base, real = pct(results[True]["lat"], 50), pct(results[False]["lat"], 50)
            notes.append(
                f"{rate}/s: real p50 is {real / base if base else float('inf'):.1f}x the relay's"
            )
    notes.append(f"real app with workers on, SQLite, fake platform on loopback; {machine()}")
    return table(
        "end to end (delivery -> reply at the fake Zalo)",
        ["handler", "load", "200 answers", "replies seen", "p50 ms", "p99 ms", "max ms"],
        rows,
        notes,
    )


if __name__ == "__main__":
    print(main())
