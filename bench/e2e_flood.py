"""End-to-end throughput: a flood of deliveries, until every event is handled and replied to.

32 connections send N deliveries as fast as they are answered (the intake p50/p99 of those
answers is intake under a flood with the workers on). Throughput is N over the time from the
first delivery to the last send reaching the fake Zalo Bot API, once the app's inbox and
outbox are empty. The baseline in the same run is the bare relay (bench/e2e.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import multiprocessing as mp
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bench.common import SECRET, TOKEN, bench_settings, serve
from bot import processor
from bot.app import create_app
from handlers.clock import Clock
from handlers.config import Settings
from handlers.events import InboundEvent
from models.outbox import enqueue

CONNECTIONS = 32
GROUPS = 100
REGULARS = 500  # members who already spoke once (their check-ins and reports)
COORDINATORS = "gcoord"  # the coordinators' group chat (alerts)
_runs = itertools.count()


def body(i: int, text: str, sender: str, chat: str, group: bool) -> bytes:
    """A Zalo Bot Platform text delivery."""
    return json.dumps(
        {
            "event_name": "message.text.received",
            "message": {
                "from": {"id": sender, "display_name": f"Bench {sender}", "is_bot": False},
                "chat": {"id": chat, "chat_type": "GROUP" if group else "PRIVATE"},
                "text": text,
                "message_id": f"f{i:019d}",
                "date": int(time.time() * 1000),
            },
        },
        ensure_ascii=False,
    ).encode()


def mixed(i: int, chats: int) -> bytes:
    """A third new members, a third check-ins, a third (ordinary) incident reports, over
    `chats` groups."""
    chat = f"g{i % chats:04d}"
    if i % 3 == 0:
        return body(i, "có mặt", f"new{i:07d}", chat, True)
    sender = f"reg{i % REGULARS:05d}"
    if i % 3 == 1:
        return body(i, "có mặt", sender, chat, True)
    # Not a fire: an urgent report alerts every group of the park (100 sends, not 1).
    return body(i, f"Báo cáo: đèn chiếu sáng ở kho số {i} bị hỏng", sender, chat, True)


def newcomer(i: int) -> bytes:
    """A new member's first private message: two replies (the guide, the guest note)."""
    return body(i, "/huongdan", f"dm{i:07d}", f"dm{i:07d}", False)


MIXES: dict[str, Callable[[int], bytes]] = {
    "mix, 100 chats": lambda i: mixed(i, GROUPS),
    "mix, 1 chat": lambda i: mixed(i, 1),
    "new members (private)": newcomer,
}


async def _child(conn: Any, mix: str, n: int, expect: int | None, first: int) -> None:
    sends = 0
    last = 0.0

    async def send(request: web.Request) -> web.Response:
        nonlocal sends, last
        await request.read()
        sends += 1
        last = time.monotonic()
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
    make = MIXES[mix]
    bodies = [make(first + i) for i in range(n)]
    lat: list[float] = []
    statuses: dict[int, int] = {}
    headers = {"Content-Type": "application/json", "X-Bot-Api-Secret-Token": SECRET}
    counter = iter(range(n))
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            for i in counter:
                t0 = time.monotonic()
                async with http.post(url, data=bodies[i], headers=headers) as resp:
                    await resp.read()
                statuses[resp.status] = statuses.get(resp.status, 0) + 1
                if resp.status == 200:
                    lat.append(time.monotonic() - t0)

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
        flooded = time.monotonic() - start
        conn.send(statuses.get(200, 0))
        while True:  # until the relay's replies are in, or the app says it is done
            if expect is not None and sends >= expect:
                break
            if expect is None and conn.poll():
                conn.recv()
                break
            await asyncio.sleep(0.02)
    await runner.cleanup()
    conn.send(
        {
            "ok": statuses.get(200, 0),
            "statuses": statuses,
            "lat": lat,
            "sends": sends,
            "flooded": flooded,
            "elapsed": last - start,
            "start": start,
        }
    )


