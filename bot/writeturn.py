"""Writers of one process take turns at SQLite's write lock, in the order they ask.

Why: SQLite has a single write lock. Within one process the inbox writer, the processor and
the sender otherwise meet it as SQLITE_BUSY and poll with growing pauses (up to 20 ms), and
a delivery's commit could lose the lock to the processor's next slice again and again
(intake p99 under a flood). Taking turns in arrival order here, a delivery waits for the
slice in hand at most. Other processes (the CLI, a second instance) still meet the lock as
before. PostgreSQL has row locks: no turns there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriteTurn:
    """`async with turn():` around a write transaction; a no-op when not `enabled`."""

    def __init__(self, enabled: bool = False) -> None:
        self._lock = asyncio.Lock() if enabled else None
        self._urgent = 0

    @property
    def wanted(self) -> bool:
        """Deliveries wait for the turn: a long unit of work (a processor slice) ends early.
        Not for the sender: its claims would cut every slice short, each slice then paying
        its look-ups for two or three events."""
        return self._urgent > 0

    @asynccontextmanager
    async def __call__(self, urgent: bool = False) -> AsyncIterator[None]:
        """The turn; `urgent` for deliveries waiting to be answered (the inbox writer)."""
        if self._lock is None:
            yield
            return
        self._urgent += urgent
        try:
            await self._lock.acquire()
        finally:
            self._urgent -= urgent
        try:
            yield
        finally:
            self._lock.release()
