"""The weekly digest to the coordinators: text, chart photo and dashboard link, once a week.

Level-triggered: every run after this week's `digest.weekday` + `digest.time` (local) makes
sure last week's digest is queued for every recipient; the idempotency keys
`digest:{chat}:{week}` and `digest-photo:{chat}:{week}` make repeats, restarts and a second
instance harmless.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.calendar import in_quiet_hours, is_holiday, is_rest_day, polite_time
from handlers.clock import Clock
from handlers.config import Settings, parse_hhmm
from handlers.councils import DEFAULT_COUNCIL, scope
from handlers.digest import Digest, build_digest, week_bounds, week_of
from handlers.jobs import every, job
from handlers.texts import digest as texts
from models.db import read_session
from models.digest import keep_sent_digest, park_member
from models.outbox import enqueue
from models.people import coordinators
from models.scoping import members_here
from models.tables import Artifact, Member, Outbox

log = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def send_time(settings: Settings, now: datetime, weeks_ahead: int = 0) -> datetime:
    """This week's `digest.weekday` at `digest.time`, local (or that of a later week)."""
    tz = settings.tz
    local = now.astimezone(tz)
    monday = (local - timedelta(days=local.weekday())).date()
    at = parse_hhmm(settings.digest.time)
    send_day = monday + timedelta(days=WEEKDAYS.index(settings.digest.weekday) + 7 * weeks_ahead)
    return datetime(send_day.year, send_day.month, send_day.day, at.hour, at.minute, tzinfo=tz)


def next_send(settings: Settings, now: datetime) -> datetime:
    """The next configured send time after `now` (what `antt-bot jobs list` shows)."""
    fire = send_time(settings, now)
    return fire if now < fire else send_time(settings, now, weeks_ahead=1)


# A digest sent on the week's last day after this hour reports that week: the work is over.
END_OF_WORKDAY = time(17, 0)


def reports_its_own_week(settings: Settings) -> bool:
    """Is the send time Sunday after working hours (docs/digest.md "Which week")?"""
    return settings.digest.weekday == WEEKDAYS[-1] and (
        parse_hhmm(settings.digest.time) >= END_OF_WORKDAY
    )


def due_week(settings: Settings, now: datetime) -> str | None:
    """The week whose digest is due at `now`: last week, once this week's send time passed;
    with a Sunday-evening send time, the week it ends (and on Monday, last week's)."""
    tz = settings.tz
    local = now.astimezone(tz)
    monday = datetime.combine((local - timedelta(days=local.weekday())).date(), time(0), tz)
    last_week = week_of(monday - timedelta(days=1), tz)
    if reports_its_own_week(settings):
        if local >= send_time(settings, now):
            return week_of(local, tz)
        # On Monday, yesterday evening's digest is still due: a run after an outage on Sunday
        # evening sends it (the keys make repeats harmless); later in the week it is stale.
        return last_week if local.weekday() == 0 else None
    return last_week if local >= send_time(settings, now) else None


def may_send_digest(settings: Settings, at: datetime) -> bool:
    """Quiet hours, holidays and rest days hold the digest, except the rest day the council
    chose for it (digest.weekday: sun): they asked for it on Sunday."""
    if polite_time(settings, at):
        return True
    chosen_day = WEEKDAYS[at.astimezone(settings.tz).weekday()] == settings.digest.weekday
    return (
        chosen_day
        and is_rest_day(settings, at)
        and not in_quiet_hours(settings, at)
        and not is_holiday(settings, at)
    )


def photo_url(settings: Settings, token: str) -> str | None:
    """Where the platform fetches the chart; the local simulator can use a relative path."""
    public = settings.server.public_url.rstrip("/")
    if public:
        return f"{public}/a/{token}.png"
    return f"/a/{token}.png" if settings.platform.kind == "local" else None


async def recipients(session: AsyncSession, settings: Settings) -> list[str]:
    """Coordinators' private chats and configured coordinators' group chats, each once."""
    members, chats = await coordinators(session, settings.coordinators, scope(settings))
    out: list[str] = []
    for chat in [m.private_chat_id for m in members if m.private_chat_id] + chats:
        if chat not in out:
            out.append(chat)
    return out


