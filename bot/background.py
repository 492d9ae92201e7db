"""Long-running background tasks tied to the app's lifetime (started after the workers)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web

from bot import keys

TaskFactory = Callable[[web.Application], Coroutine[Any, Any, None]]


def add_background_task(
    app: web.Application, name: str, factory: TaskFactory, *, with_workers_only: bool = False
) -> None:
    """Run `factory(app)` as a task from start-up to clean-up; cancelled on shutdown.

    `with_workers_only`: skip it when the app was created with workers=False (tests drive
    such work by hand).
    """

    async def start(app: web.Application) -> None:
        if with_workers_only and not app[keys.RUNTIME].tasks:
            return
        app[keys.EXTRA][f"task:{name}"] = asyncio.create_task(factory(app), name=name)

    async def stop(app: web.Application) -> None:
        task = app[keys.EXTRA].pop(f"task:{name}", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app[keys.EXTRA].setdefault("on_start", []).append(start)
    app[keys.EXTRA].setdefault("on_stop", []).append(stop)
