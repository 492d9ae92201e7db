"""/thongke, /chuahoatdong and /tonghop: coordinators ask for this week's figures, who is
quiet, and what needs following up today."""

from __future__ import annotations

import re

from sqlalchemy import select

from handlers.codes import incident_code
from handlers.context import Context
from handlers.councils import scope
from handlers.digest import build_digest, week_of
from handlers.intents.incidents.understanding import folded_words
from handlers.jobs.summary import summary_sections
from handlers.leave import leaves_end, working_days_back
from handlers.registry import hook, intent
from handlers.texts import core as core_texts
from handlers.texts import digest as texts
from handlers.texts import honour as honour_texts
from handlers.texts import requests as summary_texts
from handlers.texts.engagement import away_label
from handlers.texts.people import labels, you_words
from models import digest as q
from models.honour import open_cameras
from models.leave import Leave
from models.tables import Member

MAX_LINES = 60  # a longer list goes on the dashboard, not into several chat messages


def _command(ctx: Context) -> str:
    parsed = ctx.parsed
    return parsed.command.name if parsed is not None and parsed.command is not None else "thongke"


# Folded: an enterprise that is the police ("Công an KCN", "Công an phường"): the council's
# leadership, who may read the day's summary as coordinators do.
POLICE_RE = re.compile(r"^\W*(?:cong an|canh sat)\b")


def is_police(ctx: Context) -> bool:
    """Whether the sender's enterprise on the roster is the police."""
    enterprise = ctx.member.enterprise
    return bool(enterprise) and POLICE_RE.match(folded_words(enterprise)) is not None


async def _refuse_member(ctx: Context, *, police_too: bool = False) -> bool:
    """Members get a polite refusal (the police too, when `police_too` lets them see it);
    True when refused."""
    if ctx.is_coordinator or (police_too and is_police(ctx)):
        return False
    await ctx.reply(core_texts.COORDINATOR_ONLY.format(name=_command(ctx), **you_words(ctx.member)))
    return True


@intent("command:thongke")  # the parser maps /stats here
async def stats(ctx: Context) -> None:
    """This week so far: the whole park in a private chat, the group itself in a group."""
    if await _refuse_member(ctx):
        return
    group = None if ctx.is_private or ctx.group.kind == "private" else ctx.group.chat_id
    digest = await build_digest(
        ctx.session,
        ctx.settings,
        week_of(ctx.now, ctx.tz),
        ctx.now,
        group_chat_id=group,
        council_id=scope(ctx.settings),
    )
    await ctx.reply(digest.render_text(public=not ctx.is_private) + await _cameras(ctx))


async def _cameras(ctx: Context) -> str:
    """Cameras reported broken stay listed here until their incident is closed."""
    cameras = await open_cameras(ctx.session)
    if not cameras:
        return ""
    items = "; ".join(
        honour_texts.CAMERA_ITEM.format(
            name=c.name,
            code=incident_code(c.incident_pk),
            since=c.since.astimezone(ctx.tz).strftime("%d/%m"),
        )
        for c in cameras
    )
    return "\n" + honour_texts.CAMERAS_OPEN.format(n=len(cameras), items=items)


@intent("command:chuahoatdong")  # and /inactive here
async def inactive(ctx: Context) -> None:
    """Members with no interaction in the last `inactive_after_days` (public holidays not
    counted), sent privately; those on declared leave are listed apart, as the nudges do."""
    if await _refuse_member(ctx):
        return
    days = ctx.settings.engagement.inactive_after_days
    window = q.Window(
        start=working_days_back(ctx.settings, ctx.now, days),
        end=ctx.now,
        as_of=ctx.now,
        council_id=scope(ctx.settings),
    )
    group_pk = None if ctx.is_private or ctx.group.kind == "private" else ctx.group.id
    silent = await q.inactive_members(ctx.session, window, group_pk)
    ids = [m.member_pk for m in silent]
    back = await leaves_end(ctx.session, ctx.settings, ids, started_by=ctx.now)
    # Back from leave within the window: their silence is not long yet (as for the nudges).
    ends = {pk: leave.end for pk, leave in back.items()}
    people = [m for m in silent if ends.get(m.member_pk, window.start) <= window.start]
    away = [(m, back[m.member_pk]) for m in silent if ends.get(m.member_pk, ctx.now) > ctx.now]
    named = [m.member_pk for m in [*people[:MAX_LINES], *(m for m, _ in away[:MAX_LINES])]]
    rows = await ctx.session.execute(select(Member).where(Member.id.in_(named)))
    shown = {m.id: m for m in rows.scalars()}
    text = inactive_text(ctx, people, days, shown, away)
    if ctx.is_private:
        await ctx.reply(text)
        return
    # Names stay out of the group: no public shaming (DESIGN.md "Respect people").
    if ctx.member.private_chat_id:
        await ctx.say(ctx.member.private_chat_id, text)
        await ctx.reply(texts.STATS_PRIVATE_ONLY.format(**you_words(ctx.member)))
    else:
        await ctx.reply(
            texts.STATS_NEED_PRIVATE.format(n=len(people), days=days, **you_words(ctx.member))
        )


