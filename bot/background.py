"""Long-running background tasks tied to the app's lifetime (started after the workers).

Each runs under a supervisor: a crash is logged with its traceback and the task started
again after a pause; while it is down, /healthz says so (bot/health.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot import keys

log = logging.getLogger(__name__)

TaskFactory = Callable[[web.Application], Coroutine[Any, Any, None]]

FIRST_RESTART_SECONDS = 1.0
LONGEST_RESTART_SECONDS = 300.0
HEALTHY_RUN_SECONDS = 600.0  # a run this long was fine: the next crash waits little again


@dataclass
class TaskState:
    """What /healthz shows of one background task."""

    name: str
    running: bool = False
    crashes: int = 0
    last_error: str | None = None


# name -> TaskState, made when the first task is added (before the app is frozen)
TASK_STATES: web.AppKey[dict[str, TaskState]] = web.AppKey("task_states")


def add_background_task(
    app: web.Application, name: str, factory: TaskFactory, *, with_workers_only: bool = False
) -> None:
    """Run `factory(app)` under a supervisor from start-up to clean-up; cancelled on shutdown.

    `with_workers_only`: skip it when the app was created with workers=False (tests drive
    such work by hand). A factory that returns has finished its work and is not restarted.
    Call after create_app has added the runtime's context (it is needed).
    """
    states = task_states(app)

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        task = None
        if not with_workers_only or app[keys.RUNTIME].workers_running:
            state = states[name] = TaskState(name)
            task = asyncio.create_task(supervise(app, factory, state), name=name)
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app.cleanup_ctx.append(ctx)


def task_states(app: web.Application) -> dict[str, TaskState]:
    """The background tasks' states, by name (empty until tasks start)."""
    if TASK_STATES not in app:
        app[TASK_STATES] = {}
    return app[TASK_STATES]


async def supervise(app: web.Application, factory: TaskFactory, state: TaskState) -> None:
    """Run the task; after a crash, start it again, waiting longer after each quick crash."""
    loop = asyncio.get_running_loop()
    pause = FIRST_RESTART_SECONDS
    while True:
        state.running = True
        started = loop.time()
        try:
            await factory(app)
            state.running = False
            return
        except Exception as exc:  # anything but cancellation: the task must come back
            state.running = False
            state.crashes += 1
            state.last_error = f"{type(exc).__name__}: {exc}"[:300]
            if loop.time() - started >= HEALTHY_RUN_SECONDS:
                pause = FIRST_RESTART_SECONDS
            log.error(
                "background task %s crashed; starting it again in %.0f s",
                state.name,
                pause,
                exc_info=exc,
            )
        await asyncio.sleep(pause)
        pause = min(pause * 2, LONGEST_RESTART_SECONDS)
