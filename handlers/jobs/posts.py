"""The `posts` job: publish each post of the calendar once, at its time, and close quizzes.

Posts wait for a polite time (no quiet hours, rest days or holidays); a post more than
LATE_LIMIT behind its time (the bot was down for days) is not published. A quiz closes
QUIZ_HOURS after its post, or when a later post is published, with the right answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.calendar import polite_time
from handlers.clock import Clock
from handlers.config import Settings
from handlers.jobs import every, job
from handlers.texts import posts as texts
from models.outbox import enqueue
from models.posts import due_posts, open_quizzes
from models.tables import Post, PostResponse

QUIZ_HOURS = 24
LATE_LIMIT = timedelta(days=10)  # a long Tết break still publishes; a stale calendar does not


@job("posts", every(5), "đăng bài tuyên truyền theo lịch và công bố đáp án câu hỏi")
async def publish_posts(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
) -> int:
    now = clock.now()
    if not polite_time(settings, now):
        return 0
    queued = 0
    async with sessions() as session, session.begin():
        due = await due_posts(session, now, now - LATE_LIMIT)
        for quiz in await open_quizzes(session):
            closes = quiz.published_at + timedelta(hours=QUIZ_HOURS) if quiz.published_at else now
            if due or now >= closes:
                queued += await _close(session, settings, quiz, now)
        for post in due:
            queued += await _publish(session, settings, post, now)
    return queued


def post_text(post: Post) -> str:
    parts = [post.text]
    if post.question:
        parts.append(texts.POST_QUIZ.format(question=post.question))
    if post.ack:
        parts.append(texts.POST_ACK)
    return "\n\n".join(parts)


def targets(settings: Settings, post: Post) -> list[str]:
    every_group = [g.chat_id for g in settings.groups]
    return [c for c in every_group if c in post.groups] if post.groups else every_group


async def _publish(session: AsyncSession, settings: Settings, post: Post, now: datetime) -> int:
    queued = 0
    for chat in targets(settings, post):
        out = await enqueue(
            session,
            chat_id=chat,
            text=post_text(post),
            kind="post",
            key=f"post:{post.id}:{chat}",
            now=now,
            photo_url=post.image_url,
            ref_type="post",
            ref_id=post.id,
        )
        queued += out is not None
    post.published_at = now
    return queued


async def _close(session: AsyncSession, settings: Settings, post: Post, now: datetime) -> int:
    right = (
        await session.execute(
            select(func.count()).where(
                PostResponse.post_pk == post.id,
                PostResponse.kind == "answer",
                PostResponse.correct.is_(True),
            )
        )
    ).scalar_one()
    tally = texts.CLOSE_RIGHT.format(right=right) if right else texts.CLOSE_NONE_RIGHT
    text = texts.CLOSE.format(question=post.question, answer=post.answers[0], tally=tally)
    queued = 0
    for chat in targets(settings, post):
        out = await enqueue(
            session,
            chat_id=chat,
            text=text,
            kind="post",
            key=f"post-close:{post.id}:{chat}",
            now=now,
            ref_type="post-close",
            ref_id=post.id,
        )
        queued += out is not None
    post.closed_at = now
    return queued
