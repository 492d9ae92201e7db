"""A guest linked to its roster row is deleted mid-slice: what the slice knew of the guest
must not pass to a member made later in the slice that SQLite gives the same id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from models import prefetch
from models.db import make_sessionmaker
from models.inserts import write_row
from models.tables import CheckIn, Member

NOW = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)


async def test_a_reused_id_starts_with_no_facts(engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(engine)
    async with sessions() as s, s.begin():
        guest = await write_row(
            s,
            Member(member_id="zalo-guest", display_name="Tuấn", created_at=NOW, expected_since=NOW),
        )
        await write_row(
            s, CheckIn(member_pk=guest.id, chat_id="g1", kind="in", at=NOW - timedelta(hours=1))
        )
    since = NOW - timedelta(hours=3)
    async with sessions() as s, s.begin():
        await prefetch.prefetch(s, {"g1"}, {"zalo-guest": "tuan"}, NOW)
        assert await prefetch.checked_in_since(s, guest.id, "in", since, NOW) is True
        prefetch.note_photo_waiting(s, guest.id)  # a photo the guest sent in the slice

        prefetch.forget_member(s, guest.id)  # linked: the guest row is gone
        assert await prefetch.checked_in_since(s, guest.id, "in", since, NOW) is None

        prefetch.note_new_member(s, guest.id)  # a stranger later in the slice, same id
        assert await prefetch.checked_in_since(s, guest.id, "in", since, NOW) is False
        assert await prefetch.no_photos_waiting(s, guest.id, since) is True