@job(
    "weekly_digest",
    every(15),
    "gửi tổng hợp tuần cho điều phối viên (theo digest.weekday, digest.time)",
    next_due=next_send,
)
async def weekly_digest(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
) -> int:
    now = clock.now()
    week = due_week(settings, now)
    if week is None:
        return 0
    # Several parks: one person may chair two, and gets each park's digest.
    park = f"{settings.council_id}:" if scope(settings) else ""
    # Read and draw without the write lock: building the week's figures and drawing the
    # chart take a while, and intake must keep storing deliveries meanwhile.
    async with read_session(sessions) as session:
        chats = await recipients(session, settings)
        keys = {f"digest:{park}{c}:{week}" for c in chats} | {
            f"digest-photo:{park}{c}:{week}" for c in chats
        }
        done = set(
            (
                await session.execute(
                    select(Outbox.idempotency_key).where(Outbox.idempotency_key.in_(keys))
                )
            ).scalars()
        )
        todo = [
            c
            for c in chats
            if f"digest:{park}{c}:{week}" not in done
            or f"digest-photo:{park}{c}:{week}" not in done
        ]
        if not todo:
            return 0
        if not await _anyone_expected(session, settings, week):
            return 0  # a week before the roster existed (a fresh install): nothing to say
        digest = await build_digest(session, settings, week, now, council_id=scope(settings))
        digest.closing = True
    png = None
    if any(f"digest-photo:{park}{c}:{week}" not in done for c in todo):
        png = await chart_or_none(digest)
    async with sessions() as session, session.begin():
        # Every recipient of a week gets the text stored first, and the dashboard shows it.
        text = await keep_sent_digest(
            session,
            week,
            digest.render_text(),
            digest.window.as_of,
            now,
            settings.council_id or DEFAULT_COUNCIL,
        )
        url = await _store_chart(session, settings, png, now) if png is not None else None
        queued = 0
        for chat in todo:
            queued += await _enqueue_digest(
                session, chat, text, url, digest, f"{park}{chat}:{week}", now
            )
    log.info("weekly digest %s queued for %d chat(s)", week, len(todo))
    return queued


async def _anyone_expected(session: AsyncSession, settings: Settings, week: str) -> bool:
    """Was any roster member expected to take part before that week ended?"""
    _start, end = week_bounds(week, settings.tz)
    stmt = (
        select(Member.id)
        .where(park_member(), Member.expected_since < end, *members_here(session))
        .limit(1)
    )
    return (await session.execute(stmt)).first() is not None


async def _enqueue_digest(
    session: AsyncSession,
    chat: str,
    text: str,
    url: str | None,
    digest: Digest,
    key: str,
    now: datetime,
) -> int:
    """The week's text, then its chart, to one chat; a part already queued is skipped."""
    queued = 0
    if (
        await enqueue(session, chat_id=chat, text=text, kind="digest", key=f"digest:{key}", now=now)
        is not None
    ):
        queued += 1
    if (
        url is not None
        and await enqueue(
            session,
            chat_id=chat,
            text=texts.PHOTO_CAPTION.format(num=digest.week_number),
            kind="digest",
            key=f"digest-photo:{key}",
            now=now,
            photo_url=url,
        )
        is not None
    ):
        queued += 1
    return queued


def digest_png(digest: Digest) -> bytes:
    from handlers.digest_chart import render_png  # matplotlib only when a digest is due

    return render_png(digest)


async def chart_or_none(digest: Digest) -> bytes | None:
    """The chart, or None when drawing it fails: the text digest must go out regardless.

    Logged as an error; the photo's key stays unused, so the next run tries the chart again.
    """
    try:
        return await asyncio.to_thread(digest_png, digest)  # CPU work: keep the loop free
    except Exception:
        log.exception("weekly digest %s: the chart failed, the text goes without it", digest.week)
        return None


async def _store_chart(
    session: AsyncSession, settings: Settings, png: bytes, now: datetime
) -> str | None:
    token = secrets.token_urlsafe(32)
    url = photo_url(settings, token)
    if url is None:
        log.warning("digest chart not sent: set server.public_url so Zalo can fetch it")
        return None
    session.add(
        Artifact(
            token=token,
            kind="digest_chart",
            content_type="image/png",
            data=png,
            created_at=now,
            expires_at=now + timedelta(days=settings.digest.image_valid_days),
        )
    )
    await session.flush()
    return url
