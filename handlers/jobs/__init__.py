"""Scheduled jobs: plain async functions of (sessions, settings, clock), level-triggered.

Each run asks the database what is due now and writes outbox rows with unique idempotency
keys, so a second run, a second instance or a catch-up after downtime sends nothing twice.
Every module in this package registers its jobs with `job()`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.clock import Clock
from handlers.config import Settings

JobFn = Callable[[async_sessionmaker[AsyncSession], Settings, Clock], Awaitable[int]]
Trigger = Callable[[Settings], dict[str, Any]]
# When the job next has work to do, for a job that checks often but acts at a set time.
NextDue = Callable[[Settings, datetime], datetime]


@dataclass(frozen=True)
class JobSpec:
    name: str
    fn: JobFn
    trigger: Trigger  # APScheduler add_job keyword arguments, from the settings
    description: str  # Vietnamese, as `antt-bot jobs list` shows it
    next_due: NextDue | None = None  # None: whenever the trigger next fires
    # Run once per council, with its settings and sessions kept to it (docs/councils.md);
    # False: once for the whole installation (retention).
    per_council: bool = True


JOBS: dict[str, JobSpec] = {}


def every(minutes: int) -> Trigger:
    return lambda _settings: {"trigger": "interval", "minutes": minutes}


def job(
    name: str,
    trigger: Trigger,
    description: str,
    next_due: NextDue | None = None,
    *,
    per_council: bool = True,
) -> Callable[[JobFn], JobFn]:
    """Register a job under its public name (`antt-bot jobs run NAME`)."""

    def register(fn: JobFn) -> JobFn:
        if name in JOBS:
            raise RuntimeError(f"job {name!r} registered twice")
        JOBS[name] = JobSpec(name, fn, trigger, description, next_due, per_council)
        return fn

    return register


async def run_body(
    spec: JobSpec,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: Clock,
    council_id: str | None = None,
) -> int:
    """The job's work: once, or (several parks) once per council with that council's settings
    and sessions that see only its records; `council_id` runs it for that council alone."""
    from handlers.councils import councils
    from models.scoping import council_sessions

    if not settings.councils or not spec.per_council:
        return await spec.fn(sessions, settings, clock)
    queued = 0
    for council in councils(settings):
        if council_id is None or council.id == council_id:
            queued += await spec.fn(council_sessions(sessions, council.id), council.settings, clock)
    return queued


def load_all() -> dict[str, JobSpec]:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        importlib.import_module(f"{__name__}.{info.name}")
    return JOBS
