"""Intake: deliveries/s and answer time at 32 connections, real app vs two baselines.

The same script, machine and table for: a bare aiohttp handler that only parses the JSON,
a naive handler with one ORM session and commit per request (same table, SQLite in WAL
mode; once on SQLAlchemy's stock aiosqlite engine, the baseline of the target, and once on
the app's own engine, to show what group commit alone gives), and the real app
(`create_app`, route /webhook/zalo-bot with the secret), with its workers off and on. The
load comes from another process (one ClientSession, connector limit 32). Each run gets a
fresh SQLite file; 200 answers are counted against rows stored.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bench.common import (
    LoadResult,
    NullClient,
    bench_settings,
    load_in_process,
    machine,
    ms,
    pct,
    pg_scratch,
    postgres_url,
    serve,
    table,
)
from bot import keys
from bot.app import create_app
from bot.platforms import zalo_bot
from bot.platforms.base import DeliveryError
from handlers.clock import SystemClock
from handlers.config import Settings
from handlers.events import event_to_json
from models.db import ensure_schema, make_engine, make_sessionmaker, upgrade
from models.tables import InboundEvent as InboxRow

CONNECTIONS = 32
SECONDS = 10.0
MAX_REQUESTS = 400_000  # a bound in count as well as in time
HANDLED: dict[str, int] = {}  # events the workers handled during a run


async def _count_rows(sessions: async_sessionmaker[AsyncSession], handled: bool = False) -> int:
    stmt = select(func.count()).select_from(InboxRow)
    if handled:
        stmt = stmt.where(InboxRow.status != "pending")
    async with sessions() as session:
        return int((await session.execute(stmt)).scalar_one())


def bare_app() -> web.Application:
    """The floor: read the body, parse the JSON, answer."""

    async def handler(request: web.Request) -> web.Response:
        try:
            json.loads(await request.read())
        except ValueError:
            return web.json_response({"ok": False}, status=400)
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/webhook/zalo-bot", handler)
    return app


def naive_app(sessions: async_sessionmaker[AsyncSession]) -> web.Application:
    """What one writes first: parse, then one session and one commit per request."""
    clock = SystemClock()

    async def handler(request: web.Request) -> web.Response:
        try:
            events = zalo_bot.parse_delivery(await request.read(), clock.now())
        except DeliveryError:
            return web.json_response({"ok": False}, status=400)
        for ev in events:
            try:
                async with sessions() as session, session.begin():
                    session.add(
                        InboxRow(
                            platform=ev.platform,
                            event_key=ev.event_key,
                            event_name=ev.event_name,
                            message_id=ev.message_id,
                            chat_id=ev.chat_id,
                            sender_id=ev.sender_id,
                            received_at=clock.now(),
                            payload={"event": event_to_json(ev), "raw": ev.raw},
                            status="pending",
                            attempts=0,
                        )
                    )
            except IntegrityError:
                pass  # a redelivery
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/webhook/zalo-bot", handler)
    return app


async def _measure(app: web.Application, prefix: str) -> LoadResult:
    served = await serve(app)
    try:
        return await load_in_process(
            url=f"{served.url}/webhook/zalo-bot",
            connections=CONNECTIONS,
            seconds=SECONDS,
            max_requests=MAX_REQUESTS,
            prefix=prefix,
        )
    finally:
        await served.close()


async def run_bare() -> tuple[LoadResult, int | None]:
    return await _measure(bare_app(), "bare"), None


def stock_engine(path: Path) -> AsyncEngine:
    """SQLAlchemy's aiosqlite engine as one first writes it (a thread per connection), with
    the app's durability settings (WAL, synchronous=NORMAL) so that fsyncs do not decide."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}", connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _wal(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


async def run_naive(tmp: Path, stock: bool) -> tuple[LoadResult, int | None]:
    name = "naive-stock" if stock else "naive-app"
    db = tmp / f"{name}.db"
    await _migrate(db)
    engine = stock_engine(db) if stock else make_engine(f"sqlite+aiosqlite:///{db}")
    try:
        sessions = make_sessionmaker(engine)
        result = await _measure(naive_app(sessions), name)
        return result, await _count_rows(sessions)
    finally:
        await engine.dispose()


