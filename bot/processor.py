"""The inbox worker: claims stored events in arrival order, handles several per transaction."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clean import clean_text
from bot.logs import current_event
from bot.metrics import Metrics
from bot.worker import LoopWorker, is_database_error
from handlers.clock import Clock
from handlers.config import Settings
from handlers.dispatch import handle_event
from handlers.events import event_from_stored
from models.people import forget_known_ids
from models.tables import InboundEvent as InboxRow

log = logging.getLogger(__name__)

CLAIM_SECONDS = 60
MAX_ATTEMPTS = 5
LONGEST_BACKOFF = timedelta(minutes=30)
# One transaction handles events until either bound: a commit per event cost more than the
# event, and a long transaction keeps intake from the write lock (SQLite): 20 ms halved
# intake under a flood, 5 ms did not (docs/performance.md).
SLICE_EVENTS = 50
SLICE_SECONDS = 0.005


def backoff(attempts: int) -> timedelta:
    """The wait before another try: 1, 2, 4, 8 minutes (a transient cause has time to pass)."""
    return min(timedelta(seconds=CLAIM_SECONDS * 2 ** max(0, attempts - 1)), LONGEST_BACKOFF)


class DatabaseTrouble(Exception):
    """An event met a database error: the rest of its batch is handed back this round."""

    def __init__(self, after: int) -> None:
        super().__init__(f"database error; batch handed back from index {after}")
        self.after = after  # the index of the first event not handled


class Processor(LoopWorker):
    """Runs until stopped; wakes when the inbox writer commits, or every second."""

    name = "processor"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: Clock,
        metrics: Metrics,
        worker_id: str,
        wake: asyncio.Event,
        after_event: asyncio.Event | None = None,
        batch: int = 50,
        give_way: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(wake)
        self._sessions = sessions
        self._settings = settings
        self._clock = clock
        self._metrics = metrics
        self._worker = worker_id
        self._after = after_event  # set when replies may be waiting (wakes the sender)
        self._batch = batch
        self._give_way = give_way  # lets intake store waiting deliveries first
        self.started_at = clock.now()
        self.progressed_at: datetime | None = None  # the end of the last whole round

    async def run_once(self) -> int:
        """Claim and handle one batch; returns how many events were claimed.

        Events go several to a transaction (each in its own savepoint), so one commit is paid
        per slice, not per event. An event that fails is counted and set aside; one that
        meets a database error also ends the round, the rest of its batch handed back.
        """
        ids = await self._claim()
        done = 0  # ids[:done] are committed (handled or their failure recorded)
        try:
            while done < len(ids):
                if self._stopping:
                    await self._release(ids[done:])
                    break
                if self._give_way is not None:
                    await self._give_way()
                try:
                    done = await self._handle_slice(ids, done)
                except DatabaseTrouble as trouble:
                    await self._release(ids[trouble.after :])
                    break
                except Exception:
                    # Not even the failure could be recorded: the database is away.
                    with contextlib.suppress(Exception):
                        await self._release(ids[done:])
                    raise
        finally:
            if ids and self._after is not None:
                self._after.set()
        self.progressed_at = self._clock.now()
        return len(ids)

    async def _handle_slice(self, ids: list[int], start: int) -> int:
        """Handle ids[start:] in one transaction until the slice's time or size runs out;
        returns the index after the last one committed.

        Why bounded: on SQLite the transaction holds the one write lock, and deliveries
        waiting to be stored must not wait long for it (intake p99 under a flood).
        """
        deadline = time.monotonic() + SLICE_SECONDS
        index = start
        handled = 0
        trouble: tuple[int, Exception] | None = None
        async with self._sessions() as session, session.begin():
            while index < len(ids):
                row_id = ids[index]
                index += 1
                error = await self._handle_in(session, row_id)
                if error is None:
                    handled += 1
                elif is_database_error(error):
                    trouble = (row_id, error)  # recorded after this commit, in its own
                    break
                else:
                    await self._record_failure(session, row_id, error)
                if index - start >= SLICE_EVENTS or time.monotonic() >= deadline or self._stopping:
                    break
        if handled:
            self._metrics.events_processed.labels("done").inc(handled)
        if trouble is not None:
            row_id, error = trouble
            log.warning("event %s met a database error: %r", row_id, error)
            async with self._sessions() as session, session.begin():
                await self._record_failure(session, row_id, error)
            raise DatabaseTrouble(index) from error
        return index

    async def _claim(self) -> list[int]:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            # Chats with an event in another instance's hands wait (per-chat order); they
            # are left out here so that they take no place in the batch.
            busy_chats = select(InboxRow.chat_id).where(
                InboxRow.status == "pending",
                InboxRow.claimed_by.is_not(None),
                InboxRow.claimed_by != self._worker,
                InboxRow.claimed_until >= now,
            )
            stmt = (
                select(InboxRow.id, InboxRow.chat_id)
                .where(
                    InboxRow.status == "pending",
                    # Our own claims stay ours: after a database outage interrupted a batch,
                    # its rows are taken up again at once rather than after the claim expires.
                    or_(
                        InboxRow.claimed_until.is_(None),
                        InboxRow.claimed_until < now,
                        InboxRow.claimed_by == self._worker,
                    ),
                    InboxRow.chat_id.not_in(busy_chats),
                )
                .order_by(InboxRow.id)
                .limit(self._batch)
                .with_for_update(skip_locked=True)
            )
            rows = (await session.execute(stmt)).all()
            ids = await self._in_chat_order(session, [(r[0], r[1]) for r in rows], now)
            if ids:
                await session.execute(
                    update(InboxRow)
                    .where(InboxRow.id.in_(ids))
                    .values(
                        claimed_by=self._worker,
                        claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
                    )
                )
        return ids

    async def _in_chat_order(
        self, session: AsyncSession, rows: list[tuple[int, str]], now: datetime
    ) -> list[int]:
        """The ids to claim: none of a chat after an older event someone else is taking.

        Why: another instance may be claiming an older event of the same chat right now
        (SKIP LOCKED skipped it, and its claim is not committed yet); taking a later one
        would handle the chat out of order (a photo before its report). An event waiting
        out its failure backoff does not hold its chat back (as within one instance).
        """
        if not rows:
            return []
        ids = [i for i, _ in rows]
        older = await session.execute(
            select(InboxRow.chat_id, func.min(InboxRow.id))
            .where(
                InboxRow.status == "pending",
                InboxRow.id < max(ids),
                InboxRow.id.not_in(ids),
                InboxRow.chat_id.in_(sorted({c for _, c in rows})),
                # not one waiting out a failure backoff (no holder, a future claimed_until)
                or_(
                    InboxRow.claimed_by.is_not(None),
                    InboxRow.claimed_until.is_(None),
                    InboxRow.claimed_until < now,
                ),
            )
            .group_by(InboxRow.chat_id)
        )
        first_held = {chat: first for chat, first in older.tuples()}
        return [i for i, chat in rows if i < first_held.get(chat, i + 1)]

    async def _release(self, ids: list[int]) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(InboxRow)
                .where(
                    InboxRow.id.in_(ids),
                    InboxRow.claimed_by == self._worker,
                    InboxRow.status == "pending",
                )
                .values(claimed_by=None, claimed_until=None)
            )

    async def _handle(self, row_id: int) -> None:
        """One event in a transaction of its own."""
        await self._handle_slice([row_id], 0)

    async def _handle_in(self, session: AsyncSession, row_id: int) -> Exception | None:
        """One event in its own savepoint; returns the error that rolled it back, if any."""
        token = current_event.set(row_id)
        try:
            async with session.begin_nested():
                await self._handle_row(session, row_id)
            return None
        except Exception as exc:  # whatever it is, this row must not stall the others
            if isinstance(exc, DBAPIError) and exc.connection_invalidated:
                raise  # the connection died under us: not the event's fault, no attempt spent
            # Rows of the rolled-back savepoint are gone, and their ids may be used again.
            forget_known_ids(session)
            if not is_database_error(exc):
                log.exception("event %s failed", row_id)
            return exc
        finally:
            current_event.reset(token)

    async def _handle_row(self, session: AsyncSession, row_id: int) -> None:
        row = (
            await session.execute(
                select(InboxRow)
                .where(
                    InboxRow.id == row_id,
                    and_(InboxRow.status == "pending", InboxRow.claimed_by == self._worker),
                )
                .with_for_update()
            )
        ).scalar_one_or_none()
        if row is None:
            return  # another worker took it after our claim expired
        event = event_from_stored(row.payload["event"], row.payload.get("raw"))
        self._metrics.processing_lag.observe(
            max(0.0, (self._clock.now() - row.received_at).total_seconds())
        )
        await handle_event(session, self._settings, self._clock, event, event_pk=row.id)
        # One UPDATE when the savepoint ends for all of these (failures: _record_failure).
        row.attempts += 1
        row.status = "done"
        row.processed_at = self._clock.now()
        row.claimed_until = None

    async def _record_failure(self, session: AsyncSession, row_id: int, exc: Exception) -> None:
        """Count the attempt and back off; after MAX_ATTEMPTS the event is set aside as failed.

        Only small columns are read: the payload may be what cannot be loaded.
        """
        now = self._clock.now()
        attempts = (
            await session.execute(
                select(InboxRow.attempts).where(InboxRow.id == row_id, InboxRow.status == "pending")
            )
        ).scalar_one_or_none()
        if attempts is None:
            return
        attempts += 1
        failed = attempts >= MAX_ATTEMPTS
        await session.execute(
            update(InboxRow)
            .where(InboxRow.id == row_id)
            .values(
                attempts=attempts,
                error=describe(exc),
                status="failed" if failed else "pending",
                claimed_by=None,
                # Back off: another try later, in case the cause was transient.
                claimed_until=None if failed else now + backoff(attempts),
            )
        )
        if failed:
            self._metrics.events_processed.labels("failed").inc()
            log.error(
                "event %s failed %d times and is set aside (`antt-bot events failed`)",
                row_id,
                attempts,
            )


def describe(exc: BaseException) -> str:
    """The error as stored with the event: any database takes it."""
    try:
        text = f"{type(exc).__name__}: {exc}"
    except Exception:  # a broken __str__ must not stop the failure being recorded
        text = type(exc).__name__
    return clean_text(text)[:2000]
