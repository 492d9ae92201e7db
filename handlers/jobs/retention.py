"""Data retention: old processed inbox rows and finished outbox rows are removed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.clock import Clock
from handlers.config import Settings
from handlers.jobs import job
from models.tables import Artifact, InboundEvent, Outbox


@job(
    "retention",
    lambda s: {"trigger": "cron", "hour": 3, "minute": 30},
    "xóa dữ liệu tạm đã quá hạn lưu (hộp thư đến/đi đã xử lý, ảnh biểu đồ hết hạn)",
)
async def retention(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
) -> int:
    """Messages, reports and check-ins are kept; only delivery plumbing is trimmed."""
    now = clock.now()
    async with sessions() as session, session.begin():
        await session.execute(
            delete(InboundEvent).where(
                InboundEvent.status.in_(("done", "ignored")),
                InboundEvent.received_at < now - timedelta(days=settings.retention.inbox_days),
            )
        )
        await session.execute(
            delete(Outbox).where(
                Outbox.status.in_(("sent", "failed", "cancelled")),
                Outbox.created_at < now - timedelta(days=settings.retention.outbox_days),
            )
        )
        await session.execute(delete(Artifact).where(Artifact.expires_at < now))
    return 0
