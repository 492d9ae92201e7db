"""Long-running background tasks tied to the app's lifetime (started after the workers).

Each runs under a supervisor: a crash is logged with its traceback and the task started
again after a pause; while it is down, /healthz says so (bot/health.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot import keys

log = logging.getLogger(__name__)

TaskFactory = Callable[[web.Application], Coroutine[Any, Any, None]]

FIRST_RESTART_SECONDS = 1.0
LONGEST_RESTART_SECONDS = 300.0
HEALTHY_RUN_SECONDS = 600.0  # a run this long was fine: the next crash waits little again
STATES = "background_tasks"  # app[keys.EXTRA][STATES]: name -> TaskState


@dataclass
class TaskState:
    """What /healthz shows of one background task."""

    name: str
    running: bool = False
    crashes: int = 0
    last_error: str | None = None


def add_background_task(
    app: web.Application, name: str, factory: TaskFactory, *, with_workers_only: bool = False
) -> None:
    """Run `factory(app)` as a task from start-up to clean-up; cancelled on shutdown.

    `with_workers_only`: skip it when the app was created with workers=False (tests drive
    such work by hand). A factory that returns has finished its work and is not restarted.
    """

    async def start(app: web.Application) -> None:
        if with_workers_only and not app[keys.RUNTIME].tasks:
            return
        state = TaskState(name)
        app[keys.EXTRA].setdefault(STATES, {})[name] = state
        app[keys.EXTRA][f"task:{name}"] = asyncio.create_task(
            supervise(app, factory, state), name=name
        )

    async def stop(app: web.Application) -> None:
        task = app[keys.EXTRA].pop(f"task:{name}", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app[keys.EXTRA].setdefault("on_start", []).append(start)
    app[keys.EXTRA].setdefault("on_stop", []).append(stop)


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