def inactive_text(
    ctx: Context,
    people: list[q.MemberLine],
    days: int,
    rows: dict[int, Member] | None = None,
    away: list[tuple[q.MemberLine, Leave]] | None = None,
) -> str:
    """The quiet members, one line each: "anh Cường (May Việt) · lần cuối: 01/12"; then
    those on leave: "chị Lan (May Việt) · đến 10/12", "anh Nam · vắng 08/12"."""
    away = away or []
    known = [rows[m.member_pk] for m in people[:MAX_LINES] if rows and m.member_pk in rows]
    known += [rows[m.member_pk] for m, _ in away[:MAX_LINES] if rows and m.member_pk in rows]
    known = list({r.id: r for r in known}.values())
    label_of = dict(zip([r.id for r in known], labels(known, enterprise_shown=True), strict=True))

    def who(m: q.MemberLine) -> dict[str, str]:
        return {
            "name": label_of.get(m.member_pk) or m.name or m.member_id or "?",
            "enterprise": f" ({m.enterprise})" if m.enterprise else "",
        }

    if not people:
        lines = [(texts.INACTIVE_NONE_BUT_LEAVE if away else texts.INACTIVE_NONE).format(days=days)]
    else:
        lines = [texts.INACTIVE_HEADER.format(days=days, n=len(people))]
    for m in people[:MAX_LINES]:
        last = (
            m.last_active_at.astimezone(ctx.tz).strftime("%d/%m")
            if m.last_active_at
            else texts.NEVER
        )
        lines.append(texts.INACTIVE_LINE.format(**who(m), last=last))
    if len(people) > MAX_LINES:
        lines.append(texts.INACTIVE_MORE.format(n=len(people) - MAX_LINES))
    if away:
        lines.append("\n" + texts.ON_LEAVE_HEADER.format(n=len(away)))
        for m, leave in away[:MAX_LINES]:
            lines.append(texts.ON_LEAVE_LINE.format(**who(m), away=away_label(leave, ctx.tz)))
        if len(away) > MAX_LINES:
            lines.append(texts.INACTIVE_MORE.format(n=len(away) - MAX_LINES))
    return "\n".join(lines)


@intent("command:tonghop")
async def today(ctx: Context) -> None:
    """What needs following up today, as the daily summary says it, at any hour."""
    if await _refuse_member(ctx, police_too=True):
        return
    await ctx.reply(await _today_text(ctx))


async def _today_text(ctx: Context) -> str:
    sections = await summary_sections(ctx.session, ctx.settings, ctx.now)
    day = summary_texts.weekday_date(ctx.now.astimezone(ctx.tz).date())
    if not sections:
        return summary_texts.TODAY_NOTHING.format(day=day)
    head = summary_texts.TODAY_HEAD.format(day=day)
    return "\n".join([head, *sections, summary_texts.SUMMARY_FOOTER])


# "tình hình hôm nay thế nào", "hom nay co gi moi khong", "tinh hinh sao roi": a coordinator
# asking the bot how things stand (folded words).
SITUATION_RE = re.compile(
    r"\b(?:tinh hinh|co gi moi|co chuyen gi|co viec gi)\b.*"
    r"\b(?:the nao|ra sao|sao roi|sao|khong|chua|gi)\b\W*$"
    r"|^\W*(?:hom nay )?(?:co gi moi|co chuyen gi|co viec gi)\b"
    r"|^\W*(?:tinh hinh (?:hom nay|trong ngay)|hom nay co gi)\b"
)
SITUATION_WORDS = 10
# Folded: an incident named ("tình hình vụ cổng 2 sao rồi", "SV3 sao rồi"): asked of it, not
# of the day.
ONE_INCIDENT_RE = re.compile(r"\b(?:vu|sv\s*\d+)\b")


# Before the incident hooks (23): asked minutes after his own report, "tình hình hôm nay" is
# about the day, not a detail of that report.
@hook(22)
async def coordinator_asks_how_things_stand(ctx: Context) -> bool:
    """ "hom nay tinh hinh the nao" from a coordinator, or the police: what /tonghop says, in
    private; asked in a group, the answer goes privately (it names people who are behind)."""
    parsed = ctx.parsed
    if parsed is None or parsed.type not in ("other", "question") or parsed.places:
        return False
    words = folded_words(ctx.text)
    if len(words.split()) > SITUATION_WORDS or SITUATION_RE.search(words) is None:
        return False
    if ONE_INCIDENT_RE.search(words) or not (ctx.is_coordinator or is_police(ctx)):
        return False
    if ctx.is_private:
        await ctx.reply(await _today_text(ctx))
        return True
    you = you_words(ctx.member)
    private = ctx.member.private_chat_id
    if private is None:
        await ctx.reply(core_texts.ASK_PRIVATELY.format(words="tình hình hôm nay", **you))
        return True
    await ctx.say(private, await _today_text(ctx), kind="reply", member_pk=ctx.member.id)
    await ctx.reply(core_texts.SENT_PRIVATELY.format(**you))
    return True
