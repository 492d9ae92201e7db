"""/healthz as named checks: each says None (fine) or the reason it is not.

Adding one is a line: `add_health_check(app, "sender", sender_paused_reason)`. A failing
critical check makes /healthz answer 503; a non-critical one (failed events) shows, with
status "degraded", and the answer stays 200 so that nobody restarts a working process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import func, select, text

from bot import keys
from bot.background import TASK_STATES, TaskState
from handlers.councils import councils, scope
from models.db import READ_ONLY, read_session
from models.people import coordinators
from models.tables import InboundEvent as InboxRow

HealthCheck = Callable[[web.Application], Awaitable[str | None]]

CHECK_SECONDS = 3.0  # a check that takes longer fails: /healthz must answer quickly
STALLED_AFTER = timedelta(minutes=2)  # the processor's rounds take seconds, even busy


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    run: HealthCheck
    critical: bool = True


# name -> Check, in registration order (filled while the app is built)
HEALTH_CHECKS: web.AppKey[dict[str, Check]] = web.AppKey("health_checks")


def add_health_check(
    app: web.Application, name: str, check: HealthCheck, *, critical: bool = True
) -> None:
    """Show `check` on /healthz under `name`; a failing critical check answers 503."""
    if HEALTH_CHECKS not in app:
        app[HEALTH_CHECKS] = {}
    app[HEALTH_CHECKS][name] = Check(name, check, critical)


async def run_checks(app: web.Application) -> list[dict[str, Any]]:
    """Every check's outcome (run side by side); one that raises or hangs fails with why."""
    checks = list(app.get(HEALTH_CHECKS, {}).values())
    reasons = await asyncio.gather(*(_reason(app, check) for check in checks))
    results: list[dict[str, Any]] = []
    for check, reason in zip(checks, reasons, strict=True):
        result: dict[str, Any] = {"name": check.name, "ok": reason is None}
        if reason is not None:
            result["reason"] = reason
            result["critical"] = check.critical
        results.append(result)
    return results


async def _reason(app: web.Application, check: Check) -> str | None:
    try:
        return await asyncio.wait_for(check.run(app), timeout=CHECK_SECONDS)
    except TimeoutError:
        return f"no answer within {CHECK_SECONDS:.0f} s"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:300]


def install(app: web.Application) -> None:
    """The checks of the intake and processing side, in the order /healthz lists them."""
    add_health_check(app, "database", database_answers)
    add_health_check(app, "intake", intake_stores)
    add_health_check(app, "workers", workers_alive)
    add_health_check(app, "processor", processor_progresses)
    add_health_check(app, "background", background_tasks_up)
    add_health_check(app, "failed_events", no_failed_events, critical=False)
    add_health_check(app, "sender", sender_not_paused)
    add_health_check(app, "coordinators", coordinators_reachable, critical=False)
    add_health_check(app, "checkpoints", checkpoints_succeed, critical=False)


async def database_answers(app: web.Application) -> str | None:
    # Read-only: on SQLite it takes no write lock, so another process's long write (a CLI
    # import, a second instance) is no outage, and intake never waits for a probe.
    async with app[keys.ENGINE].execution_options(**{READ_ONLY: True}).connect() as conn:
        await conn.execute(text("SELECT 1"))
    return None


async def intake_stores(app: web.Application) -> str | None:
    inbox = app[keys.INBOX]
    if not inbox.running:
        return "the inbox writer is not running: deliveries are answered 503"
    if inbox.last_error is not None:
        return f"deliveries are answered 503, the last write failed: {inbox.last_error}"
    return None


async def workers_alive(app: web.Application) -> str | None:
    for task in app[keys.RUNTIME].tasks:
        if task.done():
            error = None if task.cancelled() else task.exception()
            return f"{task.get_name()} stopped" + (f": {error!r}" if error else "")
    return None


async def processor_progresses(app: web.Application) -> str | None:
    runtime = app[keys.RUNTIME]
    if not runtime.tasks:
        return None  # no workers in this process (a one-off command, a test driving them)
    processor = runtime.processor
    since = processor.progressed_at or processor.started_at
    if app[keys.CLOCK].now() - since <= STALLED_AFTER:
        return None
    why = processor.last_error or "a round has been running that long"
    return f"no round finished since {since:%Y-%m-%d %H:%M:%S} UTC: {why}"


async def background_tasks_up(app: web.Application) -> str | None:
    states: dict[str, TaskState] = app.get(TASK_STATES, {})
    down = [s for s in states.values() if not s.running and s.last_error is not None]
    if not down:
        return None
    return "; ".join(f"{s.name} crashed ({s.last_error}), restarting" for s in down)


async def no_failed_events(app: web.Application) -> str | None:
    counts = await inbox_counts(app)
    failed = counts.get("failed", 0)
    if not failed:
        return None
    return f"{failed} event(s) failed and were set aside: see `antt-bot events failed`"


async def inbox_counts(app: web.Application) -> dict[str, int]:
    """Pending and failed inbox rows; also sets the antt_inbox_* gauges."""
    query = (
        select(InboxRow.status, func.count())
        .where(InboxRow.status.in_(("pending", "failed")))
        .group_by(InboxRow.status)
    )
    async with read_session(app[keys.SESSIONS]) as session:  # each scrape: no write lock
        counts = {status: int(n) for status, n in (await session.execute(query)).tuples()}
    metrics = app[keys.METRICS]
    metrics.inbox_pending.set(counts.get("pending", 0))
    metrics.inbox_failed.set(counts.get("failed", 0))
    return counts


async def coordinators_reachable(app: web.Application) -> str | None:
    """Alerts can reach a coordinator privately only after one has written to the bot.

    Sets antt_coordinators_reachable; alerts meanwhile go to the council groups.
    """
    settings = app[keys.SETTINGS]
    reachable: set[int] = set()
    unreachable: list[str] = []  # councils with coordinators, none reachable (several parks)
    async with read_session(app[keys.SESSIONS]) as session:
        for council in councils(settings):
            members, _chats = await coordinators(
                session, council.coordinators, scope(settings, council.id)
            )
            here = {m.id for m in members if m.private_chat_id}
            reachable |= here
            if members and not here:
                unreachable.append(council.id)
    app[keys.METRICS].coordinators_reachable.set(len(reachable))
    if not unreachable:
        return None  # no coordinator in the roster yet: nobody to be unreachable
    if not settings.councils:
        return "coordinators unreachable: none has written to the bot privately yet"
    return f"coordinators unreachable in {', '.join(unreachable)}: none has written privately yet"


async def sender_not_paused(app: web.Application) -> str | None:
    """The sender pauses while Zalo refuses the token: say so, with what to do."""
    return app[keys.RUNTIME].sender.health()


async def checkpoints_succeed(app: web.Application) -> str | None:
    """Background WAL checkpoints that keep failing (a full disk) let the WAL file grow until
    the disk is full; not critical: a restart would not help (models/checkpoints.py)."""
    checkpointer = app.get(keys.CHECKPOINTS)
    if checkpointer is None or checkpointer.last_error is None:
        return None
    return f"background WAL checkpoints failing, the WAL file grows: {checkpointer.last_error}"
