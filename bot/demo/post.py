"""The demo's propaganda post: the starter pack's first post (a fire-safety quiz, copied in
post.csv so that an installed wheel has it) on the calendar for the next polite 09:00."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.calendar import polite_time
from handlers.config import Settings
from models.posts import post_values
from models.tables import Post

POST_HOUR = 9  # the starter pack posts at 09:00
LOOK_AHEAD_DAYS = 30  # Tết's longest break is shorter than this


def starter_row() -> dict[str, str]:
    """The post as a row of the calendar's CSV (no time or groups yet)."""
    text = resources.files("bot.demo").joinpath("post.csv").read_text(encoding="utf-8")
    return next(csv.DictReader(io.StringIO(text)))


def next_slot(settings: Settings, now: datetime) -> datetime:
    """The first 09:00 after now on a day the bot may post (no rest day, holiday or quiet)."""
    local = now.astimezone(settings.tz)
    for days in range(LOOK_AHEAD_DAYS + 1):
        day = (local + timedelta(days=days)).date()
        at = datetime(day.year, day.month, day.day, POST_HOUR, tzinfo=settings.tz)
        if at > now and polite_time(settings, at):
            return at
    return local.replace(hour=POST_HOUR, minute=0, second=0, microsecond=0) + timedelta(days=1)


def target_groups(settings: Settings) -> list[str]:
    """The council's group (members of every enterprise are there), else every group."""
    council = [g.chat_id for g in settings.groups if g.kind == "council"]
    return council[:1]


async def schedule(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> int:
    """Put the post on the calendar once (a restarted demo keeps the one it has); its id."""
    row = starter_row()
    async with sessions() as session, session.begin():
        found = await session.scalar(
            select(Post.id).where(Post.text == row["text"]).order_by(Post.id.desc()).limit(1)
        )
        if found is not None:
            return int(found)
        at = next_slot(settings, now)
        groups = target_groups(settings)
        values = post_values(
            {**row, "at": f"{at:%Y-%m-%d %H:%M}", "groups": ";".join(groups)},
            settings.tz,
            set(groups),
        )
        post = Post(**values, created_at=now, updated_at=now)
        session.add(post)
        await session.flush()
        return post.id


async def status(
    sessions: async_sessionmaker[AsyncSession], pk: int | None, now: datetime
) -> dict[str, Any] | None:
    """For the page's guided step: when the post goes out and how far to move the clock."""
    if pk is None:
        return None
    async with sessions() as session:
        post = await session.get(Post, pk)
    if post is None:
        return None
    wait = max(post.at - now, timedelta(0))
    return {
        "at": post.at.isoformat(),
        "published": post.published_at is not None,
        # Five minutes past its time: the posts job (every 5 minutes) has run by then.
        "minutes_to_publish": int(wait.total_seconds() // 60) + 5,
        "question": post.question,
    }
