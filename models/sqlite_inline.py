"""SQLite calls run on the event loop itself instead of a hop to aiosqlite's thread.

Why: each hop (queue, thread wake-up, GIL hand-over, call_soon_threadsafe) costs 0.5-5 ms
under load, while this app's SQLite statements take microseconds; an event's 10-15
statements spent most of their time hopping, holding SQLite's single write lock meanwhile.
A busy database is waited for with asyncio.sleep, never by blocking the loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url

BUSY_WAIT_SECONDS = 30.0  # as long as the threaded driver's busy timeout was
_FIRST_PAUSE = 0.0005
_LONGEST_PAUSE = 0.02


class _RunNow:
    """Stands in for the queue to aiosqlite's worker thread: runs each call at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the awaiting caller, as the thread would
            if future is not None and not future.done():
                future.set_exception(exc)
        else:
            if future is not None and not future.done():
                future.set_result(result)


def is_busy(exc: BaseException) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED: another connection holds the lock; worth waiting for."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(exc) or "busy" in str(exc)


class InlineConnection(aiosqlite.Connection):
    """aiosqlite's interface (what SQLAlchemy's dialect drives) without the thread."""

    def __init__(
        self, connector: Callable[[], sqlite3.Connection], busy_wait: float | None = None
    ) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]
        self._busy_wait = BUSY_WAIT_SECONDS if busy_wait is None else busy_wait
        # Whether a commit is only a write to the WAL (synchronous=NORMAL, checkpoints run by
        # the background task): then it runs on the loop, as a statement does. Otherwise it
        # may wait for the disk and runs in a thread. Set by models.db per transaction.
        self.quick_commits = False

    def __await__(self) -> Any:
        return self._connect().__await__()

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        deadline = time.monotonic() + self._busy_wait
        pause = _FIRST_PAUSE
        while True:
            in_transaction = self._connection.in_transaction
            try:
                if (
                    in_transaction
                    and not self.quick_commits
                    and getattr(fn, "__name__", "") == "commit"
                ):
                    # A commit may wait for the disk (fsync: the inbox's durable commits, and
                    # checkpoints): 5-60 ms under load, too long to hold the loop. The thread
                    # releases the GIL while it waits; nothing else uses this connection
                    # meanwhile (the caller awaits it).
                    return await asyncio.to_thread(fn, *args, **kwargs)
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not is_busy(exc) or not _safe_to_repeat(fn, args, in_transaction):
                    raise
                if time.monotonic() >= deadline:
                    raise
            # The pause yields to the task that holds the lock so that it can finish.
            await asyncio.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)


def raw_connection(dbapi_connection: Any) -> sqlite3.Connection | None:
    """The sqlite3 connection under SQLAlchemy's adapter of an InlineConnection, if open;
    None for anything else (another driver, a closed connection)."""
    inline = getattr(dbapi_connection, "_connection", None)
    if not isinstance(inline, InlineConnection) or not inline._running:
        return None
    return inline._connection


def set_quick_commits(dbapi_connection: Any, quick: bool) -> None:
    """Whether the connection's commits may run on the loop (see InlineConnection)."""
    inline = getattr(dbapi_connection, "_connection", None)
    if isinstance(inline, InlineConnection):
        inline.quick_commits = quick


def run_at_once(dbapi_connection: Any, sql: str) -> bool:
    """Run a statement that returns no rows straight on the sqlite3 connection: True if it
    ran. False if it could not (busy, failed, not an inline connection): it had no effect,
    and the caller runs it the ordinary way, which waits for a busy lock and raises as
    SQLAlchemy does. Only for statements that may be repeated (BEGIN, PRAGMA).

    Why: through SQLAlchemy a transaction's BEGIN cost tens of microseconds of execution
    machinery and a greenlet switch for what SQLite does in one."""
    raw = raw_connection(dbapi_connection)
    if raw is None:
        return False
    try:
        raw.execute(sql).close()
    except sqlite3.Error:
        return False
    return True


def _safe_to_repeat(fn: Callable[..., Any], args: tuple[Any, ...], in_transaction: bool) -> bool:
    """Whether a call that failed with SQLITE_BUSY had no effect and may simply run again.

    BEGIN and COMMIT may (SQLite's documentation says so for COMMIT); so may one statement
    outside a transaction (statements are atomic). Not a statement inside a transaction
    (SQLite may have rolled the transaction back), nor executemany (the rows before the
    busy one are in), nor a fetch (rows were already consumed).
    """
    name = getattr(fn, "__name__", "")
    if name == "commit":
        return True
    if name != "execute" or not args or not isinstance(args[0], str):
        return False
    return args[0].lstrip()[:5].upper() == "BEGIN" or not in_transaction


def inline_creator(url: str) -> Callable[[], InlineConnection]:
    """An `async_creator` for create_async_engine: the same file and options, no thread."""
    args, kwargs = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
    # A `?timeout=` in the URL becomes the asyncio busy wait; SQLite itself must never wait
    # inside a call (timeout=0: that would stall the loop). isolation_level=None: we emit
    # BEGIN IMMEDIATE ourselves (models/db.py).
    timeout = kwargs.pop("timeout", None)
    kwargs.pop("isolation_level", None)
    busy_wait = float(timeout) if timeout is not None else None
    connector = partial(sqlite3.connect, *args, timeout=0, isolation_level=None, **kwargs)
    return lambda: InlineConnection(connector, busy_wait)
