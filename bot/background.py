"""Long-running background tasks tied to the app's lifetime (started after the workers)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from aiohttp import web

from bot import keys

TaskFactory = Callable[[web.Application], Coroutine[Any, Any, None]]


def add_background_task(
    app: web.Application, name: str, factory: TaskFactory, *, with_workers_only: bool = False
) -> None:
    """Run `factory(app)` as a task from start-up to clean-up; cancelled on shutdown.

    `with_workers_only`: skip it when the app was created with workers=False (tests drive
    such work by hand). Call after create_app has added the runtime's context (it is needed).
    """

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        task = None
        if not with_workers_only or app[keys.RUNTIME].workers_running:
            task = asyncio.create_task(factory(app), name=name)
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app.cleanup_ctx.append(ctx)
