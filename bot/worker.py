"""The loop shared by the background workers: rounds of work, a nap when there is none."""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)

IDLE_SECONDS = 1.0  # also the longest a missed wake-up can delay work


class LoopWorker:
    """Subclasses implement `run_once` (work done in one round) and may add `before_loop`."""

    name = "worker"

    def __init__(self, wake: asyncio.Event) -> None:
        self._wake = wake
        self._stopping = False
        self.idle = asyncio.Event()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def before_loop(self) -> None:
        """Start-up work (e.g. recovery after a crash); nothing by default."""

    async def run_once(self) -> int:
        raise NotImplementedError

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self.before_loop()
                break
            except Exception as exc:  # a database blip at start-up must not end the worker
                log.warning("%s start-up failed, retrying: %s", self.name, type(exc).__name__)
                await asyncio.sleep(IDLE_SECONDS)
        while not self._stopping:
            try:
                done = await self.run_once()
            except Exception as exc:  # outlive any outage (asyncpg raises its own errors too)
                log.warning("%s cannot reach the database: %s", self.name, type(exc).__name__)
                done = 0
                await asyncio.sleep(IDLE_SECONDS)
            if done == 0:
                self.idle.set()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=IDLE_SECONDS)
                self.idle.clear()
