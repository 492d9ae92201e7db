"""APScheduler 3 in `serve`, and the one way any job is run (also by `jobs run` and the demo)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.clock import Clock, SystemClock
from handlers.config import Settings
from handlers.jobs import JOBS, JobSpec, load_all, run_body
from models.leases import acquire, release, renew

log = logging.getLogger(__name__)

LEASE_TTL = timedelta(minutes=10)


class LeaseLost(Exception):
    """The job's lease could not be renewed and another instance may hold it: the job stopped."""


@dataclass(frozen=True)
class LeaseTerms:
    """How a running job holds its lease: for `ttl`, renewed every third of it.

    The lease is about real time (who is running now), not the job's clock, which
    `jobs run --at` and the demo move: a lease taken in the future would block the job.
    Tests give their own clock and `sleep` to drive renewals step by step."""

    ttl: timedelta = LEASE_TTL
    clock: Clock = field(default_factory=SystemClock)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


@dataclass(frozen=True)
class JobOutcome:
    name: str
    ran: bool  # False: another instance holds the lease
    queued: int


async def run_job(
    name: str,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Clock,
    holder: str,
    terms: LeaseTerms | None = None,
    council_id: str | None = None,
) -> JobOutcome:
    """Run one registered job under its database lease (see `run_spec`)."""
    spec = load_all().get(name)
    if spec is None:
        raise KeyError(name)
    return await run_spec(
        spec, sessions, settings, clock, holder, terms or LeaseTerms(), council_id
    )


async def run_spec(
    spec: JobSpec,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Clock,
    holder: str,
    terms: LeaseTerms,
    council_id: str | None = None,
) -> JobOutcome:
    """Run a job under its lease, renewed while it runs; a job running elsewhere is skipped.
    With several parks it runs per council (`council_id`: that council only)."""
    name = spec.name
    async with sessions() as session, session.begin():
        if not await acquire(session, name, holder, terms.clock.now(), terms.ttl):
            log.info("job %s skipped: running on another instance", name)
            return JobOutcome(name, ran=False, queued=0)
    job = asyncio.current_task()
    lost = asyncio.Event()
    keeper = asyncio.create_task(_keep_lease(spec.name, sessions, holder, terms, job, lost))
    try:
        queued = await run_body(spec, sessions, settings, clock, council_id)
    except asyncio.CancelledError:
        if not lost.is_set() or job is None:
            raise
        job.uncancel()  # our own keeper stopped the job, not a caller: say why instead
        raise LeaseLost(f"job {name}: its lease was lost, stopped so as not to run twice") from None
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        async with sessions() as session, session.begin():
            await release(session, name, holder, terms.clock.now())
    log.info("job %s queued %d messages", name, queued, extra={"job": name})
    return JobOutcome(name, ran=True, queued=queued)


async def _keep_lease(
    name: str,
    sessions: async_sessionmaker[AsyncSession],
    holder: str,
    terms: LeaseTerms,
    job: asyncio.Task[Any] | None,
    lost: asyncio.Event,
) -> None:
    """Renew the lease every third of its length; if it was taken over, stop the job."""
    while True:
        await terms.sleep(terms.ttl.total_seconds() / 3)
        try:
            async with sessions() as session, session.begin():
                kept = await renew(session, name, holder, terms.clock.now(), terms.ttl)
        except Exception:  # the database may be back before the lease runs out
            log.warning("job %s: could not renew its lease; retrying", name, exc_info=True)
            continue
        if not kept:
            log.error("job %s: lease lost to another instance; stopping it", name)
            lost.set()
            if job is not None:
                job.cancel()
            return


def make_scheduler(
    settings: Settings, run: Callable[[str], Awaitable[JobOutcome]]
) -> AsyncIOScheduler:
    """Every registered job on its trigger, run by `run` (the runtime's, which tracks it);
    misfires coalesce (jobs catch up by themselves)."""
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    for spec in load_all().values():
        scheduler.add_job(
            _runner(spec.name, run),
            id=spec.name,
            name=spec.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            **spec.trigger(settings),
        )
    return scheduler


def _runner(
    name: str, run: Callable[[str], Awaitable[JobOutcome]]
) -> Callable[[], Awaitable[None]]:
    async def runner() -> None:
        try:
            await run(name)
        except asyncio.CancelledError:
            # The scheduler shutting down cancels what it started; the job itself goes on in
            # the runtime's task, which the shutdown waits for. Nothing to report here.
            return
        except Exception:
            log.exception("job %s failed", name, extra={"job": name})

    return runner


def next_fire(spec: JobSpec, settings: Settings, now: datetime) -> datetime | None:
    """When the job would next run, without starting a scheduler (`jobs list`)."""
    kwargs = dict(spec.trigger(settings))
    kind = kwargs.pop("trigger")
    kwargs.setdefault("timezone", settings.tz)
    trigger = CronTrigger(**kwargs) if kind == "cron" else IntervalTrigger(**kwargs, start_date=now)
    fire = trigger.get_next_fire_time(None, now)
    if kind == "interval" and fire is not None and fire <= now:
        fire = fire + trigger.interval
    return fire


__all__ = [
    "JOBS",
    "JobOutcome",
    "LeaseLost",
    "LeaseTerms",
    "make_scheduler",
    "next_fire",
    "run_job",
    "run_spec",
]
