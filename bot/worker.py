"""The loop shared by the background workers: rounds of work, a nap when there is none."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger(__name__)

IDLE_SECONDS = 1.0  # also the longest a missed wake-up can delay work


def is_database_error(exc: BaseException) -> bool:
    """The database (or the way to it) failed, rather than the code or the data."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OSError):  # ConnectionError and TimeoutError too
        return True
    # asyncpg raises its own errors when it cannot connect (not wrapped by SQLAlchemy).
    return type(exc).__module__.startswith("asyncpg")


class LoopWorker:
    """Subclasses implement `run_once` (work done in one round) and may add `before_loop`."""

    name = "worker"

    def __init__(self, wake: asyncio.Event) -> None:
        self._wake = wake
        self._stopping = False
        self.idle = asyncio.Event()
        # Why the last round failed, until a round succeeds (shown on /healthz).
        self.last_error: str | None = None

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
                self._failed("start-up", exc)
                await asyncio.sleep(IDLE_SECONDS)
        while not self._stopping:
            try:
                done = await self.run_once()
                self.last_error = None
            except Exception as exc:  # outlive any outage and any bug
                self._failed("round", exc)
                done = 0
                await asyncio.sleep(IDLE_SECONDS)
            if done == 0:
                self.idle.set()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=IDLE_SECONDS)
                self.idle.clear()

    def _failed(self, what: str, exc: Exception) -> None:
        """Log it: an outage in one line, anything else with its traceback (it is a bug)."""
        self.last_error = f"{type(exc).__name__}: {exc}"[:300]
        if is_database_error(exc):
            log.warning("%s cannot reach the database (%s, retrying): %r", self.name, what, exc)
        else:
            log.error("%s %s failed, retrying", self.name, what, exc_info=exc)
