"""APScheduler 3 in `serve`, and the one way any job is run (also by `jobs run` and the demo)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.clock import Clock
from handlers.config import Settings
from handlers.jobs import JOBS, JobSpec, load_all
from models.leases import acquire, release

log = logging.getLogger(__name__)

LEASE_TTL = timedelta(minutes=10)


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
) -> JobOutcome:
    """Run one job under its database lease; a job already running elsewhere is skipped."""
    spec = load_all().get(name)
    if spec is None:
        raise KeyError(name)
    # The lease is about real time (who is running now), not the job's clock, which
    # `jobs run --at` and the demo move: a lease taken in the future would block the job.
    async with sessions() as session, session.begin():
        if not await acquire(session, name, holder, datetime.now(UTC), LEASE_TTL):
            log.info("job %s skipped: running on another instance", name)
            return JobOutcome(name, ran=False, queued=0)
    try:
        queued = await spec.fn(sessions, settings, clock)
    finally:
        async with sessions() as session, session.begin():
            await release(session, name, holder, datetime.now(UTC))
    log.info("job %s queued %d messages", name, queued, extra={"job": name})
    return JobOutcome(name, ran=True, queued=queued)


def make_scheduler(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Clock,
    holder: str,
    on_queued: object = None,
) -> AsyncIOScheduler:
    """Every registered job on its trigger; misfires coalesce (jobs catch up by themselves)."""
    scheduler = AsyncIOScheduler(timezone=settings.tz)

    for spec in load_all().values():
        scheduler.add_job(
            _runner(spec, sessions, settings, clock, holder, on_queued),
            id=spec.name,
            name=spec.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            **spec.trigger(settings),
        )
    return scheduler


def _runner(
    spec: JobSpec,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Clock,
    holder: str,
    on_queued: object,
) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            outcome = await run_job(spec.name, sessions, settings, clock, holder)
        except Exception:
            log.exception("job %s failed", spec.name, extra={"job": spec.name})
            return
        if outcome.queued and callable(on_queued):
            on_queued()

    return run


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


__all__ = ["JOBS", "JobOutcome", "make_scheduler", "next_fire", "run_job"]
