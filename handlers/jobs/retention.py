"""Data retention (docs/privacy.md): delivery plumbing, then members' message text, report
photos and stored digest texts past `retention.messages_days`, `photos_days`, `digests_days`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.clock import Clock
from handlers.config import Settings
from handlers.jobs import job
from models.privacy import purge_sent_digests
from models.tables import Artifact, Attachment, InboundEvent, Message, Outbox, Report


@job(
    "retention",
    lambda s: {"trigger": "cron", "hour": 3, "minute": 30},
    "xóa dữ liệu đã quá hạn lưu (hộp thư, tin nhắn, ảnh báo cáo, ảnh biểu đồ, tổng kết đã gửi)",
    per_council=False,
)
async def retention(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
) -> int:
    """Old messages are deleted and old reports lose their text and phones (category, time and
    place stay, so digests keep their counts); old photos are deleted."""
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
        text_before = now - timedelta(days=settings.retention.messages_days)
        await session.execute(delete(Message).where(Message.sent_at < text_before))
        await session.execute(
            update(Report).where(Report.created_at < text_before).values(text="", phones=[])
        )
        photos_before = now - timedelta(days=settings.retention.photos_days)
        await session.execute(delete(Attachment).where(Attachment.created_at < photos_before))
        await purge_sent_digests(session, now - timedelta(days=settings.retention.digests_days))
    return 0
