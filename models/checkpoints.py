"""SQLite WAL checkpoints in the background while the bot serves.

By default SQLite checkpoints inside a commit once the WAL passes 1,000 pages: the
committing connection copies the WAL into the database file and syncs it while it still
holds the one write lock. Under a flood that was a commit of ~100 ms every few seconds:
intake waited for the lock and the event loop sat idle. Here a thread on a connection of
its own runs PASSIVE checkpoints (they wait for no reader or writer) every fraction of a
second; the app's connections keep SQLite's own as a backstop, much later.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.5
# The app's connections checkpoint by themselves only past this many WAL pages (~40 MB):
# never while the background checkpoints keep up, and still if they stopped.
BACKSTOP_PAGES = 10_000


def sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL; None for another database or one in memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    path = parsed.database or ""
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return path


@dataclass
class WalCheckpointer:
    """PASSIVE checkpoints of one database file, on a connection of its own (used by one
    thread at a time: `checkpoint` runs in the default executor)."""

    path: str
    checkpoints: int = 0
    pages_copied: int = 0
    last_error: str | None = None  # until a checkpoint succeeds again
    _conn: sqlite3.Connection | None = field(default=None, repr=False)
    # Held while the connection is in use: closing it under a running checkpoint crashes
    # the process (sqlite3 frees what the other thread is still reading).
    _using: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, pages in the WAL, pages copied to the database)."""
        with self._using:
            if self._conn is None:
                # timeout=0: a PASSIVE checkpoint never waits; a busy one is tried later.
                self._conn = sqlite3.connect(
                    self.path, timeout=0, isolation_level=None, check_same_thread=False
                )
            row = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        busy, pages, copied = row
        self.checkpoints += 1
        self.pages_copied += max(copied, 0)
        return int(busy), int(pages), int(copied)

    def close(self) -> None:
        """Close the connection, once a checkpoint running in its thread is done with it."""
        with self._using:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


async def run_checkpoints(checkpointer: WalCheckpointer, interval: float | None = None) -> None:
    """Checkpoint every `interval` seconds (INTERVAL_SECONDS) until cancelled, off the loop.
    A failure is logged once and tried again: meanwhile the backstop keeps the WAL bounded."""
    running: asyncio.Future[tuple[int, int, int]] | None = None
    try:
        while True:
            await asyncio.sleep(INTERVAL_SECONDS if interval is None else interval)
            running = asyncio.ensure_future(asyncio.to_thread(checkpointer.checkpoint))
            try:
                # Shielded: a cancelled task must not leave the thread inside SQLite alone.
                await asyncio.shield(running)
            except sqlite3.Error as exc:
                if checkpointer.last_error is None:
                    log.warning("background WAL checkpoint failed (retrying): %r", exc)
                checkpointer.last_error = f"{type(exc).__name__}: {exc}"[:300]
                checkpointer.close()  # a new connection next time
            else:
                checkpointer.last_error = None
    finally:
        # Cancelled mid-checkpoint (shutdown): the thread is still using the connection, and
        # closing it under that thread crashes the process. It never waits for a lock, so
        # this is at most one PASSIVE copy.
        if running is not None and not running.done():
            await asyncio.wait([running])
        checkpointer.close()
