"""Durable intake with group commit: concurrent deliveries share one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DataError, IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.clean import EventRejected, clean_event
from bot.writeturn import WriteTurn
from handlers.clock import Clock
from handlers.events import InboundEvent, event_to_json
from models import fastlane
from models.tables import InboundEvent as InboxRow

log = logging.getLogger(__name__)


GATHER_TURNS = 4  # loop turns a batch waits for more deliveries, at most
GIVE_WAY_BACKLOG = 4  # deliveries waiting before the processor steps aside


_INBOX = cast(Table, InboxRow.__table__)
# Built once: the fast path compiles a statement once and keeps it by identity.
_INSERT = insert(_INBOX)


class StorageUnavailable(Exception):
    """The database did not take the write: the webhook answers 503 so Zalo redelivers."""


def is_data_error(exc: BaseException) -> bool:
    """The values were refused (not the database being away): retrying will not help."""
    if isinstance(exc, DataError | IntegrityError):
        return True
    cause = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    return isinstance(cause, UnicodeError | ValueError | TypeError | RecursionError)


@dataclass(slots=True)
class _Pending:
    event: InboundEvent
    status: str
    future: asyncio.Future[bool]


class InboxWriter:
    """One task writes queued events in batches; each caller waits for its batch's commit.

    Why: a commit per request serialises on SQLite's single writer (and costs a WAL fsync
    on PostgreSQL), so throughput collapses under concurrent deliveries.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        max_batch: int = 256,
        turn: WriteTurn | None = None,
    ) -> None:
        self._engine: AsyncEngine = sessions.kw["bind"]  # Core is enough: no unit of work
        self._clock = clock
        self._max_batch = max_batch
        self._turn = turn or WriteTurn()
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.stored = asyncio.Event()  # set after each commit: wakes the processor
        self._quiet = asyncio.Event()  # set while nothing waits to be written
        self._quiet.set()
        # Why the last write failed, until one succeeds (shown on /healthz).
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="inbox-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if not item.future.done():
                item.future.set_exception(StorageUnavailable("shutting down"))

    async def submit(self, event: InboundEvent, status: str = "pending") -> bool:
        """Store one event durably; True if new, False if it was already stored.

        EventRejected if this event cannot be stored (its batch is stored without it).
        """
        event = clean_event(event)
        if self._task is None or self._task.done():
            raise StorageUnavailable("inbox writer not running")
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(event, status, fut))
        return await fut

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            self._quiet.clear()
            # Turns of the loop let requests whose bodies are already read join this batch
            # (without them batches stay tiny and every commit pays full price); stop as
            # soon as a turn brings nobody new, so a lone delivery is not held back.
            waiting = -1
            for _turn in range(GATHER_TURNS):
                if self._queue.qsize() == waiting:
                    break
                waiting = self._queue.qsize()
                await asyncio.sleep(0)
            batch = [first]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write_batch(batch)
            except asyncio.CancelledError:
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(StorageUnavailable("shutting down"))
                raise
            if self._queue.empty():
                self._quiet.set()

    async def _write_batch(self, batch: list[_Pending]) -> None:
        """Write and answer each caller; one bad event never fails the others."""
        try:
            new_keys = await self._write(batch)
        except Exception as exc:
            if len(batch) > 1 and is_data_error(exc):
                # Some event's values were refused: write one by one to find which.
                for item in batch:
                    await self._write_batch([item])
                return
            self._fail(batch, exc)
            return
        self.last_error = None
        seen: set[tuple[str, str]] = set()
        for item in batch:
            key = (item.event.platform, item.event.event_key)
            is_new = key in new_keys and key not in seen
            seen.add(key)
            if not item.future.done():
                item.future.set_result(is_new)
        self.stored.set()

    def _fail(self, batch: list[_Pending], exc: Exception) -> None:
        if is_data_error(exc):
            # Only this event (alone in its batch): 400, as Zalo's redelivery would fail too.
            log.warning("event %s cannot be stored: %r", batch[0].event.event_key, exc)
            reason = type(exc.orig if isinstance(exc, StatementError) else exc).__name__
            error: Exception = EventRejected(f"the event cannot be stored ({reason})")
        else:
            # Any other failure (asyncpg raises its own on connect) is the database's: 503.
            log.warning("inbox write failed for %d events: %r", len(batch), exc)
            self.last_error = f"{type(exc).__name__}: {exc}"[:300]
            error = StorageUnavailable(type(exc).__name__)
        for item in batch:
            if not item.future.done():
                item.future.set_exception(error)

    async def wait_quiet(self, limit: float = 0.05) -> None:
        """Give way to deliveries waiting to be stored (at most `limit` seconds).

        Answering Zalo fast matters more than handling at once: on SQLite both need the
        single write lock, so the processor steps aside while deliveries queue up.
        """
        # Only a real backlog (a burst of deliveries) is worth waiting for; at ordinary rates
        # waiting would just add latency to every reply.
        if not self._quiet.is_set() and self._queue.qsize() >= GIVE_WAY_BACKLOG:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), timeout=limit)

    async def _write(self, batch: list[_Pending]) -> set[tuple[str, str]]:
        now = self._clock.now()
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for item in batch:
            ev = item.event
            if (ev.platform, ev.event_key) in rows:
                continue  # concurrent copies of one delivery: stored once
            rows[(ev.platform, ev.event_key)] = {
                "platform": ev.platform,
                "event_key": ev.event_key,
                "event_name": ev.event_name,
                "message_id": ev.message_id,
                "chat_id": ev.chat_id,
                "sender_id": ev.sender_id,
                "received_at": now,
                "payload": {"event": event_to_json(ev), "raw": ev.raw},
                "status": item.status,
                "attempts": 0,
            }
        if self._engine.dialect.name != "sqlite":
            return await self._insert_on_conflict(rows)
        # Most batches hold only new deliveries: insert them all in one plain statement; a
        # key stored before (a redelivery) fails it, and then we find out which. No other
        # writer can come in between: SQLite's write lock is ours for the transaction.
        try:
            return await self._insert(rows, check=False)
        except IntegrityError:
            return await self._insert(rows, check=True)

    async def _insert_on_conflict(
        self, rows: dict[tuple[str, str], dict[str, Any]]
    ) -> set[tuple[str, str]]:
        """PostgreSQL: other instances insert concurrently, so only ON CONFLICT is race-free."""
        table = cast(Table, InboxRow.__table__)
        stmt = (
            pg_insert(table)
            .on_conflict_do_nothing(index_elements=["platform", "event_key"])
            .returning(table.c.platform, table.c.event_key)
        )
        async with self._engine.begin() as conn:
            # In key order: ON CONFLICT waits for another transaction's uncommitted row of
            # the same key, so two instances taking keys in opposite orders would deadlock.
            result = await conn.execute(stmt, [row for _, row in sorted(rows.items())])
            return {(p, k) for p, k in result.tuples()}

    async def _insert(
        self, rows: dict[tuple[str, str], dict[str, Any]], check: bool
    ) -> set[tuple[str, str]]:
        """Insert the rows (with `check`, only those whose keys are not stored yet).

        Plain Core statements, because SQLAlchemy never caches a dialect's INSERT .. ON
        CONFLICT: compiling it cost a millisecond per batch, more than the write itself
        (on SQLite, where the write takes less).
        """
        table = _INBOX
        new = rows
        # A Core connection, not an ORM session: nothing here needs the unit of work.
        async with self._turn(urgent=True), self._engine.begin() as conn:
            if check:
                platforms = sorted({p for p, _ in rows})
                keys = sorted({k for _, k in rows})
                stored = await conn.execute(
                    select(table.c.platform, table.c.event_key).where(
                        table.c.platform.in_(platforms), table.c.event_key.in_(keys)
                    )
                )
                already = set(stored.tuples())
                new = {key: row for key, row in rows.items() if key not in already}
            if new:
                await _insert_rows(conn, list(new.values()))
            return set(new)


async def _insert_rows(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """One executemany INSERT in `conn`'s transaction: on SQLite straight on the cursor
    (models/fastlane.py: SQLAlchemy's execution of a batch cost more than SQLite's work),
    else as usual. The same statement, rows and errors either way."""
    async with AsyncSession(bind=conn) as session:
        if await fastlane.on_connection(session, _INSERT, rows) is not None:
            return
    await conn.execute(_INSERT, rows)
