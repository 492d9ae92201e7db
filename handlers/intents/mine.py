"""/cuatoi and "tuần này em điểm danh mấy lần": a member's own week at a glance, what the
bot recorded of them and what they still owe (open tasks, directives to acknowledge)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select

from handlers.codes import directive_code, task_code
from handlers.context import Context
from handlers.intents.incidents.understanding import folded_words
from handlers.registry import hook, intent
from handlers.texts import core as core_texts
from handlers.texts import mine as texts
from handlers.texts.requests import weekday_date
from models.engagement import owed_acks_stmt
from models.people import address, capitalized, title_of
from models.tables import Ack, CheckIn, Directive, Member, Report, Task

MAX_LINES = 8  # tasks or directives listed; a member rarely has more open at once
SHOWN_TEXT = 50  # characters of a directive's text quoted back


@intent("command:cuatoi")
async def mine(ctx: Context) -> None:
    """The member's week (see `reply_privately` for where it goes)."""
    await reply_privately(ctx, await my_week(ctx))


async def reply_privately(ctx: Context, text: str) -> None:
    """In private here, else privately when the bot can (it lists what the member still
    owes), in the group only when it cannot."""
    private = ctx.member.private_chat_id
    if ctx.is_private or not private:
        await ctx.reply(text)
        return
    await ctx.say(private, text, kind="reply", member_pk=ctx.member.id)
    await ctx.reply(core_texts.SENT_PRIVATELY.format(you=title_of(ctx.member)))


async def my_tasks(ctx: Context) -> str:
    """A member's open tasks alone (his /giaoviec), pointing to /cuatoi for the rest."""
    you = title_of(ctx.member)
    tasks = await _open_tasks(ctx)
    more = texts.MINE_TASKS_MORE.format(You=capitalized(you))
    if not tasks:
        return f"{texts.MINE_NO_TASKS.format(you=you)} {more}"
    return "\n".join([*_task_lines(ctx, tasks), more])


async def _open_tasks(ctx: Context) -> list[Task]:
    """The member's open tasks, the soonest due first."""
    stmt = (
        select(Task)
        .where(Task.assignee_pk == ctx.member.id, Task.status == "open")
        .order_by(Task.due_at.is_(None), Task.due_at, Task.id)
    )
    return list((await ctx.session.execute(stmt)).scalars())


def _task_lines(ctx: Context, tasks: list[Task]) -> list[str]:
    """ "📌 Việc đang giao cho anh (2):" and one line a task."""
    lines = [texts.MINE_TASKS.format(you=title_of(ctx.member), n=len(tasks))]
    for task in tasks[:MAX_LINES]:
        due = texts.MINE_TASK_DUE.format(due=_when(ctx, task.due_at)) if task.due_at else ""
        lines.append(texts.MINE_TASK.format(code=task_code(task.id), text=task.text, due=due))
    return lines


# Folded words of a member asking about their own record: "tuần này em điểm danh mấy lần",
# "em còn việc gì chưa làm không", "việc của em", "em còn thông báo nào chưa xác nhận".
# A question word is required: "em điểm danh rồi" is a check-in, not a question.
SELF_RE = re.compile(r"\b(?:em|e|toi|minh|chau)\b")
ASKS_OWN_RE = re.compile(
    r"\b(?:diem danh|bao cao)\b.*\b(?:may|bao nhieu) lan\b"
    r"|\b(?:con|co) (?:viec|thong bao) (?:gi|nao)\b"
    r"|^\W*(?:cac |nhung )?viec (?:cua|duoc giao cho) (?:em|e|toi|minh|chau)\b\W*(?:a|nhi)?\W*$"
)
MAX_WORDS = 14


@hook(22, needs="private")
async def member_asks_about_own_week(ctx: Context) -> bool:
    """In private, a short question about one's own record gets /cuatoi's answer."""
    parsed = ctx.parsed
    if parsed is None or parsed.type not in ("other", "question", "check_in") or parsed.places:
        return False
    words = folded_words(ctx.text)
    if len(words.split()) > MAX_WORDS or SELF_RE.search(words) is None:
        return False
    if ASKS_OWN_RE.search(words) is None:
        return False
    await ctx.reply(await my_week(ctx))
    return True


def week_start(ctx: Context) -> datetime:
    """Monday 00:00 of this week, local."""
    today = ctx.now.astimezone(ctx.tz).date() - timedelta(days=ctx.now.astimezone(ctx.tz).weekday())
    return datetime(today.year, today.month, today.day, tzinfo=ctx.tz)


async def my_week(ctx: Context) -> str:
    """The lines of the member's week; only what there is."""
    member, session, now = ctx.member, ctx.session, ctx.now
    start = week_start(ctx)
    you = title_of(member)
    lines = [
        texts.MINE_HEAD.format(Who=capitalized(address(member)), since=weekday_date(start.date()))
    ]
    count, last = (
        await session.execute(
            select(func.count(CheckIn.id), func.max(CheckIn.at)).where(
                CheckIn.member_pk == member.id, CheckIn.at >= start, CheckIn.at <= now
            )
        )
    ).one()
    if count:
        lines.append(texts.MINE_CHECKINS.format(n=count, last=_when(ctx, last)))
    else:
        lines.append(texts.MINE_NO_CHECKINS)
    reports = await session.scalar(
        select(func.count(Report.id)).where(
            Report.member_pk == member.id, Report.created_at >= start, Report.created_at <= now
        )
    )
    if reports:
        lines.append(texts.MINE_REPORTS.format(n=reports))
    tasks = await _open_tasks(ctx)
    if tasks:
        lines += _task_lines(ctx, tasks)
    owed = await _owed_directives(ctx)
    if owed:
        lines.append(texts.MINE_ACKS.format(you=you, n=len(owed)))
        for d in owed[:MAX_LINES]:
            lines.append(
                texts.MINE_ACK.format(
                    code=directive_code(d.id),
                    text=_cut(d.text),
                    number=d.id,
                    due=_when(ctx, d.deadline_at),
                )
            )
    if not tasks and not owed:
        lines.append(texts.MINE_NOTHING_OWED.format(you=you))
    return "\n".join(lines)


async def _owed_directives(ctx: Context) -> list[Directive]:
    """Open directives the member owes an acknowledgement (the one rule, `owes_ack`)."""
    owing = (
        owed_acks_stmt()
        .where(
            Directive.status == "open",
            Directive.deadline_at > ctx.now,
            Member.id == ctx.member.id,
            ~exists().where(Ack.directive_pk == Directive.id, Ack.member_pk == ctx.member.id),
        )
        .subquery("owing")
    )
    stmt = (
        select(Directive)
        .where(Directive.id.in_(select(owing.c.directive_pk)))
        .order_by(Directive.deadline_at, Directive.id)
    )
    return list((await ctx.session.execute(stmt)).scalars())


def _when(ctx: Context, at: datetime | None) -> str:
    """ "08:39 hôm nay", else "08:39 07/12"."""
    if at is None:
        return ""
    local = at.astimezone(ctx.tz)
    if local.date() == ctx.now.astimezone(ctx.tz).date():
        return f"{local:%H:%M} hôm nay"
    return f"{local:%H:%M %d/%m}"


def _cut(text: str) -> str:
    first = " ".join(text.split())
    return first if len(first) <= SHOWN_TEXT else first[: SHOWN_TEXT - 1].rsplit(" ", 1)[0] + "…"
