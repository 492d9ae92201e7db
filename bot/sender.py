"""The outbox worker: delivers due messages by priority, retries with backoff, never twice."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import BindParameter, Select, Table, Update, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.logs import current_outbox
from bot.metrics import Metrics
from bot.platforms.base import (
    DeferUntil,
    Forbidden,
    OutboundMessage,
    PermanentError,
    PlatformClient,
    PlatformError,
    RetryAfter,
    Unauthorized,
)
from bot.platforms.outage import PlatformOutage, describe
from bot.platforms.text_split import split_text
from bot.worker import LoopWorker
from bot.writeturn import WriteTurn
from handlers.calendar import next_polite_time, polite_time
from handlers.clock import Clock
from handlers.config import Settings
from handlers.jobs.digest import may_send_digest
from models import fastlane
from models.db import read_session
from models.inserts import insert_ignoring
from models.outbox import CHAT, sent_this_month
from models.tables import BotMessage, Outbox

log = logging.getLogger(__name__)
OUTBOX = cast(Table, Outbox.__table__)  # Core statements where the unit of work adds nothing

CLAIM_SECONDS = 120
GAUGE_SECONDS = 5.0
RECOVER_SECONDS = 60.0
# Rows a claim takes (the first of as many chats, then their next rows), sent side by side
# chat by chat; also the most a crash leaves in doubt. On SQLite every claim waits for its
# turn at the write lock behind a processor slice (up to 20 ms), so under a flood the sender
# sends at most this many rows a slice: 8 held it to about 400 a second (docs/delivery.md).
SEND_AT_ONCE = 16
CANDIDATES_PER_SEND = 4  # rows read per row claimed, to find different chats
BUDGET_REFRESH_SECONDS = 30.0  # other instances' sends show up within this
MAX_TRANSIENT_ATTEMPTS = 12  # with the backoff cap, about 40 minutes of failures
MAX_TRANSIENT_AGE = timedelta(hours=24)  # after a day of failures a message is given up
# Zalo answers some transient failures with 403 "Internal server error" (ZALO.md 1): a few
# tries with backoff (about half a minute in all), then the 403 is taken at its word.
MAX_FORBIDDEN_ATTEMPTS = 5
BUDGET_EXEMPT = {"alert"}  # urgent alerts go out whatever the budget says
# A nudge says how long someone has been quiet ("Đã 7 ngày ..."): held longer than this (an
# outage, the budget) it is no longer true, so it is withdrawn; the weekly run plans anew.
NUDGE_SHELF_LIFE = timedelta(days=3)
# Sends that wait for the morning (replies, directives and alerts go out at any hour).
QUIET = "deferred: quiet hours or holiday"
SUMMARY = "summary"  # the coordinators' daily summary (ref_type): true on its own day only
POLITE_KINDS = {
    "nudge",
    "reminder",
    "task",
    "digest",
    "post",  # the propaganda calendar: a delayed post still never goes out at night
    "praise",  # /khen's post to the member's groups
}  # urgent alerts go out whatever the budget says


@dataclass(slots=True)
class Claimed:
    """An outbox row as the sender works on it: its columns as the claim read them, then
    kept up to date by the sender (plain values, no ORM object: the claim's cost halved)."""

    id: int
    chat_id: str
    kind: str
    text: str
    photo_url: str | None
    ref_type: str | None
    created_at: datetime
    attempts: int
    chunks_sent: int
    platform_message_ids: list[str] | None


Delivered = tuple[Claimed, tuple[str, ...], datetime]  # a row, its chunk's message ids, when
_CLAIMED_COLUMNS = [OUTBOX.c[f.name] for f in fields(Claimed)]  # in the dataclass's order


def _typed(name: str, column: str) -> Any:
    """A bind of `column`'s type (UTC datetimes, JSON converted as the ORM would)."""
    return bindparam(name, type_=OUTBOX.c[column].type)


@lru_cache(maxsize=8)
def _candidates(limit: int) -> Select[Any]:
    """Due rows by priority: built once per size (a statement built per claim cost about as
    much as running it, docs/performance.md)."""
    return (
        select(*_CLAIMED_COLUMNS)
        .where(
            OUTBOX.c.status == "pending",
            OUTBOX.c.next_attempt_at <= _typed("now", "next_attempt_at"),
        )
        .order_by(OUTBOX.c.priority, OUTBOX.c.next_attempt_at, OUTBOX.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


_IDS: BindParameter[int] = bindparam("ids", expanding=True)
# The attempt is recorded before the send: a crash after it never resends.
_MARK_SENDING = (
    update(OUTBOX)
    .where(OUTBOX.c.id.in_(_IDS))
    .values(
        status="sending",
        attempts=OUTBOX.c.attempts + 1,
        claimed_by=bindparam("worker"),
        claimed_until=_typed("until", "claimed_until"),
    )
)
_DEFER = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("oid"))
    .values(next_attempt_at=_typed("when", "next_attempt_at"), last_error=bindparam("why"))
)
_CANCEL = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("oid"))
    .values(status="cancelled", last_error=bindparam("why"))
)


