"""The inbox worker: claims stored events in arrival order, handles several per transaction."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Integer, Text, bindparam, cast, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clean import clean_text
from bot.logs import current_event
from bot.metrics import Metrics
from bot.worker import LoopWorker, is_database_error
from bot.writeturn import WriteTurn
from handlers.clock import Clock
from handlers.config import Settings
from handlers.dispatch import handle_event
from handlers.events import InboundEvent, event_from_stored
from models import fastlane
from models.people import fold_name
from models.prefetch import cast_table, forget_known_ids, prefetch, write_activity
from models.tables import InboundEvent as InboxRow

log = logging.getLogger(__name__)

CLAIM_SECONDS = 60
MAX_ATTEMPTS = 5
LONGEST_BACKOFF = timedelta(minutes=30)
# One transaction handles events until either bound: a commit per event cost more than the
# event, and a long transaction keeps intake from the write lock (SQLite): 20 ms halved
# intake under a flood, 5 ms did not (docs/performance.md).
SLICE_EVENTS = 50
SLICE_SECONDS = 0.02
SLICE_FLOOR_SECONDS = 0.003  # what a slice gets even while deliveries wait for the lock
MIN_TAKE = 4  # rows read for a slice, at the least


_INBOX = cast_table(InboxRow)
# A slice's own statements, built once: building an ORM select or update per slice cost
# three times what running it does (~330-420 us against ~100 us each, SQLite).
_LOAD = (
    select(_INBOX.c.id, cast(_INBOX.c.payload, Text), _INBOX.c.received_at)
    .where(
        _INBOX.c.id.in_(bindparam("ids", expanding=True)),
        _INBOX.c.status == "pending",
        _INBOX.c.claimed_by == bindparam("worker"),
    )
    .with_for_update()
)
_MARK_DONE = (
    update(_INBOX)
    .where(_INBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status="done",
        attempts=_INBOX.c.attempts + 1,
        processed_at=bindparam("now", type_=_INBOX.c.processed_at.type),
        claimed_until=None,
    )
)

# The claim's statements, built once (an ORM select and update built per claim cost more
# than running them); the worker, the time and the batch are bound per claim.
_NOW = bindparam("now", type_=_INBOX.c.claimed_until.type)
# Chats with an event in another instance's hands wait (per-chat order); they are left out
# here so that they take no place in the batch.
_BUSY_CHATS = select(_INBOX.c.chat_id).where(
    _INBOX.c.status == "pending",
    _INBOX.c.claimed_by.is_not(None),
    _INBOX.c.claimed_by != bindparam("worker"),
    _INBOX.c.claimed_until >= _NOW,
)
_CLAIMABLE = (
    select(_INBOX.c.id, _INBOX.c.chat_id)
    .where(
        _INBOX.c.status == "pending",
        # Our own claims stay ours: after a database outage interrupted a batch, its rows
        # are taken up again at once rather than after the claim expires.
        or_(
            _INBOX.c.claimed_until.is_(None),
            _INBOX.c.claimed_until < _NOW,
            _INBOX.c.claimed_by == bindparam("worker"),
        ),
        _INBOX.c.chat_id.not_in(_BUSY_CHATS),
    )
    .order_by(_INBOX.c.id)
    .limit(bindparam("batch", type_=Integer))
    .with_for_update(skip_locked=True)
)
# The oldest pending event of each chat before the newest claimed, not among them, and not
# one waiting out a failure backoff (no holder, a future claimed_until).
_OLDER_PENDING = (
    select(_INBOX.c.chat_id, func.min(_INBOX.c.id))
    .where(
        _INBOX.c.status == "pending",
        _INBOX.c.id < bindparam("newest"),
        _INBOX.c.id.not_in(bindparam("ids", expanding=True)),
        _INBOX.c.chat_id.in_(bindparam("chats", expanding=True)),
        or_(
            _INBOX.c.claimed_by.is_not(None),
            _INBOX.c.claimed_until.is_(None),
            _INBOX.c.claimed_until < _NOW,
        ),
    )
    .group_by(_INBOX.c.chat_id)
)
_CLAIM = (
    update(_INBOX)
    .where(_INBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        claimed_by=bindparam("worker"),
        claimed_until=bindparam("until", type_=_INBOX.c.claimed_until.type),
    )
)


def backoff(attempts: int) -> timedelta:
    """The wait before another try: 1, 2, 4, 8 minutes (a transient cause has time to pass)."""
    return min(timedelta(seconds=CLAIM_SECONDS * 2 ** max(0, attempts - 1)), LONGEST_BACKOFF)


@dataclass(slots=True)
class _Stored:
    """An inbox row as read for handling: its payload still JSON text until asked for."""

    row_id: int
    payload: str | None
    received_at: datetime
    _event: InboundEvent | None = None

    def event(self) -> InboundEvent:
        """The stored event; raises (while the event is handled) if it cannot be read."""
        if self._event is None:
            data = json.loads(self.payload) if self.payload is not None else None
            if not isinstance(data, dict):
                raise ValueError("the stored payload is not an object")
            self._event = event_from_stored(data["event"], data.get("raw"))
        return self._event

    def head(self) -> tuple[str, str, str] | None:
        """(chat, sender, sender's name) for the slice's look-ups; None if unreadable."""
        try:
            event = self.event()
        except Exception:  # its own handling fails, and records why
            return None
        return event.chat_id, event.sender_id, event.sender_name


class DatabaseTrouble(Exception):
    """An event met a database error: the rest of its batch is handed back this round."""

    def __init__(self, after: int) -> None:
        super().__init__(f"database error; batch handed back from index {after}")
        self.after = after  # the index of the first event not handled


class _EventRaised(Exception):
    """An event of an optimistic slice failed: the slice is rolled back and run carefully."""


@dataclass(slots=True)
class _Outcome:
    """What a slice's transaction did with its chunk."""

    handled: int = 0  # events of the chunk gone through (handled, failed or no longer ours)
    done: list[int] = field(default_factory=list)  # ids handled and marked done
    trouble: tuple[int, Exception] | None = None  # an event that met a database error
    lags: list[float] = field(default_factory=list)  # processing lags still to observe


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
        turn: WriteTurn | None = None,
    ) -> None:
        super().__init__(wake)
        self._sessions = sessions
        self._settings = settings
        self._clock = clock
        self._metrics = metrics
        self._worker = worker_id
        self._after = after_event  # set when replies may be waiting (wakes the sender)
        self._batch = batch
        self._take = MIN_TAKE  # rows read for the next slice (adapts to what a slice handles)
        # Rows the last slice read but did not reach: read again by the next one, their
        # payload decoded once (see _load).
        self._unreached: dict[int, _Stored] = {}
        self._give_way = give_way  # lets intake store waiting deliveries first
        self._turn = turn or WriteTurn()  # SQLite: one writer of this process at a time
        self.started_at = clock.now()
        self.progressed_at: datetime | None = None  # the end of the last whole round

    async def run_once(self) -> int:
        """Claim and handle one batch; returns how many events were claimed.

        Events go several to a transaction, so one commit is paid per slice, not per event.
        An event that fails is counted and set aside; one that meets a database error also
        ends the round, the rest of its batch handed back.
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
                # A real turn of the loop between slices: SQLite runs on the loop itself
                # (models/sqlite_inline.py), so without it a whole batch held the loop and
                # deliveries waited for every slice of it (intake p99 under a flood).
                await asyncio.sleep(0)
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
        waiting to be stored must not wait long for it (intake p99 under a flood). The
        slice's rows and what its events will look up are read up front, a few statements
        for the slice instead of several per event (models/prefetch.py).

        Optimistic first: the events run with no savepoint each (a savepoint and its release
        cost about 0.45 ms an event). If one raises, that transaction is rolled back whole
        and the same events run again the careful way, each in its own savepoint.
        """
        chunk = ids[start : start + self._take]
        try:
            outcome = await self._run_slice(chunk, careful=False)
        except _EventRaised as raised:  # its transaction was rolled back, nothing kept
            log.debug("event %s raised: its slice is handled again with savepoints", raised)
            outcome = await self._run_slice(chunk, careful=True)
        index = start + outcome.handled
        # Take about twice what the last slice could handle: reading rows that wait for the
        # next slice costs their JSON decoding twice.
        self._take = max(MIN_TAKE, min(SLICE_EVENTS, 2 * outcome.handled))
        for lag in outcome.lags:  # observed once the events are committed (optimistic run)
            self._metrics.processing_lag.observe(lag)
        if outcome.done:
            self._metrics.events_processed.labels("done").inc(len(outcome.done))
        if outcome.trouble is not None:
            row_id, error = outcome.trouble
            log.warning("event %s met a database error: %r", row_id, error)
            async with self._turn(), self._sessions() as session, session.begin():
                await self._record_failure(session, row_id, error)
            raise DatabaseTrouble(index) from error
        return index

    async def _run_slice(self, chunk: list[int], careful: bool) -> _Outcome:
        """One transaction over the chunk's events, in order, until its bounds. Not careful,
        an event's failure raises _EventRaised and the transaction is rolled back."""
        deadline = time.monotonic() + SLICE_SECONDS
        floor = time.monotonic() + SLICE_FLOOR_SECONDS
        outcome = _Outcome()
        async with self._turn(), self._sessions() as session, session.begin():
            loaded = await self._load(session, chunk)
            for row_id in chunk:
                outcome.handled += 1
                stored = loaded.get(row_id)
                error: Exception | None = None
                if careful:
                    error = await self._handle_in(session, row_id, stored)
                else:  # a failure raises, and the transaction is rolled back
                    await self._handle_plain(session, row_id, stored, outcome.lags)
                if error is None:
                    if stored is not None:
                        outcome.done.append(row_id)
                elif is_database_error(error):
                    outcome.trouble = (row_id, error)  # recorded after this commit
                    break
                else:
                    await self._record_failure(session, row_id, error)
                if time.monotonic() >= deadline or self._stopping:
                    break
                # A turn of the loop between events: deliveries read meanwhile ask for
                # the write turn, and then the slice ends (after its floor) so that they
                # are stored and answered without waiting for the whole slice.
                await asyncio.sleep(0)
                if self._turn.wanted and time.monotonic() >= floor:
                    break
            await write_activity(session)
            if outcome.done:
                await self._mark_done(session, outcome.done)
        # Kept once committed: never handed to a handler, so their events are as decoded.
        self._unreached = {i: loaded[i] for i in chunk[outcome.handled :] if i in loaded}
        return outcome

    async def _load(self, session: AsyncSession, chunk: list[int]) -> dict[int, _Stored]:
        """The chunk's rows still ours to handle (locked on PostgreSQL), and what their
        events will look up. The payload comes as text (cast in SQL: asyncpg would decode
        it itself): one that cannot be decoded fails its own event, not the slice."""
        rows = await fastlane.execute_core(session, _LOAD, {"ids": chunk, "worker": self._worker})
        unreached, self._unreached = self._unreached, {}
        loaded: dict[int, _Stored] = {}
        for row_id, payload, received in rows:
            stored = unreached.get(row_id)
            if stored is None or stored.payload != payload or stored.received_at != received:
                stored = _Stored(row_id, payload, received)
            loaded[row_id] = stored
        heads = [head for stored in loaded.values() if (head := stored.head()) is not None]
        if len(heads) > 1:  # for a lone event the look-ups cost what they save
            senders = {sender: fold_name(name) for _, sender, name in heads if sender}
            await prefetch(session, {chat for chat, _, _ in heads}, senders, self._clock.now())
        return loaded

    async def _mark_done(self, session: AsyncSession, row_ids: list[int]) -> None:
        """One statement for the slice's handled events."""
        await fastlane.execute_core(session, _MARK_DONE, {"ids": row_ids, "now": self._clock.now()})

    async def _claim(self) -> list[int]:
        now = self._clock.now()
        async with self._turn(), self._sessions() as session, session.begin():
            params = {"worker": self._worker, "now": now, "batch": self._batch}
            rows = await fastlane.execute_core(session, _CLAIMABLE, params)
            ids = await self._in_chat_order(session, [(r[0], r[1]) for r in rows], now)
            if ids:
                until = now + timedelta(seconds=CLAIM_SECONDS)
                claim = {"ids": ids, "worker": self._worker, "until": until}
                await fastlane.execute_core(session, _CLAIM, claim)
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
        chats = sorted({c for _, c in rows})
        params = {"newest": max(ids), "ids": ids, "chats": chats, "now": now}
        older = await fastlane.execute_core(session, _OLDER_PENDING, params)
        first_held = {chat: first for chat, first in older}
        return [i for i, chat in rows if i < first_held.get(chat, i + 1)]

    async def _release(self, ids: list[int]) -> None:
        async with self._turn(), self._sessions() as session, session.begin():
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
        self._take = 1
        await self._handle_slice([row_id], 0)

    async def _handle_in(
        self, session: AsyncSession, row_id: int, stored: _Stored | None
    ) -> Exception | None:
        """One event in its own savepoint; returns the error that rolled it back, if any."""
        if stored is None:
            return None  # another worker took it after our claim expired
        token = current_event.set(row_id)
        try:
            async with session.begin_nested():
                await self._handle_stored(session, stored)
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

    async def _handle_plain(
        self, session: AsyncSession, row_id: int, stored: _Stored | None, lags: list[float]
    ) -> None:
        """One event of an optimistic slice, with no savepoint; raises _EventRaised (the
        slice is then rolled back) if it fails. Its lag is kept for after the commit."""
        if stored is None:
            return  # another worker took it after our claim expired
        token = current_event.set(row_id)
        try:
            event = stored.event()
            lag = self._lag(stored)
            await handle_event(session, self._settings, self._clock, event, event_pk=stored.row_id)
            # Written now, as the savepoint's release did: rows an event leaves pending (its
            # check-in) go before the next event's statements, in the same order as before.
            # A clean session's flush does nothing but its greenlet hop: asked here first.
            if not session.sync_session._is_clean():
                await session.flush()
            lags.append(lag)
        except Exception as exc:
            if isinstance(exc, DBAPIError) and exc.connection_invalidated:
                raise  # as in the careful run: the connection died, no attempt spent
            forget_known_ids(session)  # the rollback takes this event's rows, and the rest
            raise _EventRaised(row_id) from exc
        finally:
            current_event.reset(token)

    async def _handle_stored(self, session: AsyncSession, stored: _Stored) -> None:
        event = stored.event()
        self._metrics.processing_lag.observe(self._lag(stored))
        await handle_event(session, self._settings, self._clock, event, event_pk=stored.row_id)

    def _lag(self, stored: _Stored) -> float:
        """Seconds from the event's arrival to its handling."""
        return max(0.0, (self._clock.now() - stored.received_at).total_seconds())

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
