"""The app factory (STYLE.md 1): nothing connects at import time; resources live in cleanup_ctx."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot import health, keys
from bot.cli import UsageError
from bot.ext import install_all
from bot.inbox import InboxWriter
from bot.intake import GUARDED, add_routes, unexpected_error
from bot.metrics import Metrics
from bot.platforms.base import PlatformClient
from bot.platforms.local import LocalClient, LocalStore, check_database_platform
from bot.platforms.zalo_bot import ZaloBotClient
from bot.processor import Processor
from bot.runtime import Runtime
from bot.scheduler import make_scheduler
from bot.sender import Sender
from bot.tablefile import table_text
from bot.writeturn import WriteTurn
from handlers.calendar import warm_up as warm_up_calendar
from handlers.clock import Clock, SystemClock
from handlers.config import ConfigError, Settings
from handlers.councils import councils, group_councils
from handlers.parse import warm_up as warm_up_parser
from models.checkpoints import WalCheckpointer, run_checkpoints, sqlite_file
from models.db import durable_sessions, ensure_schema, make_engine, make_sessionmaker
from models.people import sync_configured_groups
from models.roster import import_roster_csv

log = logging.getLogger(__name__)

Startup = Callable[[web.Application], Awaitable[None]]


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{id(object()) & 0xFFFF:x}"


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    client: PlatformClient | None = None,
    workers: bool = True,
    local_store: LocalStore | None = None,
) -> web.Application:
    """Build the application. `workers=False` leaves processing to the caller (tests)."""
    app = web.Application(
        client_max_size=max(settings.server.max_body_bytes * 2, 1024 * 1024),
    )
    app[keys.SETTINGS] = settings
    app[keys.CLOCK] = clock or SystemClock()
    app[keys.METRICS] = Metrics()
    app[keys.LOCAL_STORE] = local_store or LocalStore()
    # The parts start in this order and stop in reverse. Whatever is installed below
    # (polling, extensions, the demo) appends its own context after these, so it starts
    # once the runtime runs and stops before it.
    app.cleanup_ctx.extend(
        (_database(workers), _http_session, _platform(client), _runtime(workers))
    )
    add_routes(app)
    if settings.platform.mode == "polling":
        from bot import polling

        polling.install(app)
    health.install(app)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    install_all(app)
    if not webhooks_guarded(app):
        app.middlewares.append(error_boundary)
    return app


def webhooks_guarded(app: web.Application) -> bool:
    """Whether every webhook route answers unexpected errors itself (bot/intake.py GUARDED):
    then no request pays for the error boundary as a middleware."""
    return all(
        route.handler in GUARDED
        for route in app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/webhook/")
    )


@web.middleware
async def error_boundary(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """No input ever gets a 500 from a webhook: an unexpected error asks for a redelivery."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except asyncio.CancelledError:
        raise
    except Exception:
        if request.path.startswith("/webhook/"):
            return unexpected_error(request)
        log.exception("unhandled error on %s", request.path)
        raise


def _database(workers: bool) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[keys.SETTINGS]
        url = database_url(settings)
        # Serving on a SQLite file: checkpoints run in the background (models/checkpoints.py),
        # not inside the commits that hold the write lock.
        checkpointer = WalCheckpointer(path) if workers and (path := sqlite_file(url)) else None
        engine = make_engine(
            url,
            echo=settings.database.echo,
            pool_size=settings.database.pool_size,
            connect_timeout=settings.database.connect_timeout_seconds,
            background_checkpoints=checkpointer is not None,
        )
        app[keys.ENGINE] = engine
        app[keys.SESSIONS] = make_sessionmaker(engine)
        checkpoints = None
        try:
            await ensure_schema(engine)
            await sync_groups(app)
            await import_configured_roster(app)
            if checkpointer is not None:
                checkpoints = asyncio.create_task(
                    run_checkpoints(checkpointer), name="wal-checkpoints"
                )
                app[keys.CHECKPOINTS] = checkpointer
            yield
        finally:
            if checkpoints is not None:
                checkpoints.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await checkpoints
            await engine.dispose()

    return ctx


def database_url(settings: Settings) -> str:
    """The configured URL; a relative SQLite path is relative to the config file."""
    url = settings.database.url
    prefix = "sqlite+aiosqlite:///"
    rel = url.removeprefix(prefix)
    if url.startswith(prefix) and rel and not rel.startswith("/") and rel != ":memory:":
        url = prefix + str(settings.resolve_path(rel))
    return url


async def sync_groups(app: web.Application) -> None:
    """Groups in config.yaml exist in the database with their configured name and kind."""
    async with app[keys.SESSIONS]() as session, session.begin():
        settings = app[keys.SETTINGS]
        await sync_configured_groups(
            session, settings.groups, app[keys.CLOCK].now(), group_councils(settings)
        )