async def _migrate(db: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    try:
        await ensure_schema(engine)
    finally:
        await engine.dispose()


async def run_real(
    tmp: Path, workers: bool, pg: str | None = None
) -> tuple[LoadResult, int | None]:
    if pg is not None:
        return await _on_postgres(pg, workers)
    name = "real-w" if workers else "real"
    settings = bench_settings(tmp / f"{name}.db")
    return await _run_app(settings, workers, name)


async def _on_postgres(base_url: str, workers: bool) -> tuple[LoadResult, int | None]:
    """The real app on a scratch PostgreSQL database, migrated as `antt-bot db upgrade` does."""
    url, drop = await pg_scratch(base_url)
    try:
        engine = make_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        settings = bench_settings(Path("unused.db"), database={"url": url})
        return await _run_app(settings, workers, "pg-w" if workers else "pg")
    finally:
        await drop()


async def _run_app(settings: Settings, workers: bool, name: str) -> tuple[LoadResult, int | None]:
    app = create_app(settings, client=NullClient(), workers=workers)
    served = await serve(app)
    try:
        result = await load_in_process(
            url=f"{served.url}/webhook/zalo-bot",
            connections=CONNECTIONS,
            seconds=SECONDS,
            max_requests=MAX_REQUESTS,
            prefix=name,
        )
        stored = await _count_rows(app[keys.SESSIONS])
        if workers:
            HANDLED[name] = await _count_rows(app[keys.SESSIONS], handled=True)
    finally:
        await served.close()
    return result, stored


async def main() -> str:
    rows = []
    results: dict[str, LoadResult] = {}
    with tempfile.TemporaryDirectory(prefix="antt-bench-") as d:
        tmp = Path(d)
        runs: list[tuple[str, Callable[[], Awaitable[tuple[LoadResult, int | None]]]]] = [
            ("bare aiohttp, JSON only", run_bare),
            ("naive: session+commit per request, stock aiosqlite", lambda: run_naive(tmp, True)),
            ("naive, on the app's engine (SQLite on the loop)", lambda: run_naive(tmp, False)),
            ("real app, workers off", lambda: run_real(tmp, workers=False)),
            ("real app, workers on (production)", lambda: run_real(tmp, workers=True)),
        ]
        pg = postgres_url()
        if pg:
            runs += [
                ("real app on PostgreSQL, workers off", lambda: run_real(tmp, False, pg)),
                ("real app on PostgreSQL, workers on", lambda: run_real(tmp, True, pg)),
            ]
        for label, run in runs:
            result, stored = await run()
            results[label] = result
            others = {k: v for k, v in result.statuses.items() if k != 200}
            rows.append(
                [
                    label,
                    f"{result.rate:,.0f}",
                    ms(pct(result.latencies, 50)),
                    ms(pct(result.latencies, 99)),
                    f"{result.ok:,}",
                    "-" if stored is None else f"{stored:,}",
                    (", ".join(f"{k}: {v}" for k, v in others.items()) or "0")
                    + (f", conn errors: {result.errors}" if result.errors else ""),
                ]
            )
    bare = results["bare aiohttp, JSON only"].rate
    naive = results["naive: session+commit per request, stock aiosqlite"].rate
    naive_app_engine = results["naive, on the app's engine (SQLite on the loop)"].rate
    notes = []
    for label in [k for k in results if k.startswith("real app")]:
        r = results[label]
        notes.append(
            f"{label}: {r.rate / bare:.2f}x bare (target >= 0.5), "
            f"{r.rate / naive if naive else float('inf'):.1f}x naive (target >= 5), "
            f"p99 {ms(pct(r.latencies, 99))} ms (target < 50); "
            f"{r.rate / naive_app_engine if naive_app_engine else float('inf'):.1f}x the naive "
            "handler on the app's own engine (group commit alone)"
        )
    if "pg-w" in HANDLED:
        notes.append(
            f"PostgreSQL (asyncpg, the local server), workers on: {HANDLED['pg-w']:,} handled"
            f" within the {SECONDS:.0f} s"
        )
    elif not postgres_url():
        notes.append("PostgreSQL rows skipped: set ANTT_BENCH_POSTGRES_URL")
    if "real-w" in HANDLED:
        notes.append(
            f"workers on: {HANDLED['real-w']:,} of the deliveries were also handled (replies "
            f"queued and sent to a null platform) within the {SECONDS:.0f} s; the rest stay "
            "safely in the inbox: processing shares the one core with intake"
        )
    notes.append(
        f"{CONNECTIONS} connections, {SECONDS:.0f} s each, unique events, SQLite (WAL) "
        f"file in a temp dir; load generator in its own process; {machine()}"
    )
    return table(
        "intake (POST /webhook/zalo-bot)",
        [
            "handler",
            "deliveries/s",
            "p50 ms",
            "p99 ms",
            "200 answers",
            "rows stored",
            "other answers",
        ],
        rows,
        notes,
    )


if __name__ == "__main__":
    print(asyncio.run(main()))