def _recording(last: bool) -> Update:
    """Delivered chunks of several rows (executemany); with `last`, the rows as sent."""
    values: dict[str, Any] = {
        "chunks_sent": bindparam("n"),
        "platform_message_ids": _typed("ids", "platform_message_ids"),
        "claimed_until": _typed("until", "claimed_until"),
    }
    if last:
        values.update(
            status="sent", sent_at=_typed("at", "sent_at"), last_error=None, claimed_by=None
        )
    return update(OUTBOX).where(OUTBOX.c.id == bindparam("oid")).values(**values)


_RECORD_SENT = _recording(last=True)
_RECORD_CHUNK = _recording(last=False)
# A platform that reuses an id must not turn a delivered send into an error.
_KNOW_MESSAGE = insert_ignoring(
    cast(Table, BotMessage.__table__),
    ("outbox_pk", "chat_id", "message_id", "sent_at"),
    ("chat_id", "message_id"),
    (),
)


async def _execute(session: AsyncSession, statement: Any, params: Any) -> list[tuple[Any, ...]]:
    """A prebuilt statement in the session's transaction (a list of parameter sets:
    executemany); its rows. On SQLite straight on the cursor (models/fastlane.py): for a
    claim's few small statements SQLAlchemy's execution cost several times SQLite's work."""
    outcome = await fastlane.on_connection(session, statement, params)
    if outcome is not None:
        return outcome.rows
    result = await (await session.connection()).execute(statement, params)
    return [tuple(row) for row in result] if result.returns_rows else []


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: 2, 4, 8 ... seconds, capped at 10 minutes."""
    r = rng or random
    ceiling = min(600.0, 2.0 * (2 ** max(0, attempts - 1)))
    return ceiling / 2 + r.random() * ceiling / 2


def per_chat(rows: list[Claimed], limit: int) -> list[list[Claimed]]:
    """Up to `limit` rows, in the given order within each chat: the first row of as many
    chats as fit, then the next rows of those chats. Chats go out side by side; a chat's
    rows one after the other in one task, so they never race each other."""
    chats: dict[str, list[Claimed]] = {}
    for row in rows:
        if len(chats) >= limit:
            break
        if row.chat_id not in chats:
            chats[row.chat_id] = [row]
    taken = len(chats)
    for row in rows:
        if taken >= limit:
            break
        queue = chats.get(row.chat_id)
        if queue is not None and row is not queue[0]:
            queue.append(row)
            taken += 1
    return list(chats.values())


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(now: datetime) -> datetime:
    start = month_start(now)
    return (start + timedelta(days=32)).replace(day=1)


class Sender(LoopWorker):
    """Claims due outbox rows, sends them chunk by chunk, records each chunk as it goes."""

    name = "sender"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: PlatformClient,
        settings: Settings,
        clock: Clock,
        metrics: Metrics,
        worker_id: str,
        wake: asyncio.Event,
        # Rows per claim, each of a different chat, sent at the same time. Claimed rows are
        # marked "sending", and a crash leaves them "delivery unknown": all of them are in
        # flight at once, so none waits its turn behind that mark.
        batch: int = SEND_AT_ONCE,
        turn: WriteTurn | None = None,
    ) -> None:
        super().__init__(wake)
        self._sessions = sessions
        bind = sessions.kw.get("bind")
        # The hot path writes with Core on a bare connection: a session adds only its cost.
        self._engine = bind if isinstance(bind, AsyncEngine) else None
        self._client = client
        self._settings = settings
        self._clock = clock
        self._metrics = metrics
        self._worker = worker_id
        self._batch = batch
        self._turn = turn or WriteTurn()  # SQLite: one writer of this process at a time
        self._gauges_at = 0.0
        self._budget_used: int | None = None
        self._budget_at = 0.0
        self._budget_month: datetime | None = None
        self._recovered_at = time.monotonic()
        # A claim whose every row went out: recorded in the next claim's transaction (one
        # commit a claim, not two). The next claim follows at once; a stop records them.
        self._unrecorded: list[Delivered] = []
        # Shared with the poller: a refused token pauses both and shows on /healthz.
        self.outage = PlatformOutage()

    def health(self) -> str | None:
        """None when sending works; otherwise why it is paused (for /healthz)."""
        return f"paused: {self.outage.reason}" if self.outage.reason else None

    async def before_loop(self) -> None:
        await self.recover_interrupted()

    async def recover_interrupted(self) -> int:
        """Rows left 'sending' by a crash: we cannot know if the last chunk went out.

        Alerts are sent again (a duplicate beats a missed fire); anything else is marked
        failed with the reason, so it is never sent twice (docs/delivery.md).
        """
        now = self._clock.now()
        async with self._turn(), self._sessions() as session, session.begin():
            stale = or_(Outbox.claimed_until.is_(None), Outbox.claimed_until < now)
            await session.execute(
                update(Outbox)
                .where(Outbox.status == "sending", stale, Outbox.kind == "alert")
                .values(
                    status="pending",
                    claimed_by=None,
                    claimed_until=None,
                    last_error="interrupted while sending; sent again",
                )
            )
            result = await session.execute(
                update(Outbox)
                .where(Outbox.status == "sending", stale)
                .values(
                    status="failed",
                    claimed_by=None,
                    claimed_until=None,
                    last_error="interrupted while sending: delivery unknown, not repeated",
                )
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            try:
                await self._record_unrecorded()  # what the last claim delivered
            except Exception as exc:  # the database is away: the rows stay "sending" and
                self._failed("stop", exc)  # are recovered as delivery unknown, never resent

    async def run_once(self) -> int:
        if self.outage.waiting(self._clock.now()):
            # The token was refused: nothing is claimed until the pause is over.
            await self._record_unrecorded()
            return 0
        rows = await self._claim()
        if rows and (self._stopping or self.outage.waiting(self._clock.now())):
            await self._unclaim([r.id for r in rows])
            return len(rows)
        # Chats are independent and go out side by side; each chat's rows in order.
        # Rows whose last chunk went out in this claim, recorded together after it (with
        # the next claim when all went out).
        sent: list[Delivered] = []
        outcomes: list[Any] = []
        try:
            outcomes = await asyncio.gather(
                *(self._deliver_chat(chat, sent) for chat in per_chat(rows, len(rows))),
                return_exceptions=True,
            )
        finally:
            if len(sent) == len(rows) and not self._stopping and outcomes:
                self._unrecorded.extend(sent)  # all went well: the next claim records them
            else:  # a failure, a stop: now, as the failures themselves were
                await self._record_sent(sent)
        for outcome in outcomes:  # every send ran to its end; now the first failure counts
            if isinstance(outcome, BaseException):
                raise outcome
        now = time.monotonic()
        # Housekeeping costs queries: not after every send in a burst, but whenever idle
        # and at least every few seconds.
        if not rows or now - self._gauges_at >= GAUGE_SECONDS:
            self._gauges_at = now
            await self._update_gauges()
        if not rows and now - self._recovered_at >= RECOVER_SECONDS:
            # Rows another instance left "sending" when it died (its claim has expired).
            self._recovered_at = now
            await self.recover_interrupted()
        return len(rows)

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        """A write transaction for Core statements, in this process's turn at the lock: a
        bare connection's, seen through a session only for `_execute`'s fast path."""
        async with self._turn():
            if self._engine is not None:
                async with self._engine.begin() as conn, AsyncSession(bind=conn) as session:
                    yield session
            else:  # sessions bound otherwise: the same through a session's connection
                async with self._sessions() as session, session.begin():
                    yield session

    async def _record_unrecorded(self) -> None:
        """Record the last claim's deliveries now (idle, paused or stopping)."""
        async with self._taking_unrecorded() as sent:
            await self._record_sent(sent)

    @asynccontextmanager
    async def _taking_unrecorded(self) -> AsyncIterator[list[Delivered]]:
        """The deliveries waiting to be recorded, taken by one writer (rounds may overlap:
        `Runtime.drain` beside the worker); handed back if its transaction fails."""
        taken, self._unrecorded = self._unrecorded, []
        try:
            yield taken
        except BaseException:
            self._unrecorded[:0] = taken
            raise

    async def _claim(self) -> list[Claimed]:
        """Record the last claim's deliveries, then claim the next rows: one transaction."""
        now = self._clock.now()
        async with self._taking_unrecorded() as sent, self._writing() as conn:
            await self._write_sent(conn, sent)
            found = await _execute(
                conn, _candidates(self._batch * CANDIDATES_PER_SEND), {"now": now}
            )
            candidates = [Claimed(*r) for r in found]
            chosen = per_chat(candidates, self._batch)
            rows = await self._apply_budget(conn, [r for chat in chosen for r in chat], now)
            until = now + timedelta(seconds=CLAIM_SECONDS)
            if rows:
                # One statement for the claim (the rows are read again only after a crash).
                params = {"ids": [r.id for r in rows], "worker": self._worker, "until": until}
                await _execute(conn, _MARK_SENDING, params)
        for row in rows:  # the same on the rows in hand
            row.attempts += 1
        return rows

    async def _apply_budget(
        self, conn: AsyncSession, rows: list[Claimed], now: datetime
    ) -> list[Claimed]:
        if not rows:
            return rows
        polite = polite_time(self._settings, now)
        budget = self._settings.engagement.monthly_message_budget
        left = budget - await self._month_used(conn, now) if budget > 0 else 1
        low = budget > 0 and left <= budget * self._settings.engagement.low_budget_fraction
        reserved = budget * self._settings.engagement.reserved_budget_fraction
        keep = []
        for row in rows:
            outdated = self._outdated(row, now)
            if outdated is not None:
                await _execute(conn, _CANCEL, {"oid": row.id, "why": outdated})
                continue
            if row.kind in POLITE_KINDS and not (
                polite or (row.kind == "digest" and may_send_digest(self._settings, now))
            ):
                # Queued in the evening but delayed (backlog, retries): still never at night.
                await self._defer(conn, row, next_polite_time(self._settings, now), QUIET)
                continue
            deferrable = row.kind not in BUDGET_EXEMPT
            if row.ref_type == CHAT and budget > 0 and left <= reserved:
                # The last share of the month is kept for alerts, directives and answers:
                # a chat reply ("👍 đã ghi nhận") is worth nothing next month, so it is dropped.
                why = "budget: the reserved share is for alerts and directives"
                await _execute(conn, _CANCEL, {"oid": row.id, "why": why})
                self._metrics.child(self._metrics.send_retries, "budget").inc()
                continue
            if row.kind == "nudge" and budget > 0 and (left <= 0 or low or left <= reserved):
                # Not held for next month: by then it would name people as quiet who may
                # have come back, and count days wrongly. The weekly run plans anew.
                why = "withdrawn: monthly message budget low"
                await _execute(conn, _CANCEL, {"oid": row.id, "why": why})
                self._metrics.child(self._metrics.send_retries, "budget").inc()
                continue
            if deferrable and (left <= 0 or ((low or left <= reserved) and row.kind == "digest")):
                # Deferred, never dropped: it goes out when the new month's quota starts.
                when = next_month(now) if left <= 0 else (now + timedelta(hours=6))
                await self._defer(conn, row, when, "deferred: monthly message budget low")
                self._metrics.child(self._metrics.send_retries, "budget").inc()
                continue
            keep.append(row)
            if budget > 0:  # rows of one claim go out together: each spends the budget
                left -= max(1, len(self._messages(row)) - row.chunks_sent)
        return keep

    def _outdated(self, row: Claimed, now: datetime) -> str | None:
        """Why a row held back (outage, quiet hours) would no longer be true, if so."""
        if row.kind == "nudge" and now - row.created_at > NUDGE_SHELF_LIFE:
            return "withdrawn: a nudge held more than 3 days no longer says the truth"
        tz = self._settings.tz
        if (
            row.ref_type == SUMMARY
            and row.created_at.astimezone(tz).date() != now.astimezone(tz).date()
        ):
            # "việc cần theo dõi hôm nay (thứ Ba 01/12)" read on Wednesday is untrue, and
            # that morning's own summary says what is open now.
            return "withdrawn: a daily summary held past its day"
        return None

    @staticmethod
    async def _defer(conn: AsyncSession, row: Claimed, when: datetime, why: str) -> None:
        """Leave the row pending, due again at `when`."""
        await _execute(conn, _DEFER, {"oid": row.id, "when": when, "why": why})

    async def _month_used(self, conn: AsyncSession, now: datetime) -> int:
        """Sends this month: counted in the database now and then, kept up to date in between
        (a SUM over the month's outbox for every claim would cost more than the send)."""
        start = month_start(now)
        stale = time.monotonic() - self._budget_at > BUDGET_REFRESH_SECONDS
        if self._budget_used is None or stale or start != self._budget_month:
            self._budget_used = await sent_this_month(conn, start)  # in the claim's transaction
            self._budget_at, self._budget_month = time.monotonic(), start
        return self._budget_used

    async def _unclaim(self, ids: list[int]) -> None:
        async with self._turn(), self._sessions() as session, session.begin():
            await session.execute(
                update(Outbox)
                .where(
                    Outbox.id.in_(ids),
                    Outbox.claimed_by == self._worker,
                    Outbox.status == "sending",
                    Outbox.chunks_sent == 0,
                )
                .values(
                    status="pending",
                    claimed_by=None,
                    claimed_until=None,
                    attempts=Outbox.attempts - 1,
                )
            )

    def _messages(self, row: Claimed) -> list[OutboundMessage]:
        chunks = split_text(row.text) if row.text else []
        if row.photo_url:
            caption = chunks[0] if chunks else ""
            return [OutboundMessage(chat_id=row.chat_id, text=caption, photo_url=row.photo_url)] + [
                OutboundMessage(chat_id=row.chat_id, text=c) for c in chunks[1:]
            ]
        return [OutboundMessage(chat_id=row.chat_id, text=c) for c in chunks]

    async def _deliver_chat(self, rows: list[Claimed], sent: list[Delivered]) -> None:
        """One chat's rows in order; after one that must be tried again later, the rest of
        the chat waits too (handed back unsent), so that the chat keeps its order."""
        for n, row in enumerate(rows):
            done = False
            try:
                done = await self._deliver(row, sent)
            finally:
                if not done and rows[n + 1 :]:
                    await self._unclaim([r.id for r in rows[n + 1 :]])
            if not done:
                return

    async def _deliver(self, row: Claimed, sent: list[Delivered]) -> bool:
        token = current_outbox.set(row.id)
        try:
            return await self._deliver_row(row, sent)
        finally:
            current_outbox.reset(token)

    async def _deliver_row(self, row: Claimed, sent: list[Delivered]) -> bool:
        """Send the row's chunks; True when it is done with (sent, or failed for good)."""
        messages = self._messages(row)
        if not messages:
            await self._finish(row, "failed", error="empty message")
            return True
        for index in range(row.chunks_sent, len(messages)):
            try:
                result = await self._client.send(messages[index])
            except PlatformError as exc:
                return await self._on_error(row, exc)
            last = index == len(messages) - 1
            await self._chunk_sent(row, index, result.message_ids, sent if last else None)
            if self.outage.recovered():
                log.warning("%s accepts the credentials again: sending resumes", self._client.name)
        self._metrics.child(self._metrics.outbox_sent, row.kind).inc()
        log.info("sent %s to %s", row.kind, row.chat_id)
        return True

    async def _chunk_sent(
        self, row: Claimed, index: int, ids: tuple[str, ...], claim: list[Delivered] | None
    ) -> None:
        """Record a delivered chunk. A row's last chunk is recorded with the rest of the
        claim's sends, in one transaction after they all ran (they were all in flight at
        once: a crash leaves the same rows in doubt either way); earlier chunks at once."""
        now = self._clock.now()
        row.platform_message_ids = [*(row.platform_message_ids or []), *ids]
        row.chunks_sent = index + 1
        if self._budget_used is not None:
            self._budget_used += 1
        if claim is not None:  # the row's last chunk
            claim.append((row, ids, now))
            return
        await self._record_sent([(row, ids, now)], last=False)

    async def _record_sent(self, sent: list[Delivered], last: bool = True) -> None:
        """Write delivered chunks (and, with `last`, the rows as sent) in one transaction."""
        if sent:
            async with self._writing() as conn:
                await self._write_sent(conn, sent, last)

    @staticmethod
    async def _write_sent(conn: AsyncSession, sent: list[Delivered], last: bool = True) -> None:
        """The statements of `_record_sent`, in the caller's transaction."""
        if not sent:
            return
        params = [
            {
                "oid": row.id,
                "n": row.chunks_sent,
                "ids": row.platform_message_ids,
                "until": None if last else at + timedelta(seconds=CLAIM_SECONDS),
                **({"at": at} if last else {}),
            }
            for row, _, at in sent
        ]
        known = [
            {"outbox_pk": row.id, "chat_id": row.chat_id, "message_id": m, "sent_at": at}
            for row, ids, at in sent
            for m in ids
        ]
        await _execute(conn, _RECORD_SENT if last else _RECORD_CHUNK, params)
        if known:
            await _execute(conn, _KNOW_MESSAGE, known)

    async def _finish(self, row: Claimed, status: str, error: str | None = None) -> None:
        now = self._clock.now()
        async with self._turn(), self._sessions() as session, session.begin():
            await session.execute(
                update(Outbox)
                .where(Outbox.id == row.id)
                .values(
                    status=status,
                    sent_at=now if status == "sent" else None,
                    last_error=error,
                    claimed_by=None,
                    claimed_until=None,
                )
            )

    async def _on_error(self, row: Claimed, exc: PlatformError) -> bool:
        """Fail the row for good (True) or set it up for another try later (False)."""
        now = self._clock.now()
        if isinstance(exc, Unauthorized):
            await self._pause(row, exc, now)
            return False
        if isinstance(exc, Forbidden) and row.attempts >= MAX_FORBIDDEN_ATTEMPTS:
            log.warning("send failed for good after %d tries: %s", row.attempts, exc)
            self._metrics.child(self._metrics.outbox_failed, row.kind).inc()
            await self._finish(row, "failed", error=f"{exc} (after {row.attempts} tries)"[:1000])
            return True
        if isinstance(exc, PermanentError) or not exc.retryable:
            log.warning("send failed for good: %s", exc)
            self._metrics.child(self._metrics.outbox_failed, row.kind).inc()
            await self._finish(row, "failed", error=str(exc)[:1000])
            return True
        if (
            not isinstance(exc, (RetryAfter, DeferUntil))
            and row.kind != "alert"
            and row.attempts >= MAX_TRANSIENT_ATTEMPTS
            and now - row.created_at > MAX_TRANSIENT_AGE
        ):
            # Only after many failed tries: a message held back for days (budget, quiet hours)
            # must not be dropped by the first hiccup when it finally goes out.
            self._metrics.child(self._metrics.outbox_failed, row.kind).inc()
            await self._finish(row, "failed", error=f"gave up after a day: {exc}"[:1000])
            return True
        if isinstance(exc, DeferUntil):
            when = exc.until
            reason = "deferred"
        elif isinstance(exc, RetryAfter):
            when = now + timedelta(seconds=exc.seconds)
            reason = "rate_limited"
        else:
            when = now + timedelta(seconds=backoff_seconds(row.attempts))
            reason = "transient"
        self._metrics.child(self._metrics.send_retries, reason).inc()
        log.info("send will be retried: %s", exc)
        async with self._turn(), self._sessions() as session, session.begin():
            await session.execute(
                update(Outbox)
                .where(Outbox.id == row.id)
                .values(
                    status="pending",
                    next_attempt_at=when,
                    last_error=str(exc)[:1000],
                    claimed_by=None,
                    claimed_until=None,
                )
            )
        return False

    async def _pause(self, row: Claimed, exc: PlatformError, now: datetime) -> None:
        """A refused token is an outage, not the message's fault: the row goes back as it
        was (this try not counted) and the sender waits, longer after each refusal."""
        first = self.outage.reason is None
        reason = describe(self._client.name, exc)
        pause = self.outage.refused(now, reason)
        wait = f"trying again in {int(pause.total_seconds())} s"
        if first:
            log.error("sending paused: %s; %s", reason, wait)
        else:
            refusals = self.outage.failures
            log.warning("sending still paused (%d refusals): %s; %s", refusals, exc, wait)
        self._metrics.child(self._metrics.send_retries, "unauthorized").inc()
        async with self._turn(), self._sessions() as session, session.begin():
            await session.execute(
                update(Outbox)
                .where(Outbox.id == row.id)
                .values(
                    status="pending",
                    attempts=Outbox.attempts - 1,
                    last_error=f"paused: {exc}"[:1000],
                    claimed_by=None,
                    claimed_until=None,
                )
            )

    async def _update_gauges(self) -> None:
        # Read only: no write lock taken (SQLite) while another process writes.
        async with read_session(self._sessions) as session:
            pending = (
                await session.execute(
                    select(func.count()).select_from(Outbox).where(Outbox.status == "pending")
                )
            ).scalar_one()
            self._metrics.outbox_pending.set(pending)
            budget = self._settings.engagement.monthly_message_budget
            if budget:
                used = await sent_this_month(session, month_start(self._clock.now()))
                self._metrics.budget_left.set(budget - used)
            else:
                # 0 means unlimited: +Inf, so `antt_budget_left < 100` alerts never fire.
                self._metrics.budget_left.set(float("inf"))