async def one_reply(
    session: AsyncSession,
    settings: Settings,
    clock: Clock,
    event: InboundEvent,
    event_pk: int | None = None,
) -> None:
    """The pipeline floor's handler: one reply queued per event, no reading of the text,
    no member, group or record: what delivery, storage, claiming and sending cost alone."""
    key = f"floor:{event_pk}"
    await enqueue(
        session, chat_id=event.chat_id, text="Đã nhận.", kind="reply", key=key, now=clock.now()
    )


@contextlib.contextmanager
def handled_by(handler: Callable[..., Awaitable[None]] | None) -> Iterator[None]:
    """The processor hands events to `handler` instead of the real handlers (None: as is)."""
    real = processor.handle_event
    if handler is not None:
        processor.handle_event = handler  # type: ignore[assignment]
    try:
        yield
    finally:
        processor.handle_event = real


def _child_main(conn: Any, mix: str, n: int, expect: int | None, first: int) -> None:
    asyncio.run(_child(conn, mix, n, expect, first))


class _Progress:
    """(events handled, replies still to send), read beside the app, not through it: one
    read-only connection kept open, so that the 50 ms poll costs the measured process little.
    Both counts are of rows still waiting, read by an index: counting the handled rows
    scanned the whole inbox every 50 ms (a 20,000-event flood's poll cost the app's process
    a few percent of its CPU, in a thread that took the GIL from the loop)."""

    def __init__(self, db: Path) -> None:
        self._db = db
        self._conn: sqlite3.Connection | None = None

    def __call__(self, stored: int) -> tuple[int, int]:
        if self._conn is None:
            self._conn = sqlite3.connect(
                f"file:{self._db}?mode=ro", uri=True, timeout=5, check_same_thread=False
            )
        c = self._conn
        pending = c.execute("SELECT count(*) FROM inbound_events WHERE status = 'pending'")
        done = stored - int(pending.fetchone()[0])
        waiting = c.execute("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')")
        return done, int(waiting.fetchone()[0])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


async def run(
    mix: str,
    n: int,
    tmp: Path,
    relay: bool = False,
    first: int = 0,
    handler: Callable[..., Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """One flood of `n` deliveries of `mix` (numbered from `first`) on a new database; with
    `handler`, the app's processor hands its events to it (the pipeline floor)."""
    with handled_by(handler):
        return await _run(mix, n, tmp, relay, first)


async def _run(mix: str, n: int, tmp: Path, relay: bool, first: int) -> dict[str, Any]:
    from bench.e2e import relay_app

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(
        target=_child_main, args=(child, mix, n, n if relay else None, first), daemon=True
    )
    proc.start()
    child.close()
    loop = asyncio.get_running_loop()
    port = await loop.run_in_executor(None, parent.recv)
    api_base = f"http://127.0.0.1:{port}"
    db = tmp / f"flood-{next(_runs)}.db"
    if relay:
        app = relay_app(api_base)
    else:
        settings = bench_settings(
            db,
            platform={"api_base": api_base, "token": TOKEN},
            # Alerts go to the coordinators' group, as in a configured park (with nobody
            # configured an urgent report reaches every group: 100 sends per report here).
            coordinators=[COORDINATORS],
            log_level="ERROR",
        )
        app = create_app(settings)
    served = await serve(app)
    handled_at: float | None = None
    progress = _Progress(db)
    try:
        # The CPU of this process (the app, its threads, the drain poll), not the load
        # generator's: the cost of an event whatever the machine's speed that minute.
        cpu_start = time.process_time()
        parent.send(f"{served.url}/webhook/zalo-bot")
        ok: int = await asyncio.wait_for(loop.run_in_executor(None, parent.recv), 300)
        deadline = time.monotonic() + 300
        while not relay:
            handled, waiting = await asyncio.to_thread(progress, ok)
            if handled >= ok and handled_at is None:
                handled_at = time.monotonic()
            if handled >= ok and waiting == 0:
                parent.send("done")
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{mix}: not settled in 300 s")
            await asyncio.sleep(0.05)
        result: dict[str, Any] = await asyncio.wait_for(loop.run_in_executor(None, parent.recv), 60)
        result["cpu"] = time.process_time() - cpu_start
    finally:
        progress.close()
        await served.close()
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()
    # When the last event was handled (to within the 50 ms poll), on the same clock.
    result["handled"] = handled_at - result["start"] if handled_at else result["elapsed"]
    return result
