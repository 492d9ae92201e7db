"""Job leases: one instance runs a job at a time; a dead holder's lease simply expires."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.outbox import insert_for
from models.tables import JobLease


async def acquire(
    session: AsyncSession, name: str, holder: str, now: datetime, ttl: timedelta
) -> bool:
    """Take the lease if it is free, expired or already ours. Caller commits."""
    insert = insert_for(session)
    await session.execute(
        insert(JobLease)
        .values(name=name, holder="", until=now - timedelta(seconds=1))
        .on_conflict_do_nothing(index_elements=["name"])
    )
    result = await session.execute(
        update(JobLease)
        .where(JobLease.name == name, or_(JobLease.until <= now, JobLease.holder == holder))
        .values(holder=holder, until=now + ttl)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release(session: AsyncSession, name: str, holder: str, now: datetime) -> None:
    await session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == holder)
        .values(until=now, last_run_at=now)
    )


async def renew(
    session: AsyncSession, name: str, holder: str, now: datetime, ttl: timedelta
) -> bool:
    """Push our lease's end to `now + ttl` while the job runs; False: it is not ours any more.

    Caller commits."""
    result = await session.execute(
        update(JobLease)
        .where(JobLease.name == name, JobLease.holder == holder, JobLease.until > now)
        .values(until=now + ttl)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