async def import_configured_roster(app: web.Application) -> None:
    """`roster: file.csv` in the config is imported at start-up (idempotent); with several
    parks, each council's roster, its people put in that council."""
    settings = app[keys.SETTINGS]
    for council in councils(settings):
        if not council.roster:
            continue
        path = settings.resolve_path(council.roster)
        key = "roster" if not settings.councils else f"councils ({council.id}) roster"
        try:
            text = table_text(path, f"{key}: {path}")  # CSV, or the Excel sheet it came from
        except UsageError as exc:
            raise ConfigError(str(exc)) from None
        async with app[keys.SESSIONS]() as session, session.begin():
            result = await import_roster_csv(session, text, app[keys.CLOCK].now(), council.id)
        for err in result.errors:
            log.warning("roster %s: %s", path, err)


async def _http_session(app: web.Application) -> AsyncIterator[None]:
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
    app[keys.HTTP] = session
    yield
    await session.close()


def _platform(client: PlatformClient | None) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[keys.SETTINGS]
        chosen = client
        if chosen is None:
            kind = settings.platform.kind
            # The simulator refuses a real bot's database (bot/platforms/local.py).
            await check_database_platform(app[keys.SESSIONS], kind, app[keys.CLOCK].now())
            if kind == "local":
                chosen = LocalClient(app[keys.LOCAL_STORE], bot_name=settings.platform.bot_name)
            elif kind == "zalo_bot":
                chosen = ZaloBotClient(
                    settings.platform.api_base,
                    settings.platform.token.get_secret_value(),
                    app[keys.HTTP],
                )
            else:
                factory = app.get(keys.CLIENT_FACTORY)
                if factory is None:
                    raise RuntimeError(f"platform {kind} is not available in this build")
                chosen = factory(app)
        app[keys.CLIENT] = chosen
        yield
        await chosen.close()

    return ctx


def _runtime(workers: bool) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        settings, clock, metrics = app[keys.SETTINGS], app[keys.CLOCK], app[keys.METRICS]
        sessions = app[keys.SESSIONS]
        turn = WriteTurn(enabled=app[keys.ENGINE].dialect.name == "sqlite")
        inbox = InboxWriter(durable_sessions(sessions), clock, turn=turn)  # 200 = on disk
        wid = worker_id()
        send_wake = asyncio.Event()
        processor = Processor(
            sessions,
            settings,
            clock,
            metrics,
            wid,
            inbox.stored,
            after_event=send_wake,
            give_way=inbox.wait_quiet,
            turn=turn,
        )
        sender = Sender(
            sessions, app[keys.CLIENT], settings, clock, metrics, wid, send_wake, turn=turn
        )
        runtime = Runtime(
            inbox=inbox,
            processor=processor,
            sender=sender,
            send_wake=send_wake,
            sessions=sessions,
            settings=settings,
            clock=clock,
            holder=wid,
        )
        app[keys.INBOX] = inbox
        app[keys.RUNTIME] = runtime
        inbox.start()
        scheduler = None
        if workers:
            # Before the server listens (and before `serve` moves start-up out of the
            # collector's sight): the first delivery of a flood does not wait for it.
            warm_up_parser()
            warm_up_calendar(settings, clock.now())
            runtime.start_workers()
            scheduler = make_scheduler(settings, runtime.run_job)
            scheduler.start()
            jobs = [job.id for job in scheduler.get_jobs()]
            log.info("%d jobs scheduled: %s", len(jobs), ", ".join(jobs))
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)  # no new runs; running ones go on, tracked
            # Jobs finish (or, after a grace, stop) before the workers and the engine go.
            await runtime.wait_for_jobs()
            await runtime.stop_workers()
            await inbox.stop()

    return ctx


async def healthz(request: web.Request) -> web.Response:
    """503 when a critical check fails; every check listed with its reason (bot/health.py)."""
    app = request.app
    checks = await health.run_checks(app)
    failing = [c for c in checks if not c["ok"]]
    database = next((c for c in checks if c["name"] == "database"), {"ok": True})
    critical = any(c["critical"] for c in failing)
    settings = app[keys.SETTINGS]
    body = {
        "status": "unavailable" if critical else "degraded" if failing else "ok",
        "database": "ok" if database["ok"] else database.get("reason", ""),
        "platform": settings.platform.kind,
        "mode": settings.platform.mode,
        "checks": checks,
    }
    return web.json_response(body, status=503 if critical else 200)


async def metrics(request: web.Request) -> web.Response:
    # The inbox gauges are read at scrape time; if the database is away they keep their values.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(health.inbox_counts(request.app), timeout=health.CHECK_SECONDS)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(
            health.coordinators_reachable(request.app), timeout=health.CHECK_SECONDS
        )
    body = generate_latest(request.app[keys.METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
