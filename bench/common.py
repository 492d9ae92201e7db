"""What the benchmarks share: settings in a temp dir, a server on port 0, a load generator
in its own process, percentiles and a plain-text table. Loopback only, bounded in time."""

from __future__ import annotations

import asyncio
import gc
import json
import multiprocessing as mp
import os
import platform
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from bot.connections import keep_startup_out_of_gc, run_loop
from bot.platforms.base import OutboundMessage, SendResult
from handlers.config import Settings, load_settings

SECRET = "bench-secret-0123456789"
TOKEN = "1459232241454765289:BenchTokenSecret"
HOST = "127.0.0.1"
T = TypeVar("T")
# Nothing is ever sent off this machine: a port that refuses, on loopback.
NOWHERE = "http://127.0.0.1:9"


def bench_settings(db_path: Path, **sections: Any) -> Settings:
    """The shipped defaults with a zalo_bot platform, a temp SQLite file and no budget cap."""
    data: dict[str, Any] = {
        "database": {"url": f"sqlite+aiosqlite:///{db_path}"},
        "platform": {
            "kind": "zalo_bot",
            "api_base": NOWHERE,
            "token": TOKEN,
            "webhook_secret": SECRET,
        },
        "engagement": {"holidays": [], "monthly_message_budget": 0},
        "log_level": "WARNING",
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return load_settings(None, environ={}, overrides=data)


def run_as_serve(main: Coroutine[Any, Any, T]) -> T:
    """Run a bench whose app runs in this process on the event loop `antt-bot serve` would
    run here (uvloop unless the environment says otherwise: ANTT_SERVER__UVLOOP=false)."""
    return run_loop(main, uvloop=load_settings(None).server.uvloop)


class NullClient:
    """A platform that accepts every send at once, counting them."""

    name = "null"

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, message: OutboundMessage) -> SendResult:
        self.sent += 1
        return SendResult(message_ids=(f"n{self.sent:019d}",))

    async def close(self) -> None:
        return None


@dataclass
class Served:
    runner: web.AppRunner
    url: str

    async def close(self) -> None:
        await self.runner.cleanup()
        gc.unfreeze()  # the next app of this bench process starts as `serve` would


async def serve(app: web.Application) -> Served:
    """Run `app` on 127.0.0.1, port 0 (no access log, as `serve` runs it at WARNING)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    keep_startup_out_of_gc()  # as `serve` does once it listens
    return Served(runner, f"http://{HOST}:{port}")


def delivery(
    message_id: str, text: str = "xin chào", sender: str = "u1", chat: str | None = None
) -> bytes:
    """A Zalo Bot Platform text delivery (the bare envelope of the real capture)."""
    return json.dumps(
        {
            "event_name": "message.text.received",
            "message": {
                "from": {"id": sender, "display_name": "Nguyễn Văn Bench", "is_bot": False},
                "chat": {"id": chat or sender, "chat_type": "PRIVATE"},
                "text": text,
                "message_id": message_id,
                "date": int(time.time() * 1000),
            },
        },
        ensure_ascii=False,
    ).encode()


# ---------------------------------------------------------------- load generator


@dataclass
class LoadResult:
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)  # seconds, 200 answers only
    elapsed: float = 0.0
    errors: int = 0
    sent_at: dict[str, float] = field(default_factory=dict)  # message id -> monotonic start

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0


async def closed_loop(
    url: str,
    *,
    connections: int,
    seconds: float,
    max_requests: int,
    text: str = "xin chào",
    senders: int = 1000,
    prefix: str = "b",
    record_ids: bool = False,
) -> LoadResult:
    """`connections` workers send deliveries one after another until time or count runs out."""
    import aiohttp

    result = LoadResult()
    headers = {"Content-Type": "application/json", "X-Bot-Api-Secret-Token": SECRET}
    counter = iter(range(max_requests))
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            for n in counter:
                if time.monotonic() >= deadline:
                    return
                mid = f"{prefix}{n:019d}"
                body = delivery(mid, text, sender=f"s{n % senders:05d}")
                t0 = time.monotonic()
                try:
                    async with http.post(url, data=body, headers=headers) as resp:
                        await resp.read()
                        status = resp.status
                except aiohttp.ClientError:
                    result.errors += 1
                    continue
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status == 200:
                    result.latencies.append(time.monotonic() - t0)
                    if record_ids:
                        result.sent_at[mid] = t0

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(connections)))
        result.elapsed = time.monotonic() - start
    return result


def _loadgen_child(conn: Any, kwargs: dict[str, Any]) -> None:
    result = asyncio.run(closed_loop(**kwargs))
    conn.send(result)
    conn.close()


async def load_in_process(**kwargs: Any) -> LoadResult:
    """Run `closed_loop` in a separate process, so the load has its own core and event loop."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_loadgen_child, args=(child, kwargs), daemon=True)
    proc.start()
    child.close()
    limit = time.monotonic() + kwargs["seconds"] + 60
    try:
        while not parent.poll():
            if time.monotonic() > limit or (not proc.is_alive() and not parent.poll()):
                raise RuntimeError("load generator died or hung")
            await asyncio.sleep(0.05)
        result: LoadResult = parent.recv()
    finally:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()
    return result


# ---------------------------------------------------------------- figures


def postgres_url() -> str | None:
    """The PostgreSQL server to measure on, if one is named (a scratch database is used)."""
    return os.environ.get("ANTT_BENCH_POSTGRES_URL") or os.environ.get("ANTT_TEST_POSTGRES_URL")


async def pg_scratch(base_url: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    """A new, empty database on the server of `base_url`: its URL and how to drop it."""
    import asyncpg

    plain = base_url.replace("postgresql+asyncpg://", "postgresql://")
    name = f"antt_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(plain)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()

    async def drop() -> None:
        conn = await asyncpg.connect(plain)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    return f"{base_url.rpartition('/')[0]}/{name}", drop


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def table(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], notes: Sequence[str] = ()
) -> str:
    """A GitHub-style table, readable in a terminal and pasteable into docs/performance.md."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    out = [f"### {title}", "", line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in cells[1:]]
    out += [""] + [f"- {n}" for n in notes]
    return "\n".join(out)


def machine() -> str:
    """One line about where the figures come from."""
    model = "unknown CPU"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                model = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({model}), {mem:.0f} GiB, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def vm_hwm_kib(pid: int) -> int:
    """Peak resident set size of a process, from /proc (kB)."""
    for ln in Path(f"/proc/{pid}/status").read_text().splitlines():
        if ln.startswith("VmHWM:"):
            return int(ln.split()[1])
    raise RuntimeError("no VmHWM in /proc status")
